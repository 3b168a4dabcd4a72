"""The VPT reader against the rules of ACTION_SPACES.md sections 1, 2, 2a and 8."""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
from pathlib import Path
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curate.contract import (
    BINARY_ACTIONS,
    CAMERA_SCALE,
    FRAME_HEIGHT,
    KEY_TO_ACTION,
    MOUSE_BUTTON_TO_ACTION,
    SCREEN_HEIGHT,
)
from curate.episode import TICK_SCHEMA
from curate.readers import RecordingError, read_episode, vpt
from curate.readers.stats import event_name, is_per_tick_counter
from curate.readers.vpt import canonical_ticks, read_vpt
from curate.testing import vpt_line, write_vpt

BENCH = Path(__file__).resolve().parents[2] / "bench"

# Another project's 25-column encoding of the slices (see its SOURCE.md), then yaw, pitch.
SOLARIS_COLUMNS = [
    "inventory",
    "ESC",
    *(f"hotbar.{i}" for i in range(1, 10)),
    "forward",
    "back",
    "left",
    "right",
    "jump",
    "sneak",
    "sprint",
    "swapHands",
    "attack",
    "use",
    "pickItem",
    "drop",
]
SLICES = {
    "all_off": slice(0, 1),
    "attack_stuck_offset_unstuck_before": slice(2, 4),
    "hotbar_offset_set_before_slice": slice(2, 4),
    "attack_stuck": slice(None),
    "each_binary_on": slice(None),
}


def actions(path) -> list[dict]:
    return read_vpt(path).ticks.to_pylist()


@pytest.mark.parametrize("name", sorted(SLICES))
def test_golden_slices(slices, name):
    expected = np.array(json.loads((slices / f"{name}.expected.json").read_text()), np.float64)
    rows = actions(slices / f"{name}.jsonl")[SLICES[name]]
    got = np.array(
        [[r[c] for c in SOLARIS_COLUMNS] + [r["camera_yaw"], r["camera_pitch"]] for r in rows],
        np.float64,
    )
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_blank_lines_skipped_and_tick_field_ignored(slices):
    # each_binary_on.jsonl repeats and jumps `tick` values and ends with a blank line.
    source = slices / "each_binary_on.jsonl"
    lines = [line for line in source.read_text().split("\n") if line.strip()]
    episode = read_vpt(source)
    assert len(episode) == len(lines)
    assert episode.ticks.column("tick").to_pylist() == list(range(len(lines)))


def test_every_key_maps(tmp_path):
    keys = [key.removeprefix("key.keyboard.") for key in KEY_TO_ACTION]
    path = write_vpt(
        tmp_path / "k.jsonl", [vpt_line(keys=[k]) for k in keys] + [vpt_line(keys=["x"])]
    )
    rows = actions(path)
    for row, key in zip(rows, KEY_TO_ACTION, strict=False):
        on = [a for a in BINARY_ACTIONS if row[a]]
        assert on == [KEY_TO_ACTION[key]], key
    assert rows[-1]["null"], "an unknown key is ignored"


def test_camera_is_float_pitch_then_yaw(tmp_path):
    rows = actions(write_vpt(tmp_path / "c.jsonl", [vpt_line(dx=37.5, dy=-2.0)]))
    assert rows[0]["camera_yaw"] == pytest.approx(5.625)  # VPT's loader would truncate to 5
    assert rows[0]["camera_pitch"] == pytest.approx(-0.3)


def test_mouse_buttons(tmp_path):
    rows = actions(write_vpt(tmp_path / "b.jsonl", [vpt_line(buttons=[b]) for b in (0, 1, 2)]))
    assert [(r["attack"], r["use"], r["pickItem"]) for r in rows] == [
        (1, 0, 0),
        (0, 1, 0),
        (0, 0, 1),
    ]


def test_attack_stuck_without_release_clears_whole_recording(tmp_path):
    lines = [vpt_line(buttons=[0], new_buttons=[0])] + [vpt_line(buttons=[0])] * 3
    assert [r["attack"] for r in actions(write_vpt(tmp_path / "a.jsonl", lines))] == [0, 0, 0, 0]


def test_attack_not_stuck_when_first_press_is_not_exactly_button_0(tmp_path):
    lines = [vpt_line(buttons=[0, 1], new_buttons=[0, 1]), vpt_line(buttons=[0])]
    assert [r["attack"] for r in actions(write_vpt(tmp_path / "a.jsonl", lines))] == [1, 1]


def test_hotbar_scroll_from_initial_zero(tmp_path):
    lines = [vpt_line(hotbar=3), vpt_line(hotbar=3), vpt_line(hotbar=0)]
    rows = actions(write_vpt(tmp_path / "h.jsonl", lines))
    assert [[a for a in BINARY_ACTIONS if r[a]] for r in rows] == [["hotbar.4"], [], ["hotbar.1"]]
    assert [r["hotbar"] for r in rows] == [3, 3, 0]
    assert [r["null"] for r in rows] == [False, True, False], "a scroll-only tick is not null"


def test_null_definition(tmp_path):
    lines = [vpt_line(), vpt_line(dx=0.1), vpt_line(keys=["escape"]), vpt_line(keys=["f13"])]
    assert [r["null"] for r in actions(write_vpt(tmp_path / "n.jsonl", lines))] == [
        True,
        False,
        False,
        True,
    ]


def test_gui_cursor_on_frame_pixels(tmp_path):
    lines = [vpt_line(isGuiOpen=True, x=700.0, y=100.0), vpt_line(x=700.0, y=100.0)]
    rows = actions(write_vpt(tmp_path / "g.jsonl", lines))
    assert (rows[0]["gui_open"], rows[0]["cursor_x"], rows[0]["cursor_y"]) == (True, 350.0, 50.0)
    assert (rows[1]["gui_open"], rows[1]["cursor_x"], rows[1]["cursor_y"]) == (False, None, None)


def test_gui_inventory_says_which_gui_is_open(tmp_path):
    path = tmp_path / "i.jsonl"
    path.write_text(
        "\n".join(
            json.dumps(line)
            for line in [
                vpt_line(isGuiOpen=True, isGuiInventory=True),
                vpt_line(isGuiOpen=True, isGuiInventory=False),  # a chest, a crafting table
                vpt_line(isGuiOpen=False, isGuiInventory=True),  # no GUI: not the inventory
                {"mouse": {}, "keyboard": {}, "isGuiOpen": True},  # an older recorder: unknown
                {"mouse": {}, "keyboard": {}},
            ]
        )
    )
    assert [r["gui_inventory"] for r in actions(path)] == [True, False, False, None, False]


def test_events_are_positive_stats_deltas(tmp_path):
    mine = "minecraft.mine_block:minecraft.oak_log"
    play = "minecraft.custom:minecraft.play_time"
    jump = "minecraft.custom:minecraft.jump"
    lines = [
        vpt_line(stats={mine: 2, play: 1}),  # tick 0: a baseline, never events
        vpt_line(stats={mine: 2, play: 2, jump: 1}),
        vpt_line(stats={mine: 3, play: 3, "minecraft.pickup:minecraft.oak_log": 1}),
        vpt_line(stats={mine: 3}),  # a counter that vanishes is no event
    ]
    rows = actions(write_vpt(tmp_path / "e.jsonl", lines))
    # play_time grows on every tick: a per-tick counter, never an event (section 8)
    assert [r["events"] for r in rows] == [
        [],
        ["custom:jump"],
        ["mine_block:oak_log", "pickup:oak_log"],
        [],
    ]


@pytest.mark.parametrize("last", [{"a": 5, "b": 1, "c": 9}, {"a": 5, "c": 9}, {"a": 5}, {}])
def test_counters_missing_from_the_last_line_still_count(tmp_path, last):
    # Counters are read by the names of the last line; a line with another name makes the reader
    # collect the names of every line first. The events are the same either way.
    stats = [{"a": 1}, {"a": 2, "b": 1}, {"a": 2, "b": 1, "c": 9}, last]
    rows = actions(write_vpt(tmp_path / "s.jsonl", [vpt_line(stats=s) for s in stats]))
    assert [r["events"] for r in rows][:3] == [[], ["a", "b"], ["c"]]
    assert rows[3]["events"] == (["a"] if last else [])


def test_missing_optional_fields_are_accepted(tmp_path):
    path = tmp_path / "old.jsonl"
    path.write_text(
        '{"mouse": {"dx": 10}, "keyboard": {"keys": ["key.keyboard.w"]}}\n'
        '{"mouse": {}, "keyboard": {}}\n'
    )
    rows = actions(path)
    assert rows[0]["forward"] == 1 and rows[0]["camera_yaw"] == pytest.approx(1.5)
    assert rows[1]["null"] and rows[1]["yaw"] is None


GOOD = '{"mouse": {"dx": 1.5, "buttons": [0]}, "keyboard": {}, "stats": {"a": 1}}'


@pytest.mark.parametrize(
    "bad, reason",
    [
        ('{"mouse": {"dx": "fast"}, "keyboard": {}}', "Expected `float"),
        ("{not json", "malformed"),
        ("[1, 2]", "object"),
        ('{"keyboard": {}}', "missing required field `mouse`"),
        ('{"mouse": {}}', "missing required field `keyboard`"),
        ('{"mouse": null, "keyboard": {}}', "null"),
        ('{"mouse": {"dx": 1e400}, "keyboard": {}}', "out of range"),
        ('{"mouse": {"dx": 12345678901234567890123}, "keyboard": {}}', "<= 2400"),
        ('{"mouse": {"dy": -2400.5}, "keyboard": {}}', ">= -2400"),
        ('{"mouse": {"buttons": [0.0]}, "keyboard": {}}', "Expected `int`"),
        ('{"mouse": {"buttons": [true]}, "keyboard": {}}', "Expected `int`"),
        ('{"mouse": {}, "keyboard": {"keys": [1]}}', "Expected `str`"),
        ('{"mouse": {}, "keyboard": {}, "isGuiOpen": 0}', "Expected `bool"),
        ('{"mouse": {}, "keyboard": {}, "isGuiInventory": "yes"}', "Expected `bool | null`"),
        ('{"mouse": {}, "keyboard": {}, "hotbar": 1.0}', "Expected `int"),
        ('{"mouse": {}, "keyboard": {}, "hotbar": 9}', "<= 8"),
        ('{"mouse": {}, "keyboard": {}, "hotbar": -1}', ">= 0"),
        ('{"mouse": {}, "keyboard": {}, "yaw": "1"}', "Expected `float | null`"),
        ('{"mouse": {}, "keyboard": {}, "stats": {"a": -1}}', ">= 0"),
        ('{"mouse": {}, "keyboard": {}, "stats": {"a": 1.5}}', "Expected `int"),
        ('{"mouse": {}, "keyboard": {}, "stats": {"a": 9.0}}', "Expected `int"),
        ('{"mouse": {}, "keyboard": {}, "stats": {"a": null}}', "Expected `int"),
        ('{"mouse": {}, "keyboard": {}, "stats": {"a": "1"}}', "Expected `int"),
        ('{"mouse": {}, "keyboard": {}, "stats": {"a": 9223372036854775808}}', "<= "),
        ('{"mouse": {}, "keyboard": {}, "stats": {"a": 2, "a": -1}}', ">= 0"),
        ('{"mouse": {}, "keyboard": {}, "stats": []}', "Expected `object"),
        ('{"mouse": {}, "keyboard": {}, "tick": "\\ud800"}', ""),  # a lone surrogate
        ('{"mouse": {}, "keyboard": {}} {"mouse": {}, "keyboard": {}}', "trailing"),
        ('{"mouse": {}, "keyboard": {}}x', "trailing"),
        ('{"mouse": {},\n "keyboard": {}}', "truncated"),  # one object on two lines
        ("\f", "malformed"),  # a form feed is not JSON whitespace
        ('{"mouse": {}, "keyboard": {}', "truncated"),
    ],
)
def test_bad_line_names_file_and_line(tmp_path, bad, reason):
    path = tmp_path / "bad.jsonl"
    path.write_text(GOOD + "\n \t\r\n" + bad + "\n" + GOOD + "\n")
    with pytest.raises(RecordingError) as info:
        read_vpt(path)
    assert info.value.line == 3 and "bad.jsonl:3" in str(info.value)
    assert reason.lower() in str(info.value).lower()
    assert reference(path.read_bytes()) == 3


def test_a_bad_last_line_is_named(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(GOOD + "\n" + GOOD + "\n" + '{"mouse": {}, "keyboard": {}, "stats": {"a": -2}}')
    with pytest.raises(RecordingError, match="bad.jsonl:3"):
        read_vpt(path)


def test_json_lines_that_are_not_vpt_are_refused(tmp_path, rollouts):
    # a MineStudio action.jsonl is JSON lines too, but has no mouse or keyboard
    with pytest.raises(RecordingError, match="missing required field `mouse`"):
        read_vpt(rollouts[0] / "action.jsonl")


def test_empty_recording_is_an_error(tmp_path):
    (tmp_path / "empty.jsonl").write_text("\n \r\n\t\n")
    with pytest.raises(RecordingError, match="no ticks"):
        read_episode(tmp_path / "empty.jsonl")


def test_unreadable_recording_is_an_error(tmp_path):
    with pytest.raises(RecordingError, match="cannot read"):
        canonical_ticks(tmp_path / "missing.jsonl")


def test_no_compiler_and_no_process_state():
    # The reader loads no JIT compiler, leaves the garbage collector as it found it, and reads a
    # file the same way however much the process read before.
    code = (
        "import gc, sys\n"
        "from curate.readers.vpt import canonical_ticks\n"
        "from curate.testing import vpt_line, write_vpt\n"
        "import pathlib, tempfile\n"
        "path = write_vpt(pathlib.Path(tempfile.mkdtemp()) / 'r.jsonl', [vpt_line()] * 3)\n"
        "first = canonical_ticks(path)\n"
        "for _ in range(3): canonical_ticks(path)\n"
        "assert canonical_ticks(path).equals(first)\n"
        "assert 'numba' not in sys.modules, 'numba imported'\n"
        "assert gc.isenabled()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- the reader equals a plain per-line reading of the rules ---
#
# `reference` reads each line with the standard library's json and applies the rules of sections
# 1, 2 and 8 one line at a time, as they are written; it is the specification of what the
# vectorised reader accepts and what it makes of it.


class Obj(list):
    """A JSON object as its members in file order, repeated names included (every occurrence of a
    member curate reads must be valid; the last one counts, as in msgspec and `json`)."""


class Bad(Exception):
    pass


def members(obj: Obj, name: str) -> list:
    return [value for key, value in obj if key == name]


def plain(value):
    if isinstance(value, Obj):
        return {key: plain(v) for key, v in value}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def valid(kind: str, value) -> bool:
    if value is None:  # a null counts as missing; `mouse` and `keyboard` must be there
        return kind != "object"
    kind = kind.rstrip("?")
    if kind == "float":
        return type(value) in (int, float) and math.isfinite(float(value))
    if kind == "bool":
        return type(value) is bool
    if kind == "slot":
        return type(value) is int and 0 <= value <= 8
    if kind == "delta":  # a mouse move within a full turn
        return type(value) in (int, float) and -2400 <= value <= 2400
    if kind == "ints":
        return type(value) is list and all(type(v) is int for v in value)
    if kind == "strs":
        return type(value) is list and all(type(v) is str for v in value)
    if kind == "counts":
        return isinstance(value, Obj) and all(type(v) is int and 0 <= v < 2**63 for _, v in value)
    return isinstance(value, Obj)  # "object"


TOP = {
    "mouse": "object",
    "keyboard": "object",
    "isGuiOpen": "bool",
    "isGuiInventory": "bool?",
    "hotbar": "slot",
    **dict.fromkeys(("yaw", "pitch", "xpos", "ypos", "zpos"), "float?"),
    "stats": "counts",
}
MOUSE = {"x": "float?", "y": "float?", "dx": "delta", "dy": "delta"}
MOUSE |= {"buttons": "ints", "newButtons": "ints"}


def check(line) -> dict:
    """The line as plain Python values, or `Bad`."""
    if not isinstance(line, Obj) or not members(line, "mouse") or not members(line, "keyboard"):
        raise Bad
    if not all(valid(kind, v) for name, kind in TOP.items() for v in members(line, name)):
        raise Bad
    for mouse in members(line, "mouse"):
        if not all(valid(k, v) for name, k in MOUSE.items() for v in members(mouse, name)):
            raise Bad
    for keyboard in members(line, "keyboard"):
        if not all(valid("strs", v) for v in members(keyboard, "keys")):
            raise Bad
    return plain(line)


def refuse(constant: str):
    raise Bad  # NaN and Infinity are not JSON


def reference(data: bytes) -> list[dict] | int:
    """The tick rows of a VPT jsonl, or the number of its first line that is not a VPT line."""
    lines = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip(b" \t\r"):
            continue
        try:
            line = json.loads(raw.decode(), object_pairs_hook=Obj, parse_constant=refuse)
            json.dumps(line, ensure_ascii=False).encode()  # a lone surrogate escape: refused
            lines.append(check(line))
        except (ValueError, OverflowError, Bad):  # JSONDecodeError, UnicodeError are ValueErrors
            return number
    rows: list[dict] = []
    stuck, slot_before, counts_before = None, 0, {}
    for i, line in enumerate(lines):
        mouse, keyboard = line["mouse"], line["keyboard"]
        act = dict.fromkeys(BINARY_ACTIONS, 0)
        for key in field_or(keyboard, "keys", []):
            if key in KEY_TO_ACTION:
                act[KEY_TO_ACTION[key]] = 1
        new = field_or(mouse, "newButtons", [])
        stuck = new == [0] if stuck is None else stuck and 0 not in new
        for button in field_or(mouse, "buttons", []):
            if button in MOUSE_BUTTON_TO_ACTION and not (button == 0 and stuck):
                act[MOUSE_BUTTON_TO_ACTION[button]] = 1
        slot = field_or(line, "hotbar", 0)
        if slot != slot_before:
            act[f"hotbar.{slot + 1}"] = 1
        slot_before = slot
        pitch = float(field_or(mouse, "dy", 0)) * CAMERA_SCALE
        yaw = float(field_or(mouse, "dx", 0)) * CAMERA_SCALE
        gui = field_or(line, "isGuiOpen", False)
        counts = field_or(line, "stats", {})
        rows.append(
            {
                "tick": i,
                **act,
                "camera_pitch": pitch,
                "camera_yaw": yaw,
                "null": not any(act.values()) and pitch == 0 and yaw == 0,
                "gui_open": gui,
                "gui_inventory": line.get("isGuiInventory") if gui else False,
                **{f"cursor_{axis}": cursor(gui, mouse.get(axis)) for axis in "xy"},
                "hotbar": slot,
                **{axis: optional(line.get(f"{axis}pos")) for axis in "xyz"},
                "yaw": optional(line.get("yaw")),
                "pitch": optional(line.get("pitch")),
                "events": sorted(
                    event_name(key)
                    for key, count in counts.items()
                    if i > 0
                    and count > counts_before.get(key, 0)
                    and not is_per_tick_counter(event_name(key))
                ),
            }
        )
        counts_before = counts
    return rows


def field_or(fields: dict, name: str, default):
    """A field's value, its default when it is missing or null."""
    value = fields.get(name)
    return default if value is None else value


def optional(value) -> float | None:
    return None if value is None else float(value)


def cursor(gui: bool, value) -> float | None:
    if not gui or value is None:
        return None
    with np.errstate(over="ignore"):
        return float(np.float32(float(value) * (FRAME_HEIGHT / SCREEN_HEIGHT)))


def assert_matches_reference(path: Path) -> None:
    """`read_vpt` gives the reference's rows or names its bad line, whether the file is read in
    chunks of a megabyte or of 64 bytes (a line or two)."""
    want = reference(path.read_bytes())
    for chunk in (vpt._CHUNK, 64):
        with patch.object(vpt, "_CHUNK", chunk):
            if isinstance(want, int):
                with pytest.raises(RecordingError) as info:
                    read_vpt(path)
                assert info.value.line == want, str(info.value)
            elif not want:
                with pytest.raises(RecordingError, match="no ticks"):
                    read_vpt(path)
            else:
                got = read_vpt(path).ticks.to_pylist()
                assert list(got[0]) == TICK_SCHEMA.names
                assert got == want


# Random VPT text: any member order, any JSON whitespace, numbers in every spelling (17 digits,
# exponents, integers past 2**64, -0), escaped strings, unknown and repeated members, missing
# optional members, null cursor and pose, blank lines, CRLF, counters that vanish and come back.
WS = ["", "", "", "", " ", "\t", "  ", "\r"]
KEYS = [*KEY_TO_ACTION, "key.keyboard.x", "key.mouse.4"]
COUNTERS = [
    "minecraft.custom:minecraft.play_time",
    "minecraft.custom:minecraft.walk_one_cm",
    "minecraft.custom:minecraft.jump",
    "minecraft.mine_block:minecraft.oak_log",
    "minecraft.pickup:minecraft.oak_log",
    "minecraft.craft_item:minecraft.stick",
    "mine_block:oak_log",  # the same event name as a prefixed counter
    "a",
]


class Raw(str):
    """JSON text written as is."""


def number(rnd: random.Random) -> Raw:
    kind = rnd.randrange(5)
    if kind == 0:  # Java and Python print doubles with up to 17 digits
        return Raw(repr(rnd.uniform(-1e4, 1e4) * 10 ** rnd.randint(-8, 8)))
    if kind == 1:
        return Raw(str(rnd.randint(-(10**6), 10**6)))
    if kind == 2:
        return Raw(rnd.choice(["-0", "-0.0", "0e0", "1E+2", "2.5e-3", "-7.25E1", "0.1", "1e23"]))
    if kind == 3:  # integers past 2**53 and 2**64
        return Raw(str(rnd.choice([1, -1]) * rnd.randint(2**53, 10**25)))
    text = rnd.choice(["", "-"]) + str(rnd.randint(0, 10 ** rnd.randint(1, 20)))
    text += "." + "".join(rnd.choices("0123456789", k=rnd.randint(1, 25)))
    return Raw(text + rnd.choice(["", "e-7", "E+12", "e0", "e-300", "e+250"]))


def string(rnd: random.Random, text: str) -> Raw:
    """A JSON string, sometimes with ASCII letters written as \\u escapes."""
    ascii_only, escape = rnd.random() < 0.5, rnd.random() < 0.2
    return Raw(
        '"'
        + "".join(
            f"\\u{ord(c):04x}"
            if escape and c.isascii() and c.isalpha() and rnd.random() < 0.3
            else json.dumps(c, ensure_ascii=ascii_only)[1:-1]
            for c in text
        )
        + '"'
    )


def unknown(rnd: random.Random, depth: int = 0):
    kind = rnd.randrange(7 if depth < 3 else 5)
    if kind == 0:
        return rnd.choice([None, True, False])
    if kind in (1, 2):
        return number(rnd)
    if kind in (3, 4):
        text = "".join(rnd.choices('ab"\\/\n\t\x01\x7f\u00e9\u4e2d\U0001f600', k=rnd.randint(0, 6)))
        return string(rnd, text)
    if kind == 5:
        return [unknown(rnd, depth + 1) for _ in range(rnd.randint(0, 3))]
    return Obj((rnd.choice(["type", "quantity", "x", "é"]), unknown(rnd, depth + 1)) for _ in "ab")


def render(rnd: random.Random, value) -> str:
    if isinstance(value, Raw):
        return value
    if isinstance(value, str):
        return string(rnd, value)
    if isinstance(value, Obj):
        inner = ",".join(
            f"{rnd.choice(WS)}{string(rnd, k)}{rnd.choice(WS)}:{rnd.choice(WS)}"
            f"{render(rnd, v)}{rnd.choice(WS)}"
            for k, v in value
        )
        return "{" + inner + rnd.choice(WS) + "}"
    if isinstance(value, list):
        return "[" + ",".join(rnd.choice(WS) + render(rnd, v) + rnd.choice(WS) for v in value) + "]"
    return json.dumps(value)


def delta(rnd: random.Random) -> Raw:
    """A mouse move within a full turn (2400 units), in the ways JSON writes a number."""
    return Raw(rnd.choice([
        repr(rnd.uniform(-2400, 2400)), str(rnd.randint(-2400, 2400)), repr(rnd.uniform(-1, 1)),
        "-0", "-0.0", "0e0", "1E+2", "2.5e-3", "-7.25E1", "2400", "-2400.0", "2.4e3",
    ]))  # fmt: skip


def members_of(rnd: random.Random, values: dict, p: float = 0.8) -> Obj:
    """Some of `values` in random order, a few of them twice (the first time with another
    valid value)."""
    out = Obj((k, v()) for k, v in values.items() if rnd.random() < p)
    rnd.shuffle(out)
    if out and rnd.random() < 0.05:
        key, _ = rnd.choice(out)
        out.insert(0, (key, values[key]()))
    return out


def vpt_text_line(rnd: random.Random, counts: dict[str, int]) -> Obj:
    """One valid line; `counts` are the cumulative counters, updated."""

    def maybe_null():
        return None if rnd.random() < 0.2 else number(rnd)

    def buttons():
        return [Raw(str(rnd.choice([0, 0, 1, 2, 3, 2**70]))) for _ in range(rnd.randint(0, 2))]

    mouse = members_of(
        rnd,
        {
            "x": maybe_null,
            "y": maybe_null,
            "dx": lambda: delta(rnd),
            "dy": lambda: delta(rnd),
            "buttons": buttons,
            "newButtons": lambda: rnd.choice([[Raw("0")], [Raw("-0")], []]) or buttons(),
            "scaledX": lambda: unknown(rnd),
            "dwheel": lambda: unknown(rnd),
        },
    )
    keyboard = members_of(
        rnd,
        {
            "keys": lambda: rnd.sample(KEYS, rnd.randint(0, 3)),
            "newKeys": lambda: unknown(rnd),
            "chars": lambda: unknown(rnd),
        },
    )
    for counter in COUNTERS:  # cumulative counts that also vanish and come back
        if rnd.random() < 0.3:
            counts[counter] = counts.get(counter, 0) + rnd.randint(0, 3)
    top = members_of(
        rnd,
        {
            "isGuiOpen": lambda: rnd.random() < 0.4,
            "isGuiInventory": lambda: rnd.choice([True, False, None]),
            "hotbar": lambda: Raw(str(rnd.choice([0, 0, 0, rnd.randint(0, 8)]))),
            **dict.fromkeys(("yaw", "pitch", "xpos", "ypos", "zpos"), maybe_null),
            **dict.fromkeys(("tick", "milli", "inventory", "serverTick"), lambda: unknown(rnd)),
            "stats": lambda: Obj((k, Raw(str(v))) for k, v in counts.items() if rnd.random() < 0.9),
        },
    )
    top += [("mouse", mouse), ("keyboard", keyboard)]
    rnd.shuffle(top)
    return top


WRONG = [None, True, Raw("1.5"), Raw("-1"), Raw("9"), Raw("1e400"), "1", [Raw("1")], Obj()]


def spoil(rnd: random.Random, line: Obj) -> str:
    """The line, made a bad one most of the time: a member missing or of another value (some
    of which are still valid), or text that is not one JSON object."""
    kind = rnd.randrange(4)
    if kind == 0:
        line = Obj((k, v) for k, v in line if k != rnd.choice(["mouse", "keyboard"]))
    elif kind == 1:
        target = line
        nested = [v for k, v in line if k in ("mouse", "keyboard", "stats") and v]
        if nested and rnd.random() < 0.6:
            target = rnd.choice(nested)
        if target:
            i = rnd.randrange(len(target))
            target[i] = (target[i][0], rnd.choice(WRONG))
    elif kind == 2:
        mouse = [v for k, v in line if k == "mouse"]
        line = Obj([*line, ("keyboard", Obj([("keys", [Raw("1")])]))]) if not mouse else line
    text = render(rnd, line)
    if kind == 3:
        cut = rnd.randrange(1, len(text))
        text = rnd.choice([text[:cut], text + " {}", text + "x", text[:cut] + "\n" + text[cut:]])
    return text


def recording(rnd: random.Random, *, bad: bool) -> bytes:
    counts: dict[str, int] = {}
    out = []
    for _ in range(rnd.randint(1, 8)):
        line = vpt_text_line(rnd, counts)
        out.append(spoil(rnd, line) if bad and rnd.random() < 0.3 else render(rnd, line))
        if rnd.random() < 0.2:
            out.append(rnd.choice(["", " ", "\t", "\r", " \r"]))
    return ("\n".join(out) + rnd.choice(["", "\n", "\r\n"])).encode()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**64))
def test_reader_equals_reference_on_random_recordings(tmp_path_factory, seed):
    path = tmp_path_factory.mktemp("p") / "r.jsonl"
    path.write_bytes(recording(random.Random(seed), bad=False))
    assert not isinstance(reference(path.read_bytes()), int), "the generator writes valid lines"
    assert_matches_reference(path)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**64))
def test_reader_refuses_what_the_reference_refuses(tmp_path_factory, seed):
    path = tmp_path_factory.mktemp("p") / "r.jsonl"
    path.write_bytes(recording(random.Random(seed), bad=True))
    assert_matches_reference(path)


@pytest.mark.parametrize(
    "line",
    [
        '{"mouse": {"dx": -2400, "dy": 2.4e3}, "keyboard": {}}',
        '{"mouse": {"dx": null, "dy": null, "buttons": null, "newButtons": null},'
        ' "keyboard": {"keys": null}, "isGuiOpen": null, "hotbar": null, "stats": null}',
        '{"mouse": {"dx": 0.30000000000000004, "dy": 1.0000000000000002e-7}, "keyboard": {}}',
        '{"mouse": {"x": null, "y": null}, "keyboard": {}, "isGuiOpen": true}',
        '{"mouse": {"x": 1e300, "y": -3}, "keyboard": {}, "isGuiOpen": true}',
        '{"mouse": {"buttons": [99999999999999999999, 2]}, "keyboard": {}}',
        '{"keyboard": {"keys": ["key.keyboard.\\u0077"]}, "mouse": {"x": 1, "x": 2}}',
        '{"mouse": {}, "keyboard": {}, "inventory": [{"type": "\\ud83d\\ude00"}], "q": [[[]]]}',
        '{"mouse": {}, "keyboard": {}, "stats": {"a": 1, "a": 3}, "hotbar": 8, "hotbar": 2}',
        '{"mouse": {}, "keyboard": {}, "stats": {"a": 9223372036854775807}}',
        '\t{ "mouse" : { } ,"keyboard":{"keys":[ ]} }\r',
    ],
)
def test_edge_cases_match_reference(tmp_path, line):
    path = tmp_path / "e.jsonl"
    path.write_text(GOOD + "\n" + line + "\n\n" + GOOD + "\r\n")
    assert_matches_reference(path)


def test_realistic_hour_sample_matches_reference(tmp_path):
    sys.path.insert(0, str(BENCH))
    try:
        import bench_label
    finally:
        sys.path.remove(str(BENCH))
    path = tmp_path / "hour.jsonl"
    bench_label.generate(path, 3000, seed=3)
    assert_matches_reference(path)


# --- property test: the vectorised rules equal a plain per-line reading of the contract ---

line_strategy = st.fixed_dictionaries(
    {
        "keys": st.lists(st.sampled_from(KEYS), max_size=4, unique=True),
        "buttons": st.lists(st.sampled_from([0, 1, 2]), max_size=3, unique=True),
        "new_buttons": st.lists(st.sampled_from([0, 1, 2]), max_size=2, unique=True),
        "dx": st.floats(-3000, 3000, allow_nan=False) | st.just(0.0),
        "dy": st.floats(-3000, 3000, allow_nan=False) | st.just(0.0),
        "hotbar": st.integers(0, 8),
    }
)


@settings(max_examples=60, deadline=None)
@given(st.lists(line_strategy, min_size=1, max_size=12))
def test_reader_matches_per_line_rules(tmp_path_factory, lines):
    path = write_vpt(tmp_path_factory.mktemp("p") / "r.jsonl", [vpt_line(**line) for line in lines])
    assert_matches_reference(path)
