"""The GUI as the frames show it: found on the real OpenHA rollouts and on the world's frames,
and, for MineStudio sources, the label follows the frames where the recorded flag runs early."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq

from curate.qa.frames import phase_shift, spectrum
from curate.qa.gui import gui_drawn, gui_lag
from curate.readers import read_episode
from curate.readers.video import iter_frames
from curate.release.build import build
from curate.world.record import synthesize


def test_the_world_s_screens_are_seen_on_the_frames_they_are_recorded_on(tmp_path):
    jsonl = synthesize(tmp_path, episodes=1, seconds=8, seed=1, tasks=["craft_item:oak_planks"])[0]
    episode = read_episode(jsonl)
    recorded = np.asarray(episode.ticks.column("gui_open"), dtype=bool)
    drawn = [gui_drawn(frame) for frame in iter_frames(episode.frames)]  # type: ignore[arg-type]
    assert recorded.any() and not recorded.all()
    assert drawn == recorded.tolist()
    assert gui_lag(recorded, dict(enumerate(drawn))) == 0


def test_real_rollouts_show_the_gui_a_step_after_is_gui_open(rollouts):
    craft = next(f for f in rollouts if f.name.endswith("craft_item_arrow"))
    episode = read_episode(craft)
    recorded = np.asarray(episode.ticks.column("gui_open"), dtype=bool)
    drawn = dict(enumerate(gui_drawn(frame) for frame in iter_frames(episode.frames)))  # type: ignore[arg-type]
    opened = int(np.argmax(recorded))
    assert not drawn[opened] and drawn[opened + 1]  # the screen shows one step after the flag
    assert gui_lag(recorded, drawn) == 1
    mining = next(f for f in rollouts if f.name.endswith("mine_block_dirt"))
    assert not any(gui_drawn(f) for f in iter_frames(read_episode(mining).frames))  # type: ignore[arg-type]


def test_a_minestudio_build_labels_the_gui_by_its_frames_and_reports_the_lag(rollouts, tmp_path):
    recipe = tmp_path / "recipe.yaml"
    source = {"format": "minestudio", "path": str(rollouts[0].parent)}
    recipe.write_text(json.dumps({
        "name": "gui", "version": "0.1.0", "sources": [source], "configs": ["ticks"],
        "validation": 0, "max_quarantined": 1.0,
    }))  # fmt: skip
    report = build(recipe, tmp_path / "out")
    qa = json.loads((report.folder / "meta" / "qa.json").read_text())
    craft = next(e for e in qa["checks"]["gui_lag"]["values"] if "craft_item" in e)
    assert qa["checks"]["gui_lag"]["values"][craft] == 1  # as recorded
    assert craft in qa["checks"]["gui_lag"]["flagged"]
    notes = [w.reason for w in report.meta.warnings if w.name.endswith("craft_item_arrow")]
    assert notes == ["info.jsonl: gui_open set from the frames on 1 tick(s) where its "
                     "is_gui_open disagreed with them"]  # fmt: skip
    ticks = sorted(
        pq.read_table(report.folder / "data" / "ticks").to_pylist(), key=lambda r: r["tick"]
    )
    shown = [r["gui_open"] for r in ticks if r["episode_id"] == craft]
    assert shown == [False] * 8 + [True] * (len(shown) - 8)  # step 7 flagged open, showed none


def test_phase_shift_finds_a_move_of_the_world_s_view_to_a_fraction_of_a_pixel(tmp_path):
    jsonl = synthesize(tmp_path, episodes=1, seconds=0.1, seed=0)[0]
    frame = next(iter_frames(read_episode(jsonl).frames)).mean(axis=2)  # type: ignore[arg-type]
    window = np.outer(np.hanning(90), np.hanning(160))

    def seen(x: int, y: int) -> np.ndarray:  # a 160x90 view at half resolution, from (x, y)
        return frame[y : y + 180, x : x + 320].reshape(90, 2, 160, 2).mean(axis=(1, 3))

    def shift(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
        return phase_shift(spectrum(a, window), spectrum(b, window), a.shape)

    dx, dy = shift(seen(100, 60), seen(106, 56))  # the view 3 left, 2 down
    assert abs(dx + 3) < 0.1 and abs(dy - 2) < 0.1, (dx, dy)
    dx, dy = shift(seen(100, 60), seen(101, 60))  # half a pixel
    assert abs(dx + 0.5) < 0.15 and abs(dy) < 0.1, (dx, dy)
