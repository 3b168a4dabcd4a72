"""Instruction labels: event-based task instructions (ACTION_SPACES.md section 8).

A qualifying event (a stat event whose family is whitelisted) ends an instruction segment: the
ticks after the previous qualifying event up to and including its own tick. Every tick of the
segment gets the event and its instruction (`mine_block:oak_log` -> "Mine an oak log."); ticks after
the last qualifying event get nulls. The events themselves come from the tick table's `events`
column, which the readers fill from stats deltas.

Decisions where the contract is silent (each is tested in tests/labelers/test_instruction.py):

- Whitelist entries are families (`mine_block`) or exact events (`custom:open_chest`), so an
  event-like counter of a per-tick family can still be chosen. The whole `custom` family is refused
  with an error: its counters (`custom:play_time`, `custom:walk_one_cm`, ...) grow on almost every
  tick and would make every tick a segment, which a recipe never means.
- Several qualifying events on one tick: the segment's event is the first in whitelist order
  (family or exact entry, whichever comes first), then in sorted order. With the default whitelist,
  mining with a tool (`mine_block:stone` and `use_item:wooden_pickaxe` on one tick) is a mining
  segment and killing a mob that drops loot on the same tick a kill segment. The tick's own
  qualifying events are all kept, in that order, in `instruction_events`.
- The ticks after the last qualifying event form an open segment: they get the next segment index
  and `instruction_is_end` false, with a null event and a null text, or the text of the
  recording's task when its source names one (a MineStudio rollout of `craft_item:arrow` that
  never crafts is still about crafting an arrow).
- Events are taken as they are on every tick, tick 0 included: the VPT reader leaves tick 0 empty
  (its stats are the baseline); the MineStudio reader puts on tick 0 what its action caused (the
  recorded info before it is the baseline).
- Instruction wording: one template per family (mine_block, craft_item, kill_entity, use_item,
  pickup, drop; `custom` events, whose names are verb phrases, read as themselves:
  `custom:open_chest` -> "Open chest.") and `<Family in words>: <object>.` for any other. Object
  ids become words (`oak_log` -> `oak log`); the article is `an` before a vowel sound (a vowel
  letter, except the few that sound like a consonant: `a unicorn`), `a` otherwise, and none for
  plural ids (ending in `s`, not `ss`/`us`: `oak planks`, `iron bars`) and for the mass nouns of
  `MASS_NOUNS` (`Mine dirt.`).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import field_validator

from curate.contract import QUALIFYING_FAMILIES
from curate.episode import Episode
from curate.labelers.base import Chart, FrameReader, Labeler, Params, counts
from curate.readers.stats import is_per_tick_counter

# Families whose counters grow on almost every tick; never a whole-family whitelist entry.
PER_TICK_FAMILIES: tuple[str, ...] = ("custom",)

INSTRUCTION_TEMPLATES: dict[str, str] = {
    "mine_block": "Mine {noun}.",
    "craft_item": "Craft {noun}.",
    "kill_entity": "Kill {noun}.",
    "use_item": "Use {noun}.",
    "pickup": "Pick up {noun}.",
    "drop": "Drop {noun}.",
    "custom": "{words}.",  # custom stat names are verb phrases: custom:open_chest -> "Open chest."
}
FALLBACK_TEMPLATE = "{family}: {noun}."  # the first letter of every instruction is capitalised

# Last words of object names read as mass nouns (no article): "Mine dirt.", "Pick up cobblestone."
# fmt: off
MASS_NOUNS = frozenset((
    "dirt", "sand", "sandstone", "gravel", "stone", "cobblestone", "clay", "snow", "grass",
    "netherrack", "glass", "obsidian", "coal", "charcoal", "redstone", "gunpowder", "sugar",
    "leather", "bread", "wheat", "beef", "mutton", "wool", "terracotta", "concrete", "ice", "lava",
    "water",
))
# fmt: on

# Vowel letters that start with a consonant sound ("a unicorn", "a eucalyptus", "a one-way sign").
_CONSONANT_SOUND_STARTS = ("uni", "use", "usu", "ura", "eu", "one")


def object_words(obj: str) -> str:
    """An object id in words: `minecraft.oak_log` or `oak_log` -> `oak log`."""
    return obj.removeprefix("minecraft.").replace("_", " ").strip()


def with_article(words: str) -> str:
    """`words` with the indefinite article it takes, or none for plural and mass nouns.

    >>> [with_article(w) for w in ("oak log", "pig", "oak planks", "dirt", "grass block")]
    ['an oak log', 'a pig', 'oak planks', 'dirt', 'a grass block']
    """
    last = words.rsplit(" ", 1)[-1]
    plural = last.endswith("s") and not last.endswith(("ss", "us"))
    if not words or plural or last in MASS_NOUNS:
        return words
    vowel_sound = words[0] in "aeiou" and not words.startswith(_CONSONANT_SOUND_STARTS)
    return ("an " if vowel_sound else "a ") + words


def instruction_text(event: str) -> str:
    """The instruction of one event.

    >>> instruction_text("mine_block:oak_log"), instruction_text("killed_by:zombie")
    ('Mine an oak log.', 'Killed by: a zombie.')
    """
    family, _, obj = event.partition(":")
    family = family.removeprefix("minecraft.")
    words = object_words(obj) or "something"
    template = INSTRUCTION_TEMPLATES.get(family, FALLBACK_TEMPLATE)
    text = template.format(family=object_words(family), noun=with_article(words), words=words)
    return text[0].upper() + text[1:]


def instruction_labels(
    ticks: pa.Table, families: Iterable[str] = QUALIFYING_FAMILIES, task: str | None = None
) -> pl.DataFrame:
    """Instruction label columns for a tick table.

    `instruction_text` / `instruction_event`: the instruction and event of the qualifying event that
    ends the tick's segment (null after the last one; there, the recording's `task`, when its
    source names one, gives the text and the event stays null); `instruction_segment`: the
    segment index;
    `instruction_is_end`: the tick ends its segment; `instruction_events`: the tick's own qualifying
    events, the segment's event first.
    """
    rank = _whitelist_rank(families)
    n = ticks.num_rows
    # Rank the distinct event names once (a recording has a few dozen), then gather per event:
    # no per-event Python, though per-tick counters give every tick several events.
    column = ticks.column("events").combine_chunks()
    names = column.flatten().dictionary_encode()  # flatten, not .values: respects slicing
    distinct = names.dictionary.to_pylist()
    order = {name: i for i, name in enumerate(sorted(distinct))}
    no_rank = len(rank)
    rank_of = np.array([min(rank.get(e, no_rank), rank.get(e.split(":")[0], no_rank))
                        for e in distinct] or [no_rank], np.int64)  # fmt: skip
    name_of = np.array([order[e] for e in distinct] or [0], np.int64)
    codes = names.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    lengths = pc.list_value_length(column).fill_null(0).to_numpy(zero_copy_only=False)
    row = np.repeat(np.arange(n), lengths)
    keep = rank_of[codes] < no_rank
    row, codes = row[keep], codes[keep]
    sort = np.lexsort((name_of[codes], rank_of[codes], row))  # by row, rank, then name
    row, codes = row[sort], codes[sort]
    events = (
        pl.DataFrame({"row": row.astype(np.uint32),
                      "events": pl.Series(distinct, dtype=pl.String).gather(codes)})
        .group_by("row", maintain_order=True)
        .agg(pl.col("events"))
    )  # fmt: skip
    rows = events["row"].to_numpy()
    is_end = np.zeros(n, dtype=bool)
    is_end[rows] = True
    segment = np.cumsum(is_end) - is_end

    # One entry per segment, the open one after the last event included (null event and text).
    ends = pl.concat([events["events"].list.first(), pl.Series([None], dtype=pl.String)])
    open_text = instruction_text(task) if task else None
    texts = pl.Series([instruction_text(e) for e in ends[:-1]] + [open_text], dtype=pl.String)
    own = (
        pl.DataFrame({"row": np.arange(n, dtype=np.uint32)})
        .join(events, on="row", how="left", maintain_order="left")
        .select(pl.col("events").fill_null(pl.lit([], dtype=pl.List(pl.String))))
        .to_series()
    )
    index = pl.Series(segment, dtype=pl.UInt32)
    return pl.DataFrame(
        {
            "instruction_text": texts.gather(index),
            "instruction_event": ends.gather(index),
            "instruction_segment": pl.Series(segment, dtype=pl.Int32),
            "instruction_is_end": is_end,
            "instruction_events": own,
        }
    )


def _whitelist_rank(families: Iterable[str]) -> dict[str, int]:
    """Whitelist entry -> its position; refuses a whole per-tick family."""
    rank: dict[str, int] = {}
    for entry in families:
        entry = entry.replace("minecraft.", "")  # events carry no prefix; neither may entries
        if entry in PER_TICK_FAMILIES:
            raise ValueError(
                f"the {entry!r} family grows on almost every tick and cannot end instruction "
                f"segments; whitelist single events instead, e.g. '{entry}:open_chest'"
            )
        if is_per_tick_counter(entry):
            raise ValueError(
                f"{entry!r} grows on almost every tick and cannot end instruction segments"
            )
        rank.setdefault(entry, len(rank))
    return rank


class InstructionParams(Params):
    # the whitelist of qualifying events: families (`mine_block`) or exact events
    families: tuple[str, ...] = QUALIFYING_FAMILIES

    @field_validator("families")
    @classmethod
    def _whitelist(cls, families: tuple[str, ...]) -> tuple[str, ...]:
        _whitelist_rank(families)  # a bad whitelist fails when the recipe is read
        return families


class InstructionLabeler(Labeler[InstructionParams]):
    """Event-based task instructions; `families` is the whitelist of qualifying events."""

    space = "instruction"
    version = "2"  # 2: the recording's task where events give none
    Params = InstructionParams
    # (its per-tick event list repeats the tick table's `events`, so it is not kept)
    fields = (
        pa.field("instruction_text", pa.string()),
        pa.field("instruction_event", pa.string()),
        pa.field("instruction_segment", pa.int32()),
    )
    chart = Chart("task events that end an instruction segment (count)", unit="count")

    def label(self, episode: Episode, frames: FrameReader | None = None) -> pl.DataFrame:
        return instruction_labels(episode.ticks, self.params.families, episode.task)

    def output(self, labels: pl.DataFrame) -> pl.DataFrame:
        return labels.select(
            pl.col("instruction_text").alias("text"), pl.col("instruction_event").alias("event")
        )

    def stats(self, episode: Episode, labels: pl.DataFrame) -> dict[str, int]:
        ends = labels.filter(pl.col("instruction_is_end"))["instruction_event"]
        return counts(ends.str.split(":").list.first())
