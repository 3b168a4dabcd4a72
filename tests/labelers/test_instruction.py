"""The instruction labeler: segments, templates, whitelists, and segment ends on scripted play."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest
from pydantic import ValidationError

from curate.contract import QUALIFYING_FAMILIES
from curate.episode import TICK_SCHEMA, Episode
from curate.labelers.instruction import (
    InstructionLabeler,
    InstructionParams,
    instruction_text,
    with_article,
)


def make_ticks(n: int, events: dict[int, list[str]] | None = None) -> pa.Table:
    """A tick table of `n` idle ticks matching TICK_SCHEMA, with `events` on the given ticks."""
    events = events or {}
    rows = []
    for t in range(n):
        row = {f.name: None if f.nullable else 0 for f in TICK_SCHEMA}
        row.update(tick=t, null=True, gui_open=False, events=events.get(t, []))
        rows.append(row)
    return pa.Table.from_pylist(rows, schema=TICK_SCHEMA)


def label(table: pa.Table, **params):
    return InstructionLabeler(InstructionParams(**params)).label(Episode("ep", "test", table))


def test_segments_end_at_each_qualifying_event():
    # Every tick carries play_time, as real stats do; it never ends a segment.
    events = {t: ["custom:play_time"] for t in range(10)}
    events[3] = ["custom:play_time", "mine_block:oak_log"]
    events[4] = ["custom:play_time", "custom:walk_one_cm"]
    events[7] = ["craft_item:oak_planks", "custom:play_time"]
    labels = label(make_ticks(10, events))
    assert labels["instruction_event"].to_list() == (
        ["mine_block:oak_log"] * 4 + ["craft_item:oak_planks"] * 4 + [None] * 2
    )
    assert labels["instruction_text"].to_list() == (
        ["Mine an oak log."] * 4 + ["Craft oak planks."] * 4 + [None] * 2
    )
    assert labels["instruction_segment"].to_list() == [0] * 4 + [1] * 4 + [2] * 2
    assert labels["instruction_is_end"].to_list() == [t in (3, 7) for t in range(10)]
    assert labels["instruction_events"].to_list()[3] == ["mine_block:oak_log"]
    assert labels["instruction_events"].to_list()[4] == []


def test_contract_output():
    labeler = InstructionLabeler()
    labels = labeler.label(Episode("ep", "test", make_ticks(3, {1: ["kill_entity:pig"]})))
    output = labeler.output(labels)
    assert output.columns == ["text", "event"]
    assert output.rows() == [("Kill a pig.", "kill_entity:pig")] * 2 + [(None, None)]


def test_event_on_tick_zero_is_a_one_tick_segment():
    labels = label(make_ticks(4, {0: ["pickup:apple"], 2: ["pickup:stick"]}))
    assert labels["instruction_text"].to_list() == [
        "Pick up an apple.",
        "Pick up a stick.",
        "Pick up a stick.",
        None,
    ]
    assert labels["instruction_segment"].to_list() == [0, 1, 1, 2]


def test_no_qualifying_event_gives_nulls():
    labels = label(make_ticks(3, {1: ["drop:dirt", "custom:jump", "break_item:wooden_axe"]}))
    assert labels["instruction_text"].to_list() == [None] * 3
    assert labels["instruction_event"].to_list() == [None] * 3
    assert labels["instruction_segment"].to_list() == [0] * 3
    assert not any(labels["instruction_is_end"])


def test_several_events_on_one_tick_whitelist_order_first():
    # Mining with a tool also counts a use of the tool on the same tick.
    events = {2: ["use_item:wooden_pickaxe", "mine_block:stone", "pickup:cobblestone"]}
    labels = label(make_ticks(3, events))
    assert labels["instruction_event"].to_list()[0] == "mine_block:stone"
    assert labels["instruction_events"].to_list()[2] == [
        "mine_block:stone",
        "use_item:wooden_pickaxe",
        "pickup:cobblestone",
    ]
    # Within one family, sorted order decides.
    labels = label(make_ticks(1, {0: ["mine_block:sand", "mine_block:dirt"]}))
    assert labels["instruction_event"].to_list() == ["mine_block:dirt"]
    # The whitelist's order is the priority.
    labels = label(make_ticks(3, events), families=("pickup", "mine_block"))
    assert labels["instruction_text"].to_list()[0] == "Pick up cobblestone."


def test_whitelist_parameter_and_exact_events():
    events = {1: ["drop:oak_log"], 3: ["custom:open_chest"], 5: ["mine_block:dirt"]}
    labels = label(make_ticks(6, events), families=("drop", "custom:open_chest"))
    assert labels["instruction_text"].to_list() == (
        ["Drop an oak log."] * 2 + ["Open chest."] * 2 + [None] * 2
    )
    assert InstructionLabeler().params.families == QUALIFYING_FAMILIES


def test_the_per_tick_custom_family_is_refused():
    with pytest.raises(ValidationError, match="custom"):
        InstructionParams(families=("mine_block", "custom"))


def test_unknown_parameters_are_refused():
    with pytest.raises(ValidationError):
        InstructionParams(family=("mine_block",))


@pytest.mark.parametrize(
    ("event", "text"),
    [
        ("mine_block:oak_log", "Mine an oak log."),
        ("mine_block:dirt", "Mine dirt."),
        ("mine_block:iron_ore", "Mine an iron ore."),
        ("mine_block:grass_block", "Mine a grass block."),
        ("craft_item:crafting_table", "Craft a crafting table."),
        ("craft_item:oak_planks", "Craft oak planks."),
        ("craft_item:iron_bars", "Craft iron bars."),
        ("craft_item:glass", "Craft glass."),
        ("kill_entity:pig", "Kill a pig."),
        ("kill_entity:enderman", "Kill an enderman."),
        ("use_item:ender_pearl", "Use an ender pearl."),
        ("pickup:cactus", "Pick up a cactus."),
        ("drop:egg", "Drop an egg."),
        ("killed_by:zombie", "Killed by: a zombie."),
        ("break_item:wooden_pickaxe", "Break item: a wooden pickaxe."),
        ("custom:interact_with_crafting_table", "Interact with crafting table."),
        ("minecraft.mine_block:minecraft.stone", "Mine stone."),
    ],
)
def test_templates_and_articles(event, text):
    assert instruction_text(event) == text


def test_articles():
    assert with_article("apple") == "an apple"
    assert with_article("unicorn horn") == "a unicorn horn"  # a vowel letter sounding "you"
    assert with_article("cooked beef") == "cooked beef"
    assert with_article("glass pane") == "a glass pane"


def test_empty_episode():
    assert label(make_ticks(0)).height == 0


def test_synthetic_segments_end_at_the_truth_events(tmp_path):
    from curate.readers import vpt
    from curate.world import record

    record.synthesize(tmp_path, episodes=1, seconds=30, seed=3)
    truths = sorted(tmp_path.rglob("*.truth.json"))
    assert truths
    expected = matched = 0
    for truth_path in truths:
        truth = json.loads(truth_path.read_text())
        jsonl = truth_path.with_name(truth_path.name.removesuffix(".truth.json") + ".jsonl")
        labels = InstructionLabeler().label(vpt.read_vpt(jsonl))
        ends = labels.with_row_index("t").filter("instruction_is_end")
        got = set(ends.select("t", "instruction_event").iter_rows())
        want = {
            (e["tick"], e["event"])
            for e in truth["events"]
            if e["event"].split(":")[0] in QUALIFYING_FAMILIES
        }
        expected += len(want)
        matched += len(want & got)
        assert got == want, truth_path.name
    print(f"synthetic segment ends matching truth.json: {matched}/{expected}")
    assert expected > 0


@pytest.mark.parametrize("entry", ["custom:play_time", "custom:walk_one_cm", "minecraft.custom"])
def test_per_tick_counters_can_never_qualify(entry):
    with pytest.raises(ValidationError, match="almost every tick"):
        InstructionParams(families=[entry])


def test_whitelist_entries_may_carry_the_minecraft_prefix():
    labeler = InstructionLabeler(InstructionParams(families=["minecraft.mine_block"]))
    episode = Episode("e", "vpt", make_ticks(3, {1: ["mine_block:dirt"]}))
    events = labeler.output(labeler.label(episode))["event"].to_list()
    assert events == ["mine_block:dirt", "mine_block:dirt", None]


def test_stats_count_segment_ends_by_family():
    events = {
        1: ["mine_block:oak_log"],
        2: ["custom:play_time"],  # never an end
        4: ["mine_block:dirt", "use_item:wooden_shovel"],  # one end: its segment's event
        6: ["craft_item:stick"],
        7: ["drop:dirt"],  # not whitelisted
    }
    episode = Episode("ep", "test", make_ticks(9, events))
    labeler = InstructionLabeler()
    assert labeler.stats(episode, labeler.label(episode)) == {"mine_block": 2, "craft_item": 1}
