"""The VPT reader against the rules of ACTION_SPACES.md sections 1, 2 and 2a."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.contract import BINARY_ACTIONS, CAMERA_SCALE, KEY_TO_ACTION
from curate.readers import RecordingError, read_episode
from curate.readers.vpt import read_vpt
from curate.testing import vpt_line, write_vpt

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


def test_events_are_positive_stats_deltas(tmp_path):
    mine = "minecraft.mine_block:minecraft.oak_log"
    play = "minecraft.custom:minecraft.play_time"
    lines = [
        vpt_line(stats={mine: 2, play: 1}),  # tick 0: a baseline, never events
        vpt_line(stats={mine: 2, play: 2}),
        vpt_line(stats={mine: 3, play: 3, "minecraft.pickup:minecraft.oak_log": 1}),
        vpt_line(stats={mine: 3}),  # a counter that vanishes is no event
    ]
    rows = actions(write_vpt(tmp_path / "e.jsonl", lines))
    assert [r["events"] for r in rows] == [
        [],
        ["custom:play_time"],
        ["custom:play_time", "mine_block:oak_log", "pickup:oak_log"],
        [],
    ]


@pytest.mark.parametrize("last", [{"a": 5, "b": 1, "c": 9}, {"a": 5, "c": 9.0}, {"a": 5}])
def test_typed_and_dict_stats_paths_agree(tmp_path, last):
    # The fast path needs every counter on the last line and integer counts; the others fall back.
    stats = [{"a": 1}, {"a": 2, "b": 1}, {"a": 2, "b": 1, "c": 9}, last]
    rows = actions(write_vpt(tmp_path / "s.jsonl", [vpt_line(stats=s) for s in stats]))
    assert [r["events"] for r in rows][:3] == [[], ["a", "b"], ["c"]]
    assert rows[3]["events"] == ["a"]


def test_missing_optional_fields_are_accepted(tmp_path):
    path = tmp_path / "old.jsonl"
    path.write_text(
        '{"mouse": {"dx": 10}, "keyboard": {"keys": ["key.keyboard.w"]}}\n'
        '{"mouse": {}, "keyboard": {}}\n'
    )
    rows = actions(path)
    assert rows[0]["forward"] == 1 and rows[0]["camera_yaw"] == pytest.approx(1.5)
    assert rows[1]["null"] and rows[1]["yaw"] is None


@pytest.mark.parametrize(
    "bad, reason",
    [
        ('{"mouse": {"dx": "fast"}}', "Expected `float`"),
        ("{not json", "malformed"),
        ("[1, 2]", "object"),
    ],
)
def test_bad_line_names_file_and_line(tmp_path, bad, reason):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(vpt_line()) + "\n\n" + bad + "\n")
    with pytest.raises(RecordingError) as info:
        read_vpt(path)
    assert info.value.line == 3 and "bad.jsonl:3" in str(info.value)
    assert reason.lower() in str(info.value).lower()


def test_json_lines_that_are_not_vpt_are_refused(tmp_path, rollouts):
    # a MineStudio action.jsonl is JSON lines too, but has no mouse or keyboard
    with pytest.raises(RecordingError, match="missing required field `mouse`"):
        read_vpt(rollouts[0] / "action.jsonl")


def test_empty_recording_is_an_error(tmp_path):
    (tmp_path / "empty.jsonl").write_text("\n\n")
    with pytest.raises(RecordingError, match="no ticks"):
        read_episode(tmp_path / "empty.jsonl")


# --- property test: the vectorised reader equals a plain per-line reading of the rules ---

KEYS = [*KEY_TO_ACTION, "key.keyboard.x", "key.mouse.4"]
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


def reference(lines: list[dict]) -> list[dict]:
    """The rules of section 2, one line at a time, as written in the contract."""
    out, stuck, previous_hotbar = [], lines[0]["new_buttons"] == [0], 0
    for i, line in enumerate(lines):
        act = dict.fromkeys(BINARY_ACTIONS, 0)
        for key in line["keys"]:
            if key in KEY_TO_ACTION:
                act[KEY_TO_ACTION[key]] = 1
        if stuck and i > 0 and 0 in line["new_buttons"]:
            stuck = False
        for button in line["buttons"]:
            if not (button == 0 and stuck):
                act[{0: "attack", 1: "use", 2: "pickItem"}[button]] = 1
        if line["hotbar"] != previous_hotbar:
            act[f"hotbar.{line['hotbar'] + 1}"] = 1
        previous_hotbar = line["hotbar"]
        camera = [line["dy"] * CAMERA_SCALE, line["dx"] * CAMERA_SCALE]
        act["null"] = not any(act.values()) and camera == [0, 0]
        out.append({**act, "camera_pitch": camera[0], "camera_yaw": camera[1]})
    return out


@settings(max_examples=60, deadline=None)
@given(st.lists(line_strategy, min_size=1, max_size=12))
def test_reader_matches_per_line_rules(tmp_path_factory, lines):
    path = write_vpt(tmp_path_factory.mktemp("p") / "r.jsonl", [vpt_line(**line) for line in lines])
    got = actions(path)
    for want, row in zip(reference(lines), got, strict=True):
        assert {k: row[k] for k in want} == want
