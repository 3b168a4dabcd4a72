"""The scripted player plays like a person: holds attack to mine, clicks to kill, scrolls."""

from __future__ import annotations

import numpy as np
import pytest

from curate.contract import BINARY_ACTIONS, QUALIFYING_FAMILIES
from curate.readers.vpt import read_vpt
from curate.world.blocks import BLOCK_IDS, BREAK_TICKS_HAND, BREAK_TICKS_TOOL
from curate.world.player import crafting_chain
from curate.world.record import RecordedEpisode


def test_mining_holds_attack_for_several_ticks(lines: list[dict], truth: dict) -> None:
    mined = [e for e in truth["events"] if e["event"].startswith("mine_block:")]
    assert mined
    for event in mined:
        block = BLOCK_IDS[event["event"].split(":")[1]]
        fastest = min(BREAK_TICKS_HAND[block], BREAK_TICKS_TOOL.get(block, BREAK_TICKS_HAND[block]))
        held = 0
        while 0 in lines[event["tick"] - held]["mouse"]["buttons"]:
            held += 1
        assert held >= fastest >= 5


def test_hotbar_changes_by_key_and_by_scroll(lines: list[dict]) -> None:
    by_key = by_scroll = 0
    for before, now in zip(lines, lines[1:], strict=False):
        if now["hotbar"] == before["hotbar"]:
            continue
        number_keys = [k for k in now["keyboard"]["keys"] if k[-1].isdigit()]
        if number_keys:
            assert number_keys == [f"key.keyboard.{now['hotbar'] + 1}"]
            by_key += 1
        else:
            assert now["mouse"]["dwheel"] != 0  # the slot moved with no key: the wheel did it
            assert abs(now["hotbar"] - before["hotbar"]) in (1, 8)
            by_scroll += 1
    assert by_key and by_scroll


def test_kill_task_kills_a_pig_with_several_clicks(lines: list[dict], truth: dict) -> None:
    kills = [e for e in truth["events"] if e["event"] == "kill_entity:pig"]
    assert kills
    clicks = [i for i, line in enumerate(lines) if 0 in line["mouse"]["newButtons"]]
    assert sum(1 for i in clicks if kills[0]["tick"] - 100 < i <= kills[0]["tick"]) >= 3


def test_player_idles_and_moves_the_mouse_in_fractions(lines: list[dict]) -> None:
    null = [
        not line["keyboard"]["keys"] and not line["mouse"]["buttons"] and line["mouse"]["dx"] == 0
        for line in lines
    ]
    assert sum(null) > 10
    dx = np.array([line["mouse"]["dx"] for line in lines])
    assert (dx != np.round(dx)).any()


def test_actions_are_what_a_reader_recovers(
    recording: RecordedEpisode, lines: list[dict], truth: dict
) -> None:
    """Cross-check against the project's VPT reader: the env actions the player meant."""
    episode = read_vpt(recording.jsonl)
    assert not episode.warnings
    ticks = episode.ticks
    assert ticks.num_rows == len(lines) == len(recording.actions)
    for name in BINARY_ACTIONS:
        assert ticks.column(name).to_pylist() == [a[name] for a in recording.actions], name
    for k, column in enumerate(("camera_pitch", "camera_yaw")):
        meant = [a["camera"][k] for a in recording.actions]
        np.testing.assert_allclose(ticks.column(column).to_pylist(), meant, atol=1e-9)
    assert ticks.column("hotbar").to_pylist() == [line["hotbar"] for line in lines]
    qualifying = [
        sorted(e for e in tick_events if e.split(":")[0] in QUALIFYING_FAMILIES)
        for tick_events in ticks.column("events").to_pylist()
    ]
    assert qualifying == [
        sorted(e["event"] for e in truth["events"] if e["tick"] == t) for t in range(len(lines))
    ]


@pytest.mark.parametrize(
    "slots, chain",
    [
        ([["oak_log", 1]], ["oak_planks", "crafting_table"]),
        ([["oak_planks", 5]], ["stick", "wooden_pickaxe"]),
        ([["oak_planks", 4]], None),  # three for the head, and two for sticks: one short
        ([["oak_log", 2]], ["oak_planks", "oak_planks", "stick", "wooden_pickaxe"]),
        ([["stick", 1]], None),
    ],
)
def test_a_crafting_chain_makes_what_each_step_needs_from_what_is_there(slots, chain):
    assert crafting_chain(chain[-1] if chain else "wooden_pickaxe", slots) == chain
