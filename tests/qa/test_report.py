"""The report's rules: when a value is flagged, and which recorder an episode is from."""

from __future__ import annotations

import pytest

from curate.qa import over, qa_report, recorder_of


@pytest.mark.parametrize(
    ("check", "value", "threshold", "flagged"),
    [
        ("camera_lag", 1, 0, False),
        ("camera_lag", 2, 0, True),
        ("camera_lag", 0, 1, False),
        ("camera_gain", 1.1, 0.12, False),
        ("camera_gain", 0.85, 0.12, True),
        ("camera_axes", "ok", None, False),
        ("camera_axes", "yaw mirrored", None, True),
        ("gui_lag", -1, 0, True),
        ("stuck_input", 60.0, 60.0, False),
        ("orphan_events", 1, 0, True),
        ("frozen_frames", None, 10, False),  # no value: nothing to judge
    ],
)
def test_over(check, value, threshold, flagged):
    assert over(check, value, threshold) is flagged


def test_recorder_of_a_vpt_index_path():
    assert recorder_of("vpt0/data/6.13/cheeky-cornflower-setter-abc.jsonl") == "6.13"
    assert recorder_of("vpt0/recording.jsonl") == "unversioned"
    assert recorder_of("minestudio0/20251014-230524_reset_0_craft_item_arrow") == "unversioned"


def test_the_report_adds_up_per_recorder():
    episodes = {
        "a": ("vpt0/data/6.13/a.jsonl", {"camera_lag": 2, "noop_share": 0.5}, {"vpt": {"x": 1}}),
        "b": ("vpt0/data/7.1/b.jsonl", {"camera_lag": 1, "noop_share": 0.1}, {"vpt": {"x": 2}}),
    }
    report = qa_report(episodes, {"camera_lag": 0}, left_out=[])
    assert report["checks"]["camera_lag"] == {
        "flagged": ["a"], "threshold": 0, "values": {"a": 2, "b": 1}
    }  # fmt: skip
    assert report["labels"] == {"vpt": {"x": 3}}
    assert report["recorders"]["6.13"]["flagged"]["camera_lag"] == ["a"]
    assert report["recorders"]["7.1"] == {
        "episodes": 1, "flagged": dict.fromkeys(report["checks"], []), "noop_share": 0.1,
        "gui_share": None, "labels": {"vpt": {"x": 2}},
    }  # fmt: skip
