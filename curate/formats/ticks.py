"""The `ticks` config: one row per tick with the raw action and every label column, no images.

Its schema is fixed here (not inferred from what polars happens to return), so every part of
every build has the same types, and `string`, not `large_string`, like the SFT configs.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa
from datasets import Features

from curate.episode import TICK_SCHEMA, Episode

# label columns kept of each tick-level labeler (motion's per-slot columns are parts of
# `motion_text`; instruction's per-tick event list repeats `events`)
LABEL_FIELDS = {
    "vpt": (pa.field("vpt_buttons", pa.int32()), pa.field("vpt_camera", pa.int32())),
    "text": (pa.field("text_action", pa.string()),),
    "motion": (pa.field("motion_text", pa.string()),),
    "instruction": (
        pa.field("instruction_text", pa.string()),
        pa.field("instruction_event", pa.string()),
        pa.field("instruction_segment", pa.int32()),
    ),
}
SCHEMA = Features.from_arrow_schema(
    pa.schema(
        [
            pa.field("episode_id", pa.string()),
            *TICK_SCHEMA,
            *(f for fields in LABEL_FIELDS.values() for f in fields),
        ]
    )
).arrow_schema


def ticks_table(episode: Episode, labels: pl.DataFrame) -> pa.Table:
    """One episode's rows; `labels` is the tick table with the labelers' columns beside it."""
    frame = labels.select(pl.lit(episode.episode_id).alias("episode_id"), *SCHEMA.names[1:])
    return frame.to_arrow().cast(SCHEMA)
