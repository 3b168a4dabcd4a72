"""OpenAI VPT contractor recordings: `<id>.jsonl` (+ `<id>.mp4`) -> canonical episode.

The jsonl parse is the hot path of action-only builds (a realistic hour is ~125 MB, mostly
`stats` and `inventory`). Lines are read about a megabyte at a time and each is decoded by msgspec
into typed structs that skip every field curate does not read and build no dict or list (keys and
buttons decode to tuples, counters to a struct of the recording's counter names); the conversion
rules of ACTION_SPACES.md section 2 then run as numpy operations over whole columns. Nothing is
compiled at run time and nothing outlives a call.

Measured on an hour (72,000 lines) on one core of a shared VM: the whole read ~0.33 s, of which
msgspec's decode ~0.1 s. polars' `read_ndjson` with a schema of only these fields takes ~0.5 s to
parse it (~0.28 s on two threads), pyarrow's JSON reader ~0.33 s (~0.25 s), and polars reads
lines msgspec refuses (a null where a value is required reads as absent, a number in `keys` as
text, a lone surrogate escape) and keeps the first of a repeated member where msgspec and `json`
keep the last, each of which would need a check of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain
from operator import attrgetter, methodcaller
from pathlib import Path
from typing import Annotated, NamedTuple

import msgspec
import numpy as np
import pyarrow as pa

from curate.contract import (
    BINARY_ACTIONS,
    CAMERA_SCALE,
    KEY_TO_ACTION,
    MOUSE_BUTTON_TO_ACTION,
    SCREEN_SCALE,
)
from curate.episode import Episode
from curate.readers import BAD_JSON, RecordingError, episode_id_of
from curate.readers.stats import event_name, events_from_counts, is_per_tick_counter

# Cumulative counters are never negative, and a tick table holds them as int64.
_Count = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]
_Slot = Annotated[int, msgspec.Meta(ge=0, le=8)]  # the selected hotbar slot
# A mouse move of more than a full turn (2400 units at VPT's 0.15 degrees a unit) in one tick is
# a corrupt value, not a move; a bound also rejects an infinite one.
_Delta = Annotated[float, msgspec.Meta(ge=-2400, le=2400)]
_JSON_SPACE = b" \t\r\n"  # a line of only these is blank (JSON's whitespace, nothing else)


# Every field but `mouse` and `keyboard` is optional, and a null in one counts as missing: the
# columns read None as the field's default.
class _Mouse(msgspec.Struct, gc=False):
    x: float | None = None
    y: float | None = None
    dx: _Delta | None = 0.0
    dy: _Delta | None = 0.0
    buttons: tuple[int, ...] | None = ()
    newButtons: tuple[int, ...] | None = ()  # noqa: N815 (the recorder's field name)


class _Keyboard(msgspec.Struct, gc=False):
    keys: tuple[str, ...] | None = ()


class _LineBase(msgspec.Struct, gc=False):
    """One jsonl line; fields older recorders omit have defaults, unknown fields are skipped."""

    mouse: _Mouse  # required: a JSON line without them is not a VPT recording
    keyboard: _Keyboard
    isGuiOpen: bool | None = False  # noqa: N815
    isGuiInventory: bool | None = None  # noqa: N815
    hotbar: _Slot | None = 0
    yaw: float | None = None
    pitch: float | None = None
    xpos: float | None = None
    ypos: float | None = None
    zpos: float | None = None


class _Line(_LineBase, gc=False):
    """A line with its counters as a dict: the rule every line must pass, checked one by one
    only to name the first line that does not."""

    stats: dict[str, _Count] | None = {}


class _Counters(msgspec.Struct):
    stats: dict[str, _Count] | None = {}


_LINE = msgspec.json.Decoder(_Line)
_COUNTERS = msgspec.json.Decoder(_Counters)


def _decoder(counters: Sequence[str], *, strict: bool = True) -> msgspec.json.Decoder:
    """A decoder whose `stats` is a struct of exactly `counters` (field `c<i>`, 0 when absent), so
    no line builds a dict; a counter outside `counters` fails the decode (`strict`) or is skipped
    unread."""
    names = [f"c{i}" for i in range(len(counters))]
    stats = msgspec.defstruct(
        "Stats",
        [(name, _Count, 0) for name in names],
        rename=dict(zip(names, counters, strict=True)),
        forbid_unknown_fields=strict,
        gc=False,
    )
    line = msgspec.defstruct(
        "TypedLine",
        [("stats", stats | None, msgspec.field(default_factory=stats))],
        bases=(_LineBase,),
        gc=False,
    )
    return msgspec.json.Decoder(line)


# Lines are read and decoded about a megabyte at a time: a chunk's text is still in the CPU cache
# when it is decoded, and its memory is reused by the next one (reading an hour, 125 MB, at once
# and then decoding it took half again as long).
_CHUNK = 1 << 20
_non_blank = methodcaller("strip", _JSON_SPACE)


def _chunks(path: Path) -> Iterator[list[bytes]]:
    """The file's lines, blank ones included (so lines keep their numbers), a chunk at a time."""
    with path.open("rb") as f:
        while chunk := f.readlines(_CHUNK):
            yield chunk


def _last_line(path: Path) -> bytes:
    """The last non-blank line (b"" if none), read from the end of the file."""
    with path.open("rb") as f:
        end, tail = f.seek(0, 2), b""
        while end > 0:
            start = max(0, end - _CHUNK)
            f.seek(start)
            tail = f.read(end - start) + tail
            end = start
            whole = tail.split(b"\n")[1 if start else 0 :]  # the first may have begun earlier
            for line in reversed(whole):
                if _non_blank(line):
                    return line
    return b""


def _decode(path: Path) -> tuple[list[_LineBase], list[str]]:
    """The non-blank lines of a VPT jsonl in file order (line order is tick order), decoded, and
    the counter names of their `stats`.

    Each line is decoded on its own, so a line holds exactly one JSON object. The counter names
    are taken from the last line (stats are cumulative, so it lists every counter the recording
    ever had). When a line has another, every line is first checked with its counters as a dict,
    which also names the first bad line, and the names are collected from them.
    """
    try:
        last = _last_line(path)
        if not last:
            return [], []
        try:
            counters = list(_COUNTERS.decode(last).stats or ())
            return _decode_lines(path, _decoder(counters).decode), counters
        except BAD_JSON:
            pass
        counters = _all_counters(path)
        # Every member of every line is valid; a counter that only a repeated `stats` member
        # before the last one of its line has does not count, and is skipped.
        return _decode_lines(path, _decoder(counters, strict=False).decode), counters
    except OSError as exc:
        raise RecordingError(path, f"cannot read: {exc.strerror}", code="unreadable") from exc


def _decode_lines(path: Path, decode: Callable[[bytes], _LineBase]) -> list[_LineBase]:
    lines: list[_LineBase] = []
    for chunk in _chunks(path):
        lines += map(decode, filter(_non_blank, chunk))
    return lines


def _all_counters(path: Path) -> list[str]:
    """The counter names of every line, each line checked with its counters as a dict (the rule
    every line must pass); the first line that fails is a `RecordingError`."""
    counters: dict[str, None] = {}
    before = 0  # lines in the chunks before this one
    for chunk in _chunks(path):
        try:
            stats = _field(map(_LINE.decode, filter(_non_blank, chunk)), "stats")
        except BAD_JSON:
            raise _first_bad_line(path, chunk, before) from None
        counters.update(dict.fromkeys(chain.from_iterable(s or () for s in stats)))
        before += len(chunk)
    return list(counters)


def _first_bad_line(path: Path, chunk: list[bytes], before: int) -> RecordingError:
    for number, text in enumerate(chunk, start=before + 1):
        if _non_blank(text):
            try:
                _LINE.decode(text)
            except BAD_JSON as exc:
                return RecordingError(path, f"bad VPT jsonl line: {exc}", number, code="bad_line")
    raise AssertionError("a line failed to decode, then decoded")  # pragma: no cover


def _distinct(values: Sequence) -> tuple[list, np.ndarray]:
    """The distinct values in first-seen order, and the index of each value among them.

    A recording repeats few distinct key sets, button sets and counter rows (counters change on
    few ticks), so each distinct one is converted once and gathered.
    """
    rows = {value: i for i, value in enumerate(dict.fromkeys(values))}
    return list(rows), np.fromiter(map(rows.__getitem__, values), np.int64, len(values))


_COLUMN = {name: i for i, name in enumerate(BINARY_ACTIONS)}
_KEY_COLUMN = {key: _COLUMN[action] for key, action in KEY_TO_ACTION.items()}
_BUTTON_COLUMN = {b: _COLUMN[action] for b, action in MOUSE_BUTTON_TO_ACTION.items()}
_ATTACK = _COLUMN["attack"]
_HOTBAR1 = _COLUMN["hotbar.1"]


def _flags(combos: Sequence[tuple], column_of: dict) -> np.ndarray:
    """An (n, len(BINARY_ACTIONS)) 0/1 matrix from per-line tuples of keys or buttons."""
    distinct, index = _distinct(combos)
    table = np.zeros((len(distinct), len(BINARY_ACTIONS)), np.uint8)
    for row, combo in enumerate(distinct):
        for value in combo or ():  # None: a null, as missing
            if value in column_of:
                table[row, column_of[value]] = 1
    return table[index]


def _column(structs: Iterable, name: str, dtype: type) -> np.ndarray:
    """A field of every struct as one numpy column (no per-line Python object is built)."""
    return np.fromiter(map(attrgetter(name), structs), dtype)


def _field(structs: Iterable, name: str) -> tuple:
    return tuple(map(attrgetter(name), structs))


def _floats(values: Sequence) -> np.ndarray:
    """Optional floats as float64, None as NaN."""
    return np.array(values, np.float64)


class _Columns(NamedTuple):
    """What the conversion rules read of the lines, one array per column."""

    binaries: np.ndarray  # (n, len(BINARY_ACTIONS)) uint8: the keys held and mouse buttons down
    stuck: int  # how many leading ticks lose button 0 to the attack-stuck rule
    hotbar: np.ndarray  # int64
    gui: np.ndarray  # bool
    inventory: np.ndarray  # bool: isGuiInventory is true
    inventory_unknown: np.ndarray  # bool: isGuiInventory is absent or null
    floats: dict[str, np.ndarray]  # dx dy x y yaw pitch xpos ypos zpos, NaN where None
    events: pa.ListArray


def _columns(lines: list[_LineBase], counters: list[str]) -> _Columns:
    """Each field is gathered over all lines with C-level `map(attrgetter(...))`, so no Python
    code runs per line and no per-line container is built for the garbage collector to scan."""
    n = len(lines)
    mice = _field(lines, "mouse")
    binaries = _flags(_field(_field(lines, "keyboard"), "keys"), _KEY_COLUMN)
    binaries |= _flags(_field(mice, "buttons"), _BUTTON_COLUMN)
    new_buttons = _field(mice, "newButtons")
    stuck = 0
    if new_buttons[0] == (0,):
        stuck = next((i for i in range(1, n) if 0 in (new_buttons[i] or ())), n)
    floats = {
        **{name: np.nan_to_num(_floats(_field(mice, name)), nan=0.0) for name in ("dx", "dy")},
        **{name: _floats(_field(mice, name)) for name in ("x", "y")},
        **{name: _floats(_field(lines, name)) for name in ("yaw", "pitch", "xpos", "ypos", "zpos")},
    }
    states, index = _distinct(_field(lines, "isGuiInventory"))  # True, False, None
    # Per-tick counters (play time, distance) are never events: their counts are not even read.
    kept = [i for i, key in enumerate(counters) if not is_per_tick_counter(event_name(key))]
    stats = _field(lines, "stats")
    if kept and None in stats:  # a null `stats`, as missing: every counter 0
        empty = type(next(s for s in stats if s is not None))()
        stats = tuple(empty if s is None else s for s in stats)
    counts = np.zeros((n, len(kept)), np.int64)
    for column, i in enumerate(kept):
        counts[:, column] = _column(stats, f"c{i}", np.int64)
    return _Columns(
        binaries,
        stuck,
        np.nan_to_num(_floats(_field(lines, "hotbar")), nan=0.0).astype(np.int64),
        _column(lines, "isGuiOpen", np.bool_),  # None reads as False
        np.array([state is True for state in states])[index],
        np.array([state is None for state in states])[index],
        floats,
        events_from_counts([counters[i] for i in kept], counts),
    )


def canonical_ticks(path: Path | str) -> pa.Table:
    """The canonical tick table of a VPT jsonl, one tick per non-blank line, by the conversion
    rules of VPT's loader (ACTION_SPACES.md section 2), run as numpy operations on whole columns.

    A line that is not a VPT line (malformed JSON, no `mouse` or `keyboard`, a value of the wrong
    type, a negative or non-integer count, a hotbar slot outside 0..8, a mouse delta beyond a
    full turn) is a `RecordingError` naming the file and the line.
    """
    path = Path(path)
    lines, counters = _decode(path)
    if not lines:
        raise RecordingError(path, "no ticks: the recording has no non-blank line", code="no_ticks")
    n = len(lines)
    binaries, stuck, hotbar, gui, inventory, unknown, floats, events = _columns(lines, counters)
    # Attack stuck: a recording that starts with the attack button freshly down has it stuck until
    # the next press of button 0; that line keeps it, every line before it loses it.
    binaries[:stuck, _ATTACK] = 0

    # Hotbar scroll: a change of the selected slot without a key is a hotbar action too; the slot
    # before the first line counts as 0.
    previous = np.concatenate(([0], hotbar[:-1]))
    changed = np.flatnonzero(hotbar != previous)
    binaries[changed, _HOTBAR1 + hotbar[changed]] = 1

    pitch = floats["dy"] * CAMERA_SCALE
    yaw = floats["dx"] * CAMERA_SCALE
    # The cursor exists only while a GUI is open (frame pixels = screen pixels * 360 / 720).
    cursor = {
        axis: pa.array(values / SCREEN_SCALE, pa.float32(), mask=~gui | np.isnan(values))
        for axis, values in (("cursor_x", floats["x"]), ("cursor_y", floats["y"]))
    }
    return pa.table(
        {
            "tick": pa.array(np.arange(n, dtype=np.int32)),
            **{name: pa.array(binaries[:, i]) for i, name in enumerate(BINARY_ACTIONS)},
            "camera_pitch": pa.array(pitch),
            "camera_yaw": pa.array(yaw),
            "null": pa.array(~binaries.any(axis=1) & (pitch == 0) & (yaw == 0)),
            "gui_open": pa.array(gui),
            # the player's inventory is the open GUI; false with no GUI open, unknown when the
            # line does not say which GUI is open
            "gui_inventory": pa.array(gui & inventory, mask=gui & unknown),
            **cursor,
            "hotbar": pa.array(hotbar.astype(np.int8)),
            **{
                col: pa.array(floats[field], mask=np.isnan(floats[field]))
                for col, field in (
                    ("x", "xpos"),
                    ("y", "ypos"),
                    ("z", "zpos"),
                    ("yaw", "yaw"),
                    ("pitch", "pitch"),
                )
            },
            "events": events,
        }
    )


def read_vpt(path: Path | str, video: bool = True) -> Episode:
    """Read one VPT recording; its `.mp4` beside it, when present, supplies the frames (decoded
    only when a step asks for them); `video=False` reads the actions alone.

    Frame count and line count must agree: a difference of at most 2 is trimmed from the end of the
    longer one with a warning, a larger one is a `RecordingError` (ACTION_SPACES.md section 2a).
    The check runs whenever the video is there, so an episode has the same ticks whatever is
    asked of it; action-only work on a lone `.jsonl` needs no video.
    """
    path = Path(path)
    ticks = canonical_ticks(path)
    warnings: list[str] = []
    frames = None
    mp4 = path.with_suffix(".mp4")
    if video and mp4.exists():
        from curate.readers.video import align_frames

        n_ticks, frames, note = align_frames(mp4, ticks.num_rows)
        if note:
            warnings.append(note)
        ticks = ticks.slice(0, n_ticks)
    return Episode(episode_id_of(path), "vpt", ticks, frames, tuple(warnings))
