"""The canonical tick table: its schema file, and what every reader produces."""

from __future__ import annotations

import json
from pathlib import Path

from curate.episode import TICK_SCHEMA, Episode, episode_rng, schema_as_json
from curate.readers.minestudio import read_minestudio
from curate.readers.vpt import read_vpt
from curate.testing import tick_table, vpt_line, write_vpt

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schemas" / "tick_table.schema.json"


def test_schema_file_is_current():
    # regenerate with: python -m curate.episode > schemas/tick_table.schema.json
    assert json.loads(SCHEMA_FILE.read_text()) == schema_as_json()


def test_readers_produce_the_schema(tmp_path, rollouts):
    vpt = read_vpt(write_vpt(tmp_path / "r.jsonl", [vpt_line(keys=["w"]), vpt_line()]))
    for episode in (vpt, read_minestudio(rollouts[0])):
        assert episode.ticks.schema.equals(TICK_SCHEMA)
        required = schema_as_json()["required"]
        for row in episode.ticks.to_pylist():
            assert set(row) == set(required)


def test_episode_casts_to_schema():
    episode = Episode("e", "vpt", tick_table(3))
    assert episode.ticks.schema.equals(TICK_SCHEMA) and len(episode) == 3


def test_episode_rng_is_seeded_by_seed_and_id():
    def draw(seed: int, episode_id: str) -> list[int]:
        return episode_rng(seed, episode_id).integers(0, 2**31, 4).tolist()

    assert draw(0, "a") == draw(0, "a")
    assert draw(0, "a") != draw(1, "a") and draw(0, "a") != draw(0, "b")


def test_resample_sums_camera_ors_binaries_keeps_the_first_tick():
    from curate.episode import resample

    ticks = tick_table(
        5, forward=[0, 1, 0, 0, 0], camera_yaw=[1.0, 2.0, 0.0, 0.0, 0.5],
        events=[[], ["a"], ["b"], [], []], gui_open=[True, False, False, True, False],
        cursor_x=[10.0, 20.0, None, 30.0, None],
    )  # fmt: skip
    rows = resample(ticks, 2).to_pylist()
    assert [r["tick"] for r in rows] == [0, 2, 4]
    assert [r["forward"] for r in rows] == [1, 0, 0]
    assert [r["camera_yaw"] for r in rows] == [3.0, 0.0, 0.5]
    assert [r["events"] for r in rows] == [["a"], ["b"], []]
    assert [(r["gui_open"], r["cursor_x"]) for r in rows] == [
        (True, 10.0),
        (False, None),
        (False, None),
    ]
    assert [r["null"] for r in rows] == [False, True, False]
    assert resample(ticks, 1) is ticks
