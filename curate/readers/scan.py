"""A numba scan of VPT jsonl bytes straight into columns: the fast path of `curate.readers.vpt`.

msgspec decodes an hour of VPT jsonl (72,000 lines, ~125 MB) in ~0.2 s, but building a Python
object per line and transposing them into columns costs twice that again. This kernel walks the
bytes once and writes only what the conversion rules read: a row of floats and a row of bitmasks
per line, and the events (positive `stats` deltas) as (line, counter) pairs, with no Python object
per line. Lines repeat their keys in the same order, so keys are compared with the same key of the
line before instead of scanned and looked up, and an unknown object, array or string equal to the
same member's value on an earlier line (the `inventory`) is valid without being parsed again.

Numbers are parsed as msgspec and Python's float() do: exactly, by Clinger's fast path (mantissa
below 2**53, decimal exponent within +-22, one exact operation); a longer number in a float field
(Java prints doubles with up to 17 digits) is copied aside and converted by Arrow's exact parser.

It accepts a strict subset of what msgspec accepts and declines (returns None) on anything else,
so the caller falls back to msgspec, which then gives the same result or the precise error:
malformed JSON, values nested deeper than 64, a number it cannot convert exactly, an escape or a
non-ASCII byte in a key or a string it matches, a UTF-16 surrogate escape anywhere, a duplicate
field or counter in one object, a negative or non-integer count, two counter names with one
64-bit hash. Skipped values are validated as msgspec validates them (grammar, escapes, control
characters), not decoded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numba import njit, types
from numba.extending import intrinsic
from numba.typed import Dict

from curate.contract import BINARY_ACTIONS, KEY_TO_ACTION, MOUSE_BUTTON_TO_ACTION
from curate.readers.stats import EVENTS_TYPE, event_name

# Field names the kernel reads; a field's id is its index (the kernel's dispatch uses these ids).
_FIELDS = (
    *("mouse", "keyboard", "isGuiOpen", "hotbar", "yaw", "pitch", "xpos", "ypos", "zpos", "stats"),
    *("x", "y", "dx", "dy", "buttons", "newButtons"),  # in `mouse`: ids 10-15
    "keys",  # in `keyboard`: id 16
)
_FLOATS = ("dx", "dy", "x", "y", "yaw", "pitch", "xpos", "ypos", "zpos")  # rows of `floats`
_KEYS, _BUTTONS, _NEW_BUTTONS, _GUI, _HOTBAR = range(5)  # rows of `ints`
_HAS_0, _ONLY_0 = 1, 2  # bits of the newButtons row: contains 0; is exactly [0]
_START, _LEN, _LAST_LINE, _LAST_COUNT, _NEXT = range(5)  # rows of the per-counter state
_MAX_DEPTH = 64
_MAX_DEFERRED = 40  # bytes of a number left to Arrow
_MAX_EXACT = 2**53
_POW10 = np.array([float(10**k) for k in range(23)])  # exact: 10**22 = 2**22 * 5**22, 5**22 < 2**53
# Members remembered per object (top level, mouse, keyboard), and the memo slots of one: key
# start, key length, field id, value start, value length, what the value decoded to.
_MEMO, _M = 32, 6
_TOP_MEMO, _MOUSE_MEMO, _KEYBOARD_MEMO = 0, _MEMO * _M, 2 * _MEMO * _M


@intrinsic
def _pointer(typingctx, array):
    """A typed pointer to an array's first element. Helpers called per byte or per key take
    pointers, not arrays: numba updates an array's reference count atomically around such calls,
    which took half the scan time. The caller keeps the array alive."""

    def codegen(context, builder, signature, args):
        return context.make_array(signature.args[0])(context, builder, args[0]).data

    return types.CPointer(array.dtype)(array), codegen


@njit(cache=True)
def _at(p, size, i):
    """Byte i, or 0 past the end (0 is valid nowhere in JSON, so every check then fails)."""
    return p[i] if i < size else 0


@njit(cache=True)
def _ws(p, size, i):
    while i < size:
        c = p[i]
        if c != 32 and c != 10 and c != 13 and c != 9:
            break
        i += 1
    return i


@njit(cache=True)
def _hex(c):
    if 48 <= c <= 57:
        return c - 48
    if 97 <= c <= 102:
        return c - 87
    if 65 <= c <= 70:
        return c - 55
    return -1


@njit(cache=True)
def _escape(c):
    """c may follow a backslash: one of " \\ / b f n r t (u is handled apart)."""
    return c == 34 or c == 92 or c == 47 or c == 98 or c == 102 or c == 110 or c == 114 or c == 116


@njit(cache=True)
def _skip_string(p, size, i):
    """i is just past an opening quote; the index past the closing quote, or -1 if invalid."""
    while i < size:
        c = p[i]
        if c == 34:
            return i + 1
        if c < 32:
            return -1
        if c == 92:
            e = _at(p, size, i + 1)
            if e == 117:
                code = 0
                for k in range(2, 6):
                    h = _hex(_at(p, size, i + k))
                    if h < 0:
                        return -1
                    code = code * 16 + h
                if 0xD800 <= code <= 0xDFFF:
                    return -1  # surrogates: msgspec's pairing rules are not worth mirroring
                i += 6
                continue
            if not _escape(e):
                return -1
            i += 2
            continue
        i += 1
    return -1


@njit(cache=True)
def _plain_string(p, size, i):
    """i is just past an opening quote; the index of the closing quote of a string of printable
    ASCII without escapes (its bytes are its text), or -1."""
    while i < size:
        c = p[i]
        if c == 34:
            return i
        if c < 32 or c > 127 or c == 92:
            return -1
        i += 1
    return -1


@njit(cache=True)
def _number(p, size, i):
    """The JSON number at i: (end, kind, int value, float value). kind -1: not a number;
    1: an integer below 2**53 in magnitude; 2: a decimal whose mantissa is below 2**53 and
    exponent within +-22, so one multiplication or division by an exact power of ten rounds it
    correctly (Clinger's fast path), as Python and msgspec do; 3: another number of at most 30
    digits and an exponent of at most 250, far from overflow and underflow, which Arrow's exact
    parser reads later (see `_defer`); 0: any other number."""
    neg = _at(p, size, i) == 45
    if neg:
        i += 1
    c = _at(p, size, i)
    if c < 48 or c > 57:
        return -1, -1, 0, 0.0
    mantissa, exponent, exact, integer, digits, e = 0, 0, True, True, 0, 0
    start = i
    if c == 48:
        i += 1
    else:
        while 48 <= c <= 57:
            if mantissa < _MAX_EXACT:
                mantissa = mantissa * 10 + (c - 48)
            else:
                exact = False
            i += 1
            c = _at(p, size, i)
    if _at(p, size, i) == 46:
        integer = False
        i += 1
        c = _at(p, size, i)
        if c < 48 or c > 57:
            return -1, -1, 0, 0.0
        start += 1  # the digits are i - start
        while 48 <= c <= 57:
            if mantissa < _MAX_EXACT:
                mantissa = mantissa * 10 + (c - 48)
                exponent -= 1
            else:
                exact = False
            i += 1
            c = _at(p, size, i)
    digits = i - start
    c = _at(p, size, i)
    if c == 101 or c == 69:
        integer = False
        i += 1
        c = _at(p, size, i)
        eneg = c == 45
        if c == 43 or c == 45:
            i += 1
            c = _at(p, size, i)
        if c < 48 or c > 57:
            return -1, -1, 0, 0.0
        while 48 <= c <= 57:
            if e < 1000:
                e = e * 10 + (c - 48)
            i += 1
            c = _at(p, size, i)
        exponent += -e if eneg else e
    if not exact or mantissa >= _MAX_EXACT or not integer and not -22 <= exponent <= 22:
        return i, 3 if digits <= 30 and e <= 250 else 0, 0, 0.0
    if integer:
        value = -mantissa if neg else mantissa
        return i, 1, value, float(value)  # "-0" is the integer 0, so 0.0 as in msgspec
    f = mantissa * _POW10[exponent] if exponent >= 0 else mantissa / _POW10[-exponent]
    return i, 2, 0, -f if neg else f


@njit(cache=True)
def _skip_number(p, size, i):
    """Validate and skip the JSON number at i: the index past it, or -1."""
    if _at(p, size, i) == 45:
        i += 1
    c = _at(p, size, i)
    if c == 48:
        i += 1
    elif 49 <= c <= 57:
        while 48 <= _at(p, size, i) <= 57:
            i += 1
    else:
        return -1
    if _at(p, size, i) == 46:
        i += 1
        if not 48 <= _at(p, size, i) <= 57:
            return -1
        while 48 <= _at(p, size, i) <= 57:
            i += 1
    c = _at(p, size, i)
    if c == 101 or c == 69:
        i += 1
        c = _at(p, size, i)
        if c == 43 or c == 45:
            i += 1
        if not 48 <= _at(p, size, i) <= 57:
            return -1
        while 48 <= _at(p, size, i) <= 57:
            i += 1
    return i


@njit(cache=True)
def _count(p, size, i):
    """A stats count at i, a JSON integer in [0, 2**53): (end, value), or (-1, 0) for anything
    else, which the caller declines."""
    c = _at(p, size, i)
    value = 0
    if c == 48:
        i += 1
    elif 49 <= c <= 57:
        while 48 <= c <= 57 and value < _MAX_EXACT:
            value = value * 10 + (c - 48)
            i += 1
            c = _at(p, size, i)
    else:
        return -1, 0
    c = _at(p, size, i)
    if value >= _MAX_EXACT or 48 <= c <= 57 or c == 46 or c == 101 or c == 69:
        return -1, 0
    return i, value


@njit(cache=True)
def _literal(p, size, i):
    """true/false/null at i: (end, 1/0/2), or (-1, -1)."""
    c, c1, c2, c3 = _at(p, size, i), _at(p, size, i + 1), _at(p, size, i + 2), _at(p, size, i + 3)
    if c == 116 and c1 == 114 and c2 == 117 and c3 == 101:
        return i + 4, 1
    if c == 110 and c1 == 117 and c2 == 108 and c3 == 108:
        return i + 4, 2
    if c == 102 and c1 == 97 and c2 == 108 and c3 == 115 and _at(p, size, i + 4) == 101:
        return i + 5, 0
    return -1, -1


@njit(cache=True)
def _colon(p, size, i):
    """After a key: the start of its value, or -1."""
    i = _ws(p, size, i)
    return _ws(p, size, i + 1) if _at(p, size, i) == 58 else -1


@njit(cache=True)
def _key(p, size, i):
    """An object key at i and its colon: (key start, key end, value start). Keys with escapes or
    non-ASCII bytes give -1: the kernel would have to decode them."""
    end = _plain_string(p, size, i + 1) if _at(p, size, i) == 34 else -1
    if end < 0:
        return -1, -1, -1
    return i + 1, end, _colon(p, size, end + 1)


@njit(cache=True)
def _same(p, size, a, b, n):
    """p[a:a + n] == p[b:b + n] (False for n < 0); no early exit, so LLVM vectorises the loop."""
    if n < 0 or b + n > size:
        return False
    diff = 0
    for j in range(n):
        diff |= p[a + j] ^ p[b + j]
    return diff == 0


@njit(cache=True)
def _known_key(p, size, i, start, n):
    """If the key at i is the validated n-byte key at `start`, the start of its value, else -1."""
    if n < 0 or _at(p, size, i) != 34 or _at(p, size, i + 1 + n) != 34:
        return -1
    return _colon(p, size, i + 2 + n) if _same(p, size, start, i + 1, n) else -1


@njit(cache=True)
def _skip_value(p, size, i, stack):
    """Validate and skip the JSON value at i: the index past it, or -1. stack: _MAX_DEPTH slots."""
    depth = 0
    while True:
        c = _at(p, size, i)
        if c == 123 or c == 91:  # { or [
            i = _ws(p, size, i + 1)
            if _at(p, size, i) == c + 2:  # } or ]: empty
                i += 1
            else:
                if depth == _MAX_DEPTH:
                    return -1
                stack[depth] = c
                depth += 1
                if c == 123:
                    i = _skip_key(p, size, i)
                    if i < 0:
                        return -1
                continue
        elif c == 34:
            i = _skip_string(p, size, i + 1)
        elif c == 45 or 48 <= c <= 57:
            i = _skip_number(p, size, i)
        else:
            i = _literal(p, size, i)[0]
        if i < 0:
            return -1
        # After a value: close containers until one continues or the outermost value ends.
        while True:
            if depth == 0:
                return i
            i = _ws(p, size, i)
            c = _at(p, size, i)
            if c == 44:  # ,
                i = _ws(p, size, i + 1)
                if stack[depth - 1] == 123:
                    i = _skip_key(p, size, i)
                    if i < 0:
                        return -1
                break
            if c != stack[depth - 1] + 2:
                return -1
            depth -= 1
            i += 1


@njit(cache=True)
def _skip_key(p, size, i):
    """A key of a skipped object (any valid string) and its colon: the value start, or -1."""
    i = _skip_string(p, size, i + 1) if _at(p, size, i) == 34 else -1
    return _colon(p, size, i) if i >= 0 else -1


@njit(cache=True)
def _field(p, start, end, names, bounds, lo, hi):
    """The id in [lo, hi) of the name equal to p[start:end], or -1."""
    n = end - start
    for k in range(lo, hi):
        if bounds[k + 1] - bounds[k] == n:
            b = bounds[k]
            j = 0
            while j < n and p[start + j] == names[b + j]:
                j += 1
            if j == n:
                return k
    return -1


@njit(cache=True)
def _member(p, size, i, memo, slot, names, bounds, lo, hi):
    """The member key at i: (its field id in [lo, hi) or -1 when unknown, its value start), or
    (-1, -1) when malformed. The memo slot (-1: none) holds the key at the same position of the
    same object on an earlier line; lines repeat their keys in order, so most keys are compared,
    not scanned and looked up."""
    if slot >= 0:
        j = _known_key(p, size, i, memo[slot], memo[slot + 1])
        if j >= 0:
            return memo[slot + 2], j
    start, end, j = _key(p, size, i)
    if j < 0:
        return -1, -1
    f = _field(p, start, end, names, bounds, lo, hi)
    if slot >= 0:
        memo[slot], memo[slot + 1], memo[slot + 2], memo[slot + 4] = start, end - start, f, -1
    return f, j


@njit(cache=True)
def _skip_member(p, size, i, memo, slot, stack):
    """Skip the value at i of an unknown member. An object, array or string ends where its bytes
    say, so bytes equal to the same member's validated value on an earlier line are valid."""
    if slot >= 0 and _same(p, size, memo[slot + 3], i, memo[slot + 4]):
        return i + memo[slot + 4]
    j = _skip_value(p, size, i, stack)
    if slot >= 0 and j >= 0 and (p[i] == 123 or p[i] == 91 or p[i] == 34):
        memo[slot + 3], memo[slot + 4] = i, j - i
    return j


@njit(cache=True)
def _next_member(p, size, i):
    """After a member's value: (index of the next key, False), (index past `}`, True) or -1."""
    i = _ws(p, size, i)
    c = _at(p, size, i)
    if c == 44:
        return _ws(p, size, i + 1), False
    if c == 125:
        return i + 1, True
    return -1, True


@njit(cache=True)
def _open(p, size, i):
    """At an object's `{`: (index of its first key, False), (index past `{}`, True) or -1."""
    if _at(p, size, i) != 123:
        return -1, True
    i = _ws(p, size, i + 1)
    return (i + 1, True) if _at(p, size, i) == 125 else (i, False)


@njit(cache=True)
def _float(p, size, i, nullable):
    """A float field: (end, value, deferred), NaN for null when nullable; end -1 to decline.
    A deferred number (NaN for now) is one `_number` leaves to Arrow."""
    if nullable and _at(p, size, i) == 110:
        end, kind = _literal(p, size, i)
        return (end, np.nan, False) if kind == 2 else (-1, 0.0, False)
    end, kind, _, value = _number(p, size, i)
    if kind == 1 or kind == 2:
        return end, value, False
    if kind == 3 and end - i <= _MAX_DEFERRED:
        return end, np.nan, True
    return -1, 0.0, False


@njit(cache=True)
def _defer(p, start, end, target, deferred, state):
    """Copy the number at p[start:end] to the deferred text and note its target (row * 9 + float
    row). deferred: pointers to text bytes, text offsets (from 1) and targets; state[5:7]: how
    many numbers and bytes it holds. Full-precision doubles (17 digits, like Java prints them)
    are past Clinger's fast path, and Arrow's parser (fast_float) rounds them exactly."""
    text, offsets, targets = deferred
    k, n = state[5], state[6]
    for j in range(start, end):
        text[n + j - start] = p[j]
    targets[k], offsets[k + 1] = target, n + end - start
    state[5], state[6] = k + 1, n + end - start


@njit(cache=True)
def _buttons(p, size, i):
    """A list of button ints: (end, mask of buttons 0-2, count, contains 0)."""
    if _at(p, size, i) != 91:
        return -1, 0, 0, False
    i = _ws(p, size, i + 1)
    mask, count, has0 = 0, 0, False
    if _at(p, size, i) == 93:
        return i + 1, mask, count, has0
    while True:
        i, kind, value, _ = _number(p, size, i)
        if kind != 1:
            return -1, 0, 0, False
        if 0 <= value <= 2:
            mask |= 1 << value
        has0 = has0 or value == 0
        count += 1
        i = _ws(p, size, i)
        c = _at(p, size, i)
        if c == 93:
            return i + 1, mask, count, has0
        if c != 44:
            return -1, 0, 0, False
        i = _ws(p, size, i + 1)


@njit(cache=True)
def _key_list(p, size, i, key_names, key_bounds, n_keys):
    """A list of key strings: (end, mask over the known keys)."""
    if _at(p, size, i) != 91:
        return -1, 0
    i = _ws(p, size, i + 1)
    mask = 0
    if _at(p, size, i) == 93:
        return i + 1, mask
    while True:
        end = _plain_string(p, size, i + 1) if _at(p, size, i) == 34 else -1
        if end < 0:
            return -1, 0
        k = _field(p, i + 1, end, key_names, key_bounds, 0, n_keys)
        if k >= 0:
            mask |= 1 << k
        i = _ws(p, size, end + 1)
        c = _at(p, size, i)
        if c == 93:
            return i + 1, mask
        if c != 44:
            return -1, 0
        i = _ws(p, size, i + 1)


@njit(cache=True)
def _mouse(p, size, i, row, floats, ints, cap, memo, names, bounds, stack, deferred, state):
    """The `mouse` object at i into the row (of pointers to (9, cap) floats and (5, cap) ints);
    the index past it, or -1."""
    i, closed = _open(p, size, i)
    seen, k = 0, 0
    while not closed:
        slot = _MOUSE_MEMO + k * _M if k < _MEMO else -1
        f, i = _member(p, size, i, memo, slot, names, bounds, 10, 16)
        if i < 0:
            return -1
        if f >= 0:
            if seen & (1 << f):
                return -1
            seen |= 1 << f
        if 10 <= f <= 13:  # x y dx dy
            r, start = (2, 3, 0, 1)[f - 10], i
            i, value, later = _float(p, size, i, f <= 11)
            floats[r * cap + row] = value
            if later:
                _defer(p, start, i, row * 9 + r, deferred, state)
        elif f == 14:
            i, mask, _, _ = _buttons(p, size, i)
            ints[_BUTTONS * cap + row] = mask
        elif f == 15:
            i, _, count, has0 = _buttons(p, size, i)
            ints[_NEW_BUTTONS * cap + row] = _HAS_0 * has0 + _ONLY_0 * (has0 and count == 1)
        else:
            i = _skip_member(p, size, i, memo, slot, stack)
        if i < 0:
            return -1
        i, closed = _next_member(p, size, i)
        k += 1
    return i


@njit(cache=True)
def _keyboard(
    p, size, i, row, ints, cap, memo, names, bounds, key_names, key_bounds, n_keys, stack
):
    """The `keyboard` object at i into the row (of a pointer to (5, cap) ints); the index past
    it, or -1. A list of keys equal to the last one decoded has its mask."""
    i, closed = _open(p, size, i)
    seen, k = False, 0
    while not closed:
        slot = _KEYBOARD_MEMO + k * _M if k < _MEMO else -1
        f, i = _member(p, size, i, memo, slot, names, bounds, 16, 17)
        if i < 0:
            return -1
        if f == 16:
            if seen:
                return -1
            seen = True
            if slot >= 0 and _same(p, size, memo[slot + 3], i, memo[slot + 4]):
                ints[_KEYS * cap + row] = memo[slot + 5]
                i += memo[slot + 4]
            else:
                j, mask = _key_list(p, size, i, key_names, key_bounds, n_keys)
                ints[_KEYS * cap + row] = mask
                if slot >= 0 and j >= 0:
                    memo[slot + 3], memo[slot + 4], memo[slot + 5] = i, j - i, mask
                i = j
        else:
            i = _skip_member(p, size, i, memo, slot, stack)
        if i < 0:
            return -1
        i, closed = _next_member(p, size, i)
        k += 1
    return i


@njit(cache=True)
def _hash(p, start, end):
    """FNV-1a, 64 bits."""
    h = np.uint64(0xCBF29CE484222325)
    for j in range(start, end):
        h = (h ^ np.uint64(p[j])) * np.uint64(0x100000001B3)
    return h


@njit(cache=True)
def _grow(a, n):
    """The 2-d a with room for at least n columns (doubling), its columns kept."""
    if n <= a.shape[1]:
        return a
    grown = np.empty((a.shape[0], max(n, 2 * a.shape[1])), a.dtype)
    grown[:, : a.shape[1]] = a
    return grown


@njit(cache=True)
def _stats(p, size, i, row, counters, n_max, events, e_max, ids, state):
    """Members of a `stats` object from the key at i: new counters and this line's events.
    Returns (index past the `}`, True), (-1, True), or (i, False) to pause at the key at i when the
    (5, n_max) counters or (2, e_max) events (pointers) are full: the caller grows them and calls
    again. state: [counters, events, first counter of the last line, previous counter of this
    line]. Each counter is first guessed as the one that followed the previous counter on an
    earlier line (lines list them in the same order), so most keys are compared, not hashed."""
    while True:
        if state[0] == n_max or state[1] == e_max:
            return i, False
        previous = state[3]
        c = state[2] if previous < 0 else counters[_NEXT * n_max + previous]
        j = -1
        if c >= 0:
            j = _known_key(p, size, i, counters[_START * n_max + c], counters[_LEN * n_max + c])
        if j >= 0:
            i = j
        else:
            start, end, i = _key(p, size, i)
            if i < 0:
                return -1, True
            n = end - start
            h = _hash(p, start, end)
            c = ids[h] if h in ids else -1  # noqa: SIM401 (numba's get gives an Optional)
            if c < 0:
                c = state[0]
                state[0] += 1
                counters[_START * n_max + c], counters[_LEN * n_max + c] = start, n
                counters[_LAST_LINE * n_max + c], counters[_NEXT * n_max + c] = -2, -1
                ids[h] = c
            elif counters[_LEN * n_max + c] != n:
                return -1, True  # two names with one hash: let msgspec do it
            elif not _same(p, size, counters[_START * n_max + c], start, n):
                return -1, True
        if previous < 0:
            state[2] = c
        else:
            counters[_NEXT * n_max + previous] = c
        state[3] = c
        i, count = _count(p, size, i)
        last_line = counters[_LAST_LINE * n_max + c]
        if i < 0 or last_line == row:
            return -1, True
        before = counters[_LAST_COUNT * n_max + c] if last_line == row - 1 else 0
        if row > 0 and count > before:
            k = state[1]
            state[1] += 1
            events[k], events[e_max + k] = row, c
        counters[_LAST_LINE * n_max + c], counters[_LAST_COUNT * n_max + c] = row, count
        i, closed = _next_member(p, size, i)
        if closed:
            return i, True


@njit(cache=True)
def _members(
    p, size, i, k, resume, row, fp, ip, cap, cp, c_max, ep, e_max, sp, ids, memo, tables, stack,
    deferred,
):  # fmt: skip
    """Members of a top-level object from its k-th, at i, into the row (of pointers to (9, cap)
    floats and (5, cap) ints). Returns (index past the `}`, k, 0), (-1, k, -1), or (i, k, 1) when
    the stats counters or events are full: the caller grows them and calls again with `resume`.
    Only pointers are used here: arrays reassigned in this loop would cost atomic reference
    counting per member."""
    names, bounds, key_names, key_bounds, n_keys = tables
    closed = False
    while not closed:
        if resume:
            resume = False
            i, done = _stats(p, size, i, row, cp, c_max, ep, e_max, ids, sp)
            if not done:
                return i, k, 1
        else:
            slot = _TOP_MEMO + k * _M if k < _MEMO else -1
            f, i = _member(p, size, i, memo, slot, names, bounds, 0, 10)
            if i < 0:
                return -1, k, -1
            if f >= 0:
                if sp[4] & (1 << f):
                    return -1, k, -1
                sp[4] |= 1 << f
            if f == 0:
                i = _mouse(p, size, i, row, fp, ip, cap, memo, names, bounds, stack, deferred, sp)
            elif f == 1:
                i = _keyboard(
                    p, size, i, row, ip, cap, memo, names, bounds, key_names, key_bounds, n_keys,
                    stack,
                )  # fmt: skip
            elif f == 2:
                i, value = _literal(p, size, i)
                ip[_GUI * cap + row] = value
                if value == 2:
                    return -1, k, -1
            elif f == 3:
                i, kind, value, _ = _number(p, size, i)
                ip[_HOTBAR * cap + row] = value
                if kind != 1:
                    return -1, k, -1
            elif 4 <= f <= 8:
                start = i
                i, value, later = _float(p, size, i, True)
                fp[f * cap + row] = value
                if later:
                    _defer(p, start, i, row * 9 + f, deferred, sp)
            elif f == 9:
                i, done = _open(p, size, i)
                sp[3] = -1
                if not done:
                    i, done = _stats(p, size, i, row, cp, c_max, ep, e_max, ids, sp)
                    if not done:
                        return i, k, 1
            else:
                i = _skip_member(p, size, i, memo, slot, stack)
        if i < 0:
            return -1, k, -1
        i, closed = _next_member(p, size, i)
        k += 1
    if sp[4] & 3 != 3:  # a VPT line has `mouse` and `keyboard`; without them, msgspec's error
        return -1, k, -1
    return i, k, 0 if i >= 0 else -1


@njit(cache=True)
def _scan(data, names_array, bounds_array, key_names_array, key_bounds_array, scratch, capacity):
    """Every top-level object of data. Returns (lines, floats, ints, counters, events, deferred
    text, its offsets, its targets, state); lines is -1 when data is outside what this kernel
    accepts. scratch: int64 room for the member memo and the skip stack, all -1."""
    p, size = _pointer(data), data.size
    tables = (
        _pointer(names_array),
        _pointer(bounds_array),
        _pointer(key_names_array),
        _pointer(key_bounds_array),
        key_bounds_array.size - 1,
    )
    memo, stack = _pointer(scratch), _pointer(scratch[3 * _MEMO * _M :])
    floats = np.empty((9, capacity), np.float64)
    ints = np.empty((5, capacity), np.int64)
    counters = np.empty((5, 64), np.int64)
    events = np.empty((2, capacity), np.int64)
    ids = Dict.empty(key_type=types.uint64, value_type=types.int64)
    text = np.empty((1, 1024), np.uint8)
    offsets, targets = np.zeros((1, 64), np.int64), np.empty((1, 64), np.int64)
    # counters, events, first counter of the last line, previous counter and fields seen on this
    # line, deferred numbers and their bytes
    state = np.array([0, 0, -1, -1, 0, 0, 0])
    fp, ip, cap = _pointer(floats), _pointer(ints), capacity
    cp, c_max, ep, e_max, sp = _pointer(counters), 64, _pointer(events), capacity, _pointer(state)
    row, i = 0, _ws(p, size, 0)
    fail = (-1, floats, ints, counters, events, text, offsets, targets, state)
    while i < size:
        # A line defers at most its 9 float fields.
        offsets, targets = _grow(offsets, state[5] + 10), _grow(targets, state[5] + 9)
        text = _grow(text, state[6] + 9 * _MAX_DEFERRED)
        deferred = (_pointer(text), _pointer(offsets), _pointer(targets))
        if row == cap:
            floats, ints = _grow(floats, row + 1), _grow(ints, row + 1)
            fp, ip, cap = _pointer(floats), _pointer(ints), floats.shape[1]
        for r in range(9):
            fp[r * cap + row] = 0.0 if r < 2 else np.nan
        for r in range(5):
            ip[r * cap + row] = 0
        i, closed = _open(p, size, i)
        state[4], k, status, resume = 0, 0, 0 if closed else 1, False
        while status == 1:
            i, k, status = _members(
                p, size, i, k, resume, row, fp, ip, cap, cp, c_max, ep, e_max, sp, ids, memo,
                tables, stack, deferred,
            )  # fmt: skip
            if status == 1:  # out of room for counters or events
                counters, events = _grow(counters, state[0] + 1), _grow(events, state[1] + 1)
                cp, c_max = _pointer(counters), counters.shape[1]
                ep, e_max = _pointer(events), events.shape[1]
                resume = True
        if i < 0 or status < 0:
            return fail
        row += 1
        i = _ws(p, size, i)  # msgspec reads a stream of values: any whitespace separates them
    return row, floats, ints, counters, events, text, offsets, targets, state


def _name_table(names) -> tuple[np.ndarray, np.ndarray]:
    """Names as one byte array and their offsets (name k is bytes[bounds[k]:bounds[k + 1]])."""
    encoded = [name.encode("ascii") for name in names]
    bounds = np.cumsum([0, *map(len, encoded)]).astype(np.int64)
    return np.frombuffer(b"".join(encoded), np.uint8), bounds


_NAMES, _BOUNDS = _name_table(_FIELDS)
_KEY_NAMES, _KEY_BOUNDS = _name_table(KEY_TO_ACTION)
_COLUMN = {name: i for i, name in enumerate(BINARY_ACTIONS)}
_KEY_COLUMNS = [_COLUMN[action] for action in KEY_TO_ACTION.values()]
_BUTTON_COLUMNS = [(b, _COLUMN[action]) for b, action in MOUSE_BUTTON_TO_ACTION.items()]


@dataclass(frozen=True)
class ScannedLines:
    """Decoded lines as columns; `vpt.tick_table` reads them through `columns`."""

    floats: np.ndarray  # (9, n) float64, rows as _FLOATS; NaN where the field is absent or null
    ints: np.ndarray  # (5, n) int64: key mask, button mask, newButtons bits, isGuiOpen, hotbar

    def __len__(self) -> int:
        return self.floats.shape[1]

    def __getitem__(self, ticks: slice) -> ScannedLines:
        return ScannedLines(self.floats[:, ticks], self.ints[:, ticks])

    def columns(self) -> tuple[np.ndarray, int, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """(binaries, stuck, hotbar, gui, floats) as `vpt._Columns` has them: the (n, 23) uint8
        keys and buttons, how many leading ticks the attack-stuck rule clears, the hotbar, the
        GUI flags and the float fields by name."""
        binaries = np.zeros((len(self), len(BINARY_ACTIONS)), np.uint8)
        for row, bits in ((_KEYS, enumerate(_KEY_COLUMNS)), (_BUTTONS, _BUTTON_COLUMNS)):
            for bit, column in bits:
                binaries[:, column] |= ((self.ints[row] >> bit) & 1).astype(np.uint8)
        new_buttons = self.ints[_NEW_BUTTONS]
        stuck = 0
        if len(self) and new_buttons[0] & _ONLY_0:
            released = np.flatnonzero(new_buttons[1:] & _HAS_0)
            stuck = int(released[0]) + 1 if released.size else len(self)
        floats = dict(zip(_FLOATS, self.floats, strict=True))
        return binaries, stuck, self.ints[_HOTBAR], self.ints[_GUI].astype(bool), floats


def _events(data: np.ndarray, n: int, counters: np.ndarray, events: np.ndarray) -> pa.ListArray:
    """Each line's events as event names sorted by name, as `stats.events_from_counts` gives."""
    names = np.array(
        [event_name(bytes(data[s : s + k]).decode("ascii")) for s, k in counters[:2].T],
        dtype=object,
    )
    order = np.argsort(names, kind="stable")
    rank = np.empty(len(names), np.int64)
    rank[order] = np.arange(len(names))
    lines, width = events[0], max(len(names), 1)
    # Events come in line order; sorting (line, name rank) keys puts each line's in name order.
    ranks = np.sort(lines * width + rank[events[1]], kind="stable") % width
    offsets = np.concatenate(([0], np.cumsum(np.bincount(lines, minlength=n)))).astype(np.int32)
    values = pa.array(names[order].tolist(), pa.string()).take(pa.array(ranks))
    return pa.ListArray.from_arrays(pa.array(offsets), values, type=EVENTS_TYPE)


def scan_vpt(buffer) -> tuple[ScannedLines, pa.ListArray] | None:
    """The lines and events of VPT jsonl bytes (any buffer), or None to use msgspec.

    Nothing returned refers to the buffer, so a memory map of it can be closed afterwards."""
    data = np.frombuffer(buffer, np.uint8)
    scratch = np.full(3 * _MEMO * _M + _MAX_DEPTH, -1, np.int64)
    n, floats, ints, counters, events, text, offsets, targets, state = _scan(
        data, _NAMES, _BOUNDS, _KEY_NAMES, _KEY_BOUNDS, scratch, data.size // 512 + 16
    )
    if n < 0:
        return None
    floats, ints = floats[:, :n], ints[:, :n]
    if state[5]:
        numbers = pa.StringArray.from_buffers(
            int(state[5]),
            pa.py_buffer(offsets[0, : state[5] + 1].astype(np.int32)),
            pa.py_buffer(text[0, : state[6]]),
        )
        rows, fields = np.divmod(targets[0, : state[5]], 9)
        floats[fields, rows] = pc.cast(numbers, pa.float64()).to_numpy()
    counters, events = counters[:, : state[0]], events[:, : state[1]]
    return ScannedLines(floats, ints), _events(data, n, counters, events)
