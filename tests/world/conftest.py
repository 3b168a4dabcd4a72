"""Short recordings shared by the world tests: recording is the slow part, so each is made once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curate.world.record import RecordedEpisode, record_episode

# Seed 0 of this task list mines stone, kills a pig and mines an oak log within 12 s, and selects
# hotbar slots both by number key and by scroll wheel.
TASKS = ("mine_block:stone", "kill_entity:pig", "mine_block:oak_log")
TICKS = 240


@pytest.fixture(scope="session")
def recording(tmp_path_factory: pytest.TempPathFactory) -> RecordedEpisode:
    return record_episode(tmp_path_factory.mktemp("world"), "synth-test", TICKS, (0, 0), TASKS)


@pytest.fixture(scope="session")
def lines(recording: RecordedEpisode) -> list[dict]:
    return [json.loads(line) for line in recording.jsonl.read_text().splitlines()]


@pytest.fixture(scope="session")
def truth(recording: RecordedEpisode) -> dict:
    return json.loads(Path(recording.truth).read_text())


@pytest.fixture(scope="session")
def crafting(tmp_path_factory: pytest.TempPathFactory) -> RecordedEpisode:
    """An episode that crafts in both screens: sticks and a pickaxe at a crafting table, then
    planks and a crafting table in the inventory (seed 3 does all of it within 25 s)."""
    tasks = ("craft_item:wooden_pickaxe", "craft_item:crafting_table")
    return record_episode(tmp_path_factory.mktemp("craft"), "synth-craft", 500, (3, 0), tasks)
