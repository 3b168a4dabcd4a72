"""The canonical env action itself (ACTION_SPACES.md section 2): the ground truth of every space."""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa

from curate.contract import BINARY_ACTIONS
from curate.episode import Episode, as_frame
from curate.labelers.base import Chart, FrameReader, Labeler, Params


class EnvLabeler(Labeler[Params]):
    """The MineRL-style action dict per tick: every binary as 0/1 and camera as [pitch, yaw].

    Its columns are the tick table's own, so it adds none to `ticks`."""

    space = "env"
    version = "1"
    chart = Chart("share of ticks with each canonical action on", bars=30)

    def label(self, episode: Episode, frames: FrameReader | None = None) -> pl.DataFrame:
        # Built from the tick table's own Arrow columns: no copy of the binaries.
        ticks = episode.ticks
        camera = np.stack([ticks["camera_pitch"].to_numpy(), ticks["camera_yaw"].to_numpy()], 1)
        columns = [ticks[name].combine_chunks() for name in BINARY_ACTIONS]
        columns.append(pa.FixedSizeListArray.from_arrays(camera.ravel(), 2))
        action = pa.StructArray.from_arrays(columns, names=[*BINARY_ACTIONS, "camera"])
        return as_frame(pa.table({"env_action": action, "env_null": ticks["null"]}))

    def output(self, labels: pl.DataFrame) -> pl.DataFrame:
        return labels.select(action="env_action", null="env_null")

    def stats(self, episode: Episode, labels: pl.DataFrame) -> dict[str, int]:
        ticks = as_frame(episode.ticks)
        moved = (pl.col("camera_pitch") != 0) | (pl.col("camera_yaw") != 0)
        return {
            **{name: int(ticks[name].sum()) for name in BINARY_ACTIONS},
            "camera": int(ticks.select(moved.sum()).item()),
            "null": int(ticks["null"].sum()),
        }
