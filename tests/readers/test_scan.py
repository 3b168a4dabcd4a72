"""The numba scan of VPT jsonl gives exactly the msgspec path's tick table, or declines."""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curate.contract import KEY_TO_ACTION
from curate.readers import RecordingError, vpt
from curate.readers.scan import scan_vpt

BENCH = Path(__file__).resolve().parents[2] / "bench"


def msgspec_table(path: Path, data: bytes):
    return vpt.tick_table(*vpt._decode_msgspec(path, data))


def scan_table(data: bytes):
    scanned = scan_vpt(data)
    return None if scanned is None else vpt.tick_table(*scanned)


def assert_same(path: Path, data: bytes, *, must_scan: bool) -> None:
    """The scan's table equals msgspec's; where msgspec fails, the scan declines."""
    try:
        want = msgspec_table(path, data)
    except RecordingError:
        assert scan_vpt(data) is None
        return
    got = scan_table(data)
    if got is None:
        assert not must_scan, "the scan declined a line it should read"
        return
    assert got.equals(want), (got.to_pylist(), want.to_pylist())


# --- random VPT-like text: any key order, any whitespace, unknown fields, odd numbers ---

WS = ["", "", "", "", " ", "\t", "  ", " \r"]
KEYS = [*KEY_TO_ACTION, "key.keyboard.x", "key.mouse.4"]
COUNTERS = [
    "minecraft.custom:minecraft.play_time",
    "minecraft.custom:minecraft.walk_one_cm",
    "minecraft.mine_block:minecraft.oak_log",
    "minecraft.pickup:minecraft.oak_log",
    "minecraft.craft_item:minecraft.stick",
    "mine_block:oak_log",  # the same event name as a prefixed counter
    "a",
]


class Raw(str):
    """JSON text written as is (numbers in a chosen spelling)."""


def readable(text: str) -> bool:
    """Whether the scan reads this number in a float field: itself (Clinger's fast path), or by
    deferring it to Arrow (at most 30 digits, an exponent of at most 250, 40 bytes)."""
    m = re.fullmatch(r"-?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?", text)
    assert m, text
    digits = m[1] + (m[2] or "")
    exponent = int(m[3] or 0) - len(m[2] or "")
    if int(digits) < 2**53 and (m[2] is None and m[3] is None or -22 <= exponent <= 22):
        return True
    return len(digits) <= 30 and abs(int(m[3] or 0)) <= 250 and len(text) <= 40


def number_text(rnd: random.Random) -> str:
    """A JSON number in one of many spellings: short, long, with exponents, negative zero."""
    kind = rnd.randrange(4)
    if kind == 0:  # Java and Python print doubles with up to 17 digits
        return repr(rnd.uniform(-1e4, 1e4) * 10 ** rnd.randint(-8, 8))
    if kind == 1:
        return str(rnd.randint(-(10**6), 10**6))
    if kind == 2:
        return rnd.choice(["-0", "-0.0", "0e0", "1E+2", "2.5e-3", "-7.25E1", "0.1", "1e23"])
    text = rnd.choice(["", "-"]) + (str(rnd.randint(0, 10 ** rnd.randint(1, 20))))
    if rnd.random() < 0.5:
        text += "." + "".join(rnd.choices("0123456789", k=rnd.randint(1, 12)))
    if rnd.random() < 0.5:
        text += rnd.choice("eE") + rnd.choice(["", "+", "-"]) + str(rnd.randint(0, 30))
    return text


def unknown_value(rnd: random.Random, depth: int = 0):
    """Any JSON value, nested, with strings that need escapes."""
    kind = rnd.randrange(8 if depth < 3 else 6)
    if kind == 0:
        return rnd.choice([None, True, False])
    if kind in (1, 2):
        return Raw(number_text(rnd))
    if kind in (3, 4):
        text = "".join(rnd.choices('ab"\\/\n\t\x01\x7f\u00e9\u4e2d', k=rnd.randint(0, 6)))
        return text + "\U0001f600" * (rnd.random() < 0.03)  # escaped as a surrogate pair: declined
    if kind == 5:
        return rnd.choice(["", "oak_log", "key.keyboard.w"])
    if kind == 6:
        return [unknown_value(rnd, depth + 1) for _ in range(rnd.randint(0, 3))]
    return {rnd.choice(["type", "q", "é", "\\"]): unknown_value(rnd, depth + 1) for _ in range(3)}


def render(rnd: random.Random, value) -> str:
    """value as JSON text with random whitespace and random escaping of strings."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=rnd.random() < 0.5)
    if isinstance(value, dict):
        members = [
            rnd.choice(WS) + render(rnd, k) + rnd.choice(WS) + ":" + rnd.choice(WS)
            + render(rnd, v) + rnd.choice(WS)
            for k, v in value.items()
        ]  # fmt: skip
        return "{" + ",".join(members) + rnd.choice(WS) + "}"
    if isinstance(value, list):
        return "[" + ",".join(rnd.choice(WS) + render(rnd, v) + rnd.choice(WS) for v in value) + "]"
    return json.dumps(value)


def line(rnd: random.Random, stats: dict[str, int]) -> tuple[str, bool]:
    """One line and whether the kernel must read it (False: it may decline)."""
    plain = True

    def number(*, integer=False, nullable=False):
        nonlocal plain
        if nullable and rnd.random() < 0.2:
            return None
        text = str(rnd.randint(-3, 12)) if integer else number_text(rnd)
        plain = plain and readable(text)
        return Raw(text)

    def some(*names):
        return [name for name in names if rnd.random() < 0.6]

    mouse: dict = {name: number(nullable=name in "xy") for name in some("x", "y", "dx", "dy")}
    if rnd.random() < 0.6:
        mouse["buttons"] = [Raw(str(rnd.randint(-1, 3))) for _ in range(rnd.randint(0, 3))]
    if rnd.random() < 0.6:
        mouse["newButtons"] = [Raw(rnd.choice("012") or "-0") for _ in range(rnd.randint(0, 2))]
    for name in some("scaledX", "dwheel"):
        mouse[name] = unknown_value(rnd)
    keyboard: dict = {}
    if rnd.random() < 0.6:
        keyboard["keys"] = rnd.sample(KEYS, rnd.randint(0, 4))
        if rnd.random() < 0.05:
            keyboard["keys"].append("key.keyboard.\u00fc")  # non-ASCII: declined
            plain = False
    for name in some("newKeys", "chars"):
        keyboard[name] = unknown_value(rnd)
    top: dict = {}
    if rnd.random() < 0.8:
        top["mouse"] = mouse
    if rnd.random() < 0.8:
        top["keyboard"] = keyboard
    if rnd.random() < 0.6:
        top["isGuiOpen"] = rnd.random() < 0.5
    if rnd.random() < 0.6:
        top["hotbar"] = number(integer=True)
    for name in some("yaw", "pitch", "xpos", "ypos", "zpos"):
        top[name] = number(nullable=True)
    for name in some("tick", "inventory", "isGuiInventory", "milli"):
        top[name] = unknown_value(rnd)
    for counter in COUNTERS:  # cumulative counts that also vanish and come back
        if rnd.random() < 0.3:
            stats[counter] = rnd.randint(0, 3) + stats.get(counter, 0)
    if rnd.random() < 0.9:
        top["stats"] = {k: Raw(str(v)) for k, v in stats.items() if rnd.random() < 0.85}
    order = list(top)
    rnd.shuffle(order)
    text = render(rnd, {k: top[k] for k in order})
    return text, plain and not re.search(r"\\u[dD][89abAB]", text)  # surrogates: declined


def recording(rnd: random.Random) -> tuple[bytes, bool]:
    """A few lines with blank lines between, and whether the kernel must read them all."""
    stats: dict[str, int] = {}
    out, plain = [], True
    for _ in range(rnd.randint(1, 8)):
        text, ok = line(rnd, stats)
        out.append(text)
        plain = plain and ok
        if rnd.random() < 0.2:
            out.append(rnd.choice(["", "  ", "\t", " \r"]))
    return ("\n".join(out) + rnd.choice(["", "\n", "\r\n"])).encode(), plain


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**64))
def test_scan_equals_msgspec(seed):
    data, plain = recording(random.Random(seed))
    assert_same(Path("r.jsonl"), data, must_scan=plain)


def test_realistic_hour_sample_equals_msgspec(tmp_path):
    sys.path.insert(0, str(BENCH))
    try:
        import bench_label
    finally:
        sys.path.remove(str(BENCH))
    path = tmp_path / "hour.jsonl"
    bench_label.generate(path, 3000, seed=3)
    assert_same(path, path.read_bytes(), must_scan=True)


def test_growth_of_rows_counters_and_events():
    # Many short lines (more than the first guess of rows), 300 counters (more than the first 64),
    # every counter rising on every line (more events than rows).
    lines = [json.dumps({"stats": {f"c{k}": t for k in range(300)}}) for t in range(40)]
    data = ("\n".join(lines + ["{}"] * 5000)).encode()
    assert_same(Path("g.jsonl"), data, must_scan=True)


# --- lines the scan declines: msgspec then reads them, or names the bad line ---

GOOD = json.dumps({"mouse": {"dx": 1.5, "buttons": [0]}, "keyboard": {}, "stats": {"a": 1}})
BAD = [
    '{"mouse": {"dx": "fast"}}',
    "{not json",
    "[1, 2]",
    '{"a": [1,]}',
    '{"a": {"b": 1,}}',
    '{"a": "\x01"}',
    '{"a": "\\x"}',
    '{"a": "\\u12"}',
    '{"a": "\\ud800"}',
    '{"a": 01}',
    '{"a": 1.}',
    '{"a": -}',
    '{"a": tru}',
    '{"hotbar": 1.0}',
    '{"isGuiOpen": 0}',
    '{"isGuiOpen": null}',
    '{"mouse": null}',
    '{"mouse": {"dx": null}}',
    '{"mouse": {"buttons": [0.0]}}',
    '{"keyboard": {"keys": [1]}}',
    '{"stats": {"a": null}}',
    '{"stats": {"a": "1"}}',
    '{"yaw": 1e400}',
    '{"a": 1} x',
    '{"a": 1',
]
DECLINED = [
    '{"stats": {"a": 1.5}}',  # msgspec's dict path reads float counts
    '{"stats": {"a": -1}}',
    '{"stats": {"a": 1, "a": 2}}',
    '{"mouse": {"x": 1}, "mouse": {"y": 2}}',  # the second object replaces the first
    '{"keyboard": {"keys": ["key.keyboard.\\u0077"]}}',
    '{"hot\\u0062ar": 3}',
    '{"yaw": 1.23456789012345678901234567890123}',  # more digits than are deferred to Arrow
    '{"yaw": 1e251}',
    '{"hotbar": 9007199254740993}',
    '{"a": "\\ud83d\\ude00"}',
    '{"a": ' + "[" * 70 + "]" * 70 + "}",
]


@pytest.mark.parametrize("text", BAD + DECLINED)
def test_declines_what_it_does_not_read(text):
    data = f"{GOOD}\n\n{text}\n".encode()
    assert scan_vpt(data) is None
    assert_same(Path("d.jsonl"), data, must_scan=False)


@pytest.mark.parametrize("text", BAD)
def test_read_vpt_names_the_bad_line_either_way(tmp_path, monkeypatch, text):
    path = tmp_path / "bad.jsonl"
    path.write_text(f"{GOOD}\n\n{text}\n")
    errors = []
    for after in (1 << 62, 0):  # msgspec only; scan first
        monkeypatch.setattr(vpt, "SCAN_AFTER_BYTES", after)
        with pytest.raises(RecordingError) as info:
            vpt.read_vpt(path)
        errors.append((info.value.line, str(info.value)))
    assert errors[0] == errors[1] and errors[0][0] == 3


def test_read_vpt_scans_once_it_pays(tmp_path, monkeypatch):
    path = tmp_path / "r.jsonl"
    path.write_text(f"{GOOD}\n{GOOD}\n")
    monkeypatch.setattr(vpt, "SCAN_AFTER_BYTES", 0)
    lines, _ = vpt.decode_lines(path)  # the memory map closes after the scan
    assert not isinstance(lines, list)
    episode = vpt.read_vpt(path)
    monkeypatch.setattr(vpt, "SCAN_AFTER_BYTES", 1 << 62)
    assert episode.ticks.equals(vpt.read_vpt(path).ticks)
