"""The `ticks` config: one row per tick with the raw action and the label columns of every
labeler the build runs (each labeler declares its `fields`), no images.

Its schema is fixed by those declarations (not inferred from what polars happens to return), so
every part of every build has the same types, and `string`, not `large_string`, like the SFT
configs.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl
import pyarrow as pa
from datasets import Features

from curate.episode import TICK_SCHEMA, Episode


def ticks_schema(fields: Iterable[pa.Field]) -> pa.Schema:
    """The episode id, the tick table, then the given label fields."""
    schema = pa.schema([pa.field("episode_id", pa.string()), *TICK_SCHEMA, *fields])
    return Features.from_arrow_schema(schema).arrow_schema


def ticks_table(episode: Episode, labels: pl.DataFrame, schema: pa.Schema) -> pa.Table:
    """One episode's rows; `labels` is the tick table with the labelers' columns beside it."""
    frame = labels.select(pl.lit(episode.episode_id).alias("episode_id"), *schema.names[1:])
    return frame.to_arrow().cast(schema)
