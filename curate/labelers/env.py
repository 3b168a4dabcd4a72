"""The canonical env action itself (ACTION_SPACES.md section 2): the ground truth of every space."""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa

from curate.contract import BINARY_ACTIONS
from curate.episode import Episode
from curate.labelers.base import Labeler


class EnvLabeler(Labeler):
    """The MineRL-style action dict per tick: every binary as 0/1 and camera as [pitch, yaw]."""

    space = "env"
    version = "1"

    def label(self, episode: Episode) -> pl.DataFrame:
        # Built from the tick table's own Arrow columns: no copy of the binaries.
        ticks = episode.ticks
        camera = np.stack([ticks["camera_pitch"].to_numpy(), ticks["camera_yaw"].to_numpy()], 1)
        columns = [ticks[name].combine_chunks() for name in BINARY_ACTIONS]
        columns.append(pa.FixedSizeListArray.from_arrays(camera.ravel(), 2))
        action = pa.StructArray.from_arrays(columns, names=[*BINARY_ACTIONS, "camera"])
        return pl.from_arrow(pa.table({"env_action": action, "env_null": ticks["null"]}))

    def fields(self, labels: pl.DataFrame) -> pl.DataFrame:
        return labels.select(action="env_action", null="env_null")
