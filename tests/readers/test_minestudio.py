"""MineStudio rollout folders: pairing of section 9, on real rollouts and hand-made ones."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.readers import CODES, RecordingError, read_episode
from curate.readers.minestudio import read_minestudio
from curate.readers.video import iter_frames
from curate.testing import write_rollout


def test_tick_t_pairs_frame_t_with_action_t_plus_1(tmp_path):
    actions = [{"forward": 1}, {"jump": 1}, {"camera": [3.0, -6.0]}, {"attack": 1}]
    episode = read_minestudio(write_rollout(tmp_path / "r", actions))
    rows = episode.ticks.to_pylist()
    assert len(episode) == 3  # N steps give N-1 ticks
    assert [r["jump"] for r in rows] == [1, 0, 0]
    assert [(r["camera_pitch"], r["camera_yaw"]) for r in rows][1] == (3.0, -6.0)
    assert [r["attack"] for r in rows] == [0, 0, 1]
    assert [r["pitch"] for r in rows] == [0.0, 1.0, 2.0]  # info t goes with frame t
    assert [round(f.mean() / 10) for f in iter_frames(episode.frames)] == [0, 1, 2]
    assert rows[0]["cursor_x"] is None and not any(r["forward"] for r in rows)


def test_events_sit_on_the_tick_whose_action_caused_them(tmp_path):
    mine = {"mine_block": {"dirt": 1}}  # nested, as the simulator may write it
    infos = [{}, {}, {"stats": mine}, {"stats": {"minecraft.mine_block:minecraft.dirt": 2}}]
    episode = read_minestudio(
        write_rollout(tmp_path / "r", [{}, {}, {"attack": 1}, {"attack": 1}], infos)
    )
    rows = episode.ticks.to_pylist()
    assert [r["events"] for r in rows] == [[], ["mine_block:dirt"], ["mine_block:dirt"]]
    assert [r["attack"] for r in rows] == [0, 1, 1]


def test_hotbar_from_keys_starting_at_zero(tmp_path):
    actions = [{}, {"hotbar.3": 1}, {}, {"hotbar.2": 1, "hotbar.7": 1}, {}]
    episode = read_minestudio(write_rollout(tmp_path / "r", actions))
    assert episode.ticks.column("hotbar").to_pylist() == [0, 2, 2, 6]


def test_episode_id_is_sanitised(tmp_path):
    episode = read_episode(write_rollout(tmp_path / "run:1 mine", [{}, {}]))
    assert episode.episode_id == "run_1_mine"


def test_step_counts_must_agree(tmp_path):
    folder = write_rollout(tmp_path / "r", [{}, {}, {}])
    (folder / "info.jsonl").write_text((folder / "info.jsonl").read_text().split("\n", 1)[1])
    with pytest.raises(RecordingError, match="step counts differ"):
        read_minestudio(folder)


def test_one_step_gives_no_tick(tmp_path):
    with pytest.raises(RecordingError, match="no tick"):
        read_minestudio(write_rollout(tmp_path / "r", [{}]))


def test_bad_line_is_named(tmp_path):
    folder = write_rollout(tmp_path / "r", [{}, {}, {}])
    lines = (folder / "action.jsonl").read_text().splitlines()
    lines[1] = '{"camera": "left"}'
    (folder / "action.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(RecordingError) as info:
        read_minestudio(folder)
    assert info.value.line == 2 and "action.jsonl:2" in str(info.value)


def test_missing_file_is_named(tmp_path):
    folder = write_rollout(tmp_path / "r", [{}, {}])
    (folder / "episode.jsonl").unlink()
    with pytest.raises(RecordingError, match="missing episode.jsonl"):
        read_minestudio(folder)


def test_real_rollouts(rollouts):
    for folder in rollouts:
        steps = sum(1 for line in (folder / "action.jsonl").open() if line.strip())
        episode = read_minestudio(folder)
        assert len(episode) == episode.frames.count == steps - 1
        frames = list(iter_frames(episode.frames, [0]))
        assert frames[0].shape == (360, 640, 3)


def test_real_camera_move_shows_from_the_next_frame(rollouts):
    # In the arrow rollout, step 2 turns the camera by [30, -30]: tick 1 carries that action,
    # and frame 2 (not frame 1) is the first to show it.
    folder = next(f for f in rollouts if f.name.endswith("craft_item_arrow"))
    episode = read_minestudio(folder)
    rows = episode.ticks.to_pylist()
    assert (rows[1]["camera_pitch"], rows[1]["camera_yaw"]) == (30.0, -30.0)
    assert rows[1]["pitch"] == 0.0 and rows[2]["pitch"] == pytest.approx(30.0, abs=1e-4)
    f0, f1, f2 = (f.astype(np.int16) for f in iter_frames(episode.frames, [0, 1, 2]))
    assert np.abs(f2 - f1).mean() > 5 * np.abs(f1 - f0).mean()
    gui = [r["gui_open"] for r in rows]
    assert any(gui) and not gui[0]


@pytest.mark.parametrize(
    "stats", ['{"mine_block": {"dirt": {"a": 1}}}', '{"mine_block:dirt": "x"}']
)
def test_bad_stats_name_the_line(tmp_path, stats):
    folder = write_rollout(tmp_path / "r", [{}, {}, {}])
    lines = (folder / "info.jsonl").read_text().splitlines()
    lines[2] = lines[2].replace('"stats": {}', f'"stats": {stats}')
    (folder / "info.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(RecordingError) as info:
        read_minestudio(folder)
    assert info.value.line == 3 and "info.jsonl:3" in str(info.value)


def test_a_corrupt_frame_is_the_recording_s_fault(tmp_path):
    folder = write_rollout(tmp_path / "r", [{}, {}, {}, {}])
    lines = (folder / "episode.jsonl").read_text().splitlines()
    lines[2] = json.dumps({"format": "PNG", "resolution": [36, 64, 3], "base64": "bm90IGEgcG5n"})
    (folder / "episode.jsonl").write_text("\n".join(lines) + "\n")
    episode = read_minestudio(folder)
    with pytest.raises(RecordingError, match=r"episode.jsonl:3: the frame of step 2 is not a"):
        list(iter_frames(episode.frames))


def test_frames_are_read_one_line_at_a_time(tmp_path):
    folder = write_rollout(tmp_path / "r", [{}] * 6)
    episode = read_minestudio(folder)
    frames = list(iter_frames(episode.frames, [1, 3, 4]))
    assert [round(f.mean() / 10) for f in frames] == [1, 3, 4]


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["action.jsonl", "info.jsonl", "episode.jsonl"]),
    st.integers(0, 3),
    st.binary(max_size=80) | st.text(max_size=80).map(str.encode),
)
def test_any_line_reads_or_is_a_recording_error(tmp_path_factory, name, k, line):
    folder = write_rollout(tmp_path_factory.mktemp("fuzz") / "r", [{"forward": 1}] * 4)
    lines = (folder / name).read_bytes().split(b"\n")
    lines[k] = line
    (folder / name).write_bytes(b"\n".join(lines))
    try:
        episode = read_minestudio(folder)
        list(iter_frames(episode.frames))  # type: ignore[arg-type]
    except RecordingError as exc:
        assert exc.code in CODES and name in str(exc) or "step counts differ" in str(exc)
