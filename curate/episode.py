"""The canonical episode: one Arrow tick table plus a reference to its frames.

Every reader produces this and every labeler consumes it, so the rest of curate never sees a
source format. Tick i pairs frame i (what the player saw) with action i (what it did then).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
import polars as pl
import pyarrow as pa

from curate.contract import BINARY_ACTIONS, FPS

TICK_SCHEMA = pa.schema(
    [
        pa.field("tick", pa.int32(), nullable=False),
        *(pa.field(name, pa.uint8(), nullable=False) for name in BINARY_ACTIONS),
        pa.field("camera_pitch", pa.float64(), nullable=False),  # degrees, positive looks down
        pa.field("camera_yaw", pa.float64(), nullable=False),  # degrees, positive turns right
        pa.field("null", pa.bool_(), nullable=False),
        pa.field("gui_open", pa.bool_(), nullable=False),
        # the open GUI is the player's inventory (not a container); null when the source omits it
        pa.field("gui_inventory", pa.bool_()),
        pa.field("cursor_x", pa.float32()),  # pixels on the 640x360 frame; null when unknown
        pa.field("cursor_y", pa.float32()),
        pa.field("hotbar", pa.int8(), nullable=False),  # selected slot 0..8
        pa.field("x", pa.float64()),
        pa.field("y", pa.float64()),
        pa.field("z", pa.float64()),
        pa.field("yaw", pa.float64()),
        pa.field("pitch", pa.float64()),
        pa.field("events", pa.list_(pa.string()), nullable=False),  # positive stats deltas
    ]
)


@dataclass(frozen=True)
class FrameRef:
    """Where an episode's frames live; decoding is lazy because action-only work never needs it."""

    kind: Literal["mp4", "minestudio"]
    path: Path
    count: int  # number of ticks; tick i shows the source frame the reader maps it to
    fps: float = FPS  # of the source video: another rate than 20 Hz is mapped to ticks by time

    @property
    def per_tick(self) -> bool:
        return one_frame_a_tick(self.fps)


def one_frame_a_tick(fps: float) -> bool:
    """20 fps up to a container's rounding of its rate (20.004 is still one frame a tick)."""
    return abs(fps - FPS) < 0.01


class FrameReader(Protocol):
    """A consumer of one episode's frames: the ticks it asks for, then each of their frames once.

    It keeps only what it needs of each frame, so memory stays bounded however long the episode
    is (an hour of 640x360 RGB is about 50 GB)."""

    @property
    def ticks(self) -> Sequence[int]:
        """The ticks whose frames it reads."""
        ...

    def take(self, tick: int, frame: np.ndarray) -> None: ...


@dataclass
class Episode:
    """One recording in canonical form."""

    episode_id: str
    source: str  # reader name: "vpt", "minestudio"
    ticks: pa.Table
    frames: FrameRef | None = None
    warnings: tuple[str, ...] = ()
    task: str | None = None  # what the player was asked to do (`craft_item:arrow`), when known

    def __post_init__(self) -> None:
        self.ticks = self.ticks.cast(TICK_SCHEMA)

    def __len__(self) -> int:
        return self.ticks.num_rows


def as_frame(table: pa.Table) -> pl.DataFrame:
    """A polars view of an Arrow table (no copy of the columns)."""
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)  # a table is never a Series
    return frame


def resample(ticks: pa.Table, k: int) -> pa.Table:
    """Every k-th tick standing for the k ticks from it (ACTION_SPACES.md section 2a): camera
    deltas summed, a binary set if set in any of them, events joined, the rest of the kept tick."""
    if k == 1:
        return ticks
    frame = as_frame(ticks)
    kept = frame.group_by((pl.col("tick") // k).alias("_group"), maintain_order=True).agg(
        *(pl.col(name).max() for name in BINARY_ACTIONS),
        pl.col("camera_pitch", "camera_yaw").sum(),
        pl.col("events").list.explode(keep_nulls=False, empty_as_null=False),
        pl.all().exclude(*BINARY_ACTIONS, "camera_pitch", "camera_yaw", "events").first(),
    )
    moved = (pl.col("camera_pitch") != 0) | (pl.col("camera_yaw") != 0)
    kept = kept.with_columns(null=~(pl.max_horizontal(*BINARY_ACTIONS) > 0) & ~moved)
    return kept.select(TICK_SCHEMA.names).to_arrow().cast(TICK_SCHEMA)


def episode_rng(seed: int, episode_id: str) -> np.random.Generator:
    """The one source of randomness for per-episode choices: seeded by the recipe seed and the id,
    so a rebuild, on any executor and in any order, draws the same numbers."""
    digest = hashlib.sha256(f"{seed}:{episode_id}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def schema_as_json() -> dict:
    """The tick table schema as JSON Schema-like document for `schemas/tick_table.schema.json`."""
    arrow_to_json = {
        "int32": "integer",
        "int8": "integer",
        "uint8": "integer",
        "float": "number",
        "double": "number",
        "bool": "boolean",
        "list<item: string>": "array",
    }
    props = {}
    for field in TICK_SCHEMA:
        kind = arrow_to_json[str(field.type)]
        prop: dict = {"type": [kind, "null"] if field.nullable else kind, "arrow": str(field.type)}
        if kind == "array":
            prop["items"] = {"type": "string"}
        props[field.name] = prop
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "curate canonical tick table (one row per tick)",
        "type": "object",
        "properties": props,
        "required": [f.name for f in TICK_SCHEMA],
        "additionalProperties": False,
    }


if __name__ == "__main__":  # regenerate schemas/tick_table.schema.json
    print(json.dumps(schema_as_json(), indent=2))
