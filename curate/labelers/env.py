"""The canonical env action itself (ACTION_SPACES.md section 2): the ground truth of every space."""

from __future__ import annotations

import polars as pl

from curate.contract import BINARY_ACTIONS
from curate.episode import Episode
from curate.labelers.base import Labeler


class EnvLabeler(Labeler):
    """The MineRL-style action dict per tick: every binary as 0/1 and camera as [pitch, yaw]."""

    space = "env"
    version = "1"

    def label(self, episode: Episode) -> pl.DataFrame:
        ticks = pl.from_arrow(episode.ticks)
        return ticks.select(
            pl.struct(
                *(pl.col(name).cast(pl.Int64) for name in BINARY_ACTIONS),
                pl.concat_list("camera_pitch", "camera_yaw").alias("camera"),
            ).alias("env_action"),
            pl.col("null").alias("env_null"),
        )

    def fields(self, labels: pl.DataFrame) -> pl.DataFrame:
        return labels.select(action="env_action", null="env_null")
