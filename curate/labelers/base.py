"""The labeler contract: one action space, a pure function of an episode's tick table (and, for a
labeler that reads frames, of the frames it asked for) to new columns.

A labeler class declares everything the rest of curate needs to know about its space, so adding a
space is one module plus its registry entry (`curate.labelers.BUILTIN`, or an entry point of the
`curate.labelers` group, or `from: module:Class` in a recipe):

- `space`, `version`: the name and the version that enters the release fingerprint;
- `Params`: the pydantic model of its recipe section `labelers.<space>`;
- `fields`: the Arrow fields it adds to the `ticks` config;
- `needs_frames`: whether it reads frames (then `frame_reader` says which);
- `chart`: the card's chart of its `stats`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar

import polars as pl
import pyarrow as pa
from pydantic import BaseModel, ConfigDict

from curate.episode import Episode, FrameReader


class Params(BaseModel):
    """A labeler's parameters: unknown keys are refused, so a typo never builds another dataset."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Chart:
    """How the card draws a labeler's `stats`: the `bars` largest, as shares of ticks or counts."""

    title: str
    bars: int = 15
    unit: str = "share"  # "share" (of all ticks) or "count"


P = TypeVar("P", bound=Params)


class Labeler(ABC, Generic[P]):
    """One action space. Bump `version` whenever a label could change."""

    space: ClassVar[str]
    version: ClassVar[str]
    Params: ClassVar[type[Params]] = Params
    fields: ClassVar[tuple[pa.Field, ...]] = ()
    needs_frames: ClassVar[bool] = False
    chart: ClassVar[Chart | None] = None

    def __init__(self, params: P | None = None, seed: int = 0) -> None:
        self.params: P = params if params is not None else self.Params()  # type: ignore[assignment]
        self.seed = seed  # the recipe seed: every random choice is drawn from it and the episode id

    def frame_reader(self, episode: Episode) -> FrameReader | None:
        """The frames this labeler reads of `episode` (labelers with `needs_frames`)."""
        return None

    @abstractmethod
    def label(self, episode: Episode, frames: FrameReader | None = None) -> pl.DataFrame:
        """Label columns, one row per tick of `episode`, named `<space>_...`; they include
        `fields`. `frames` is this labeler's `frame_reader` after the frames went through it."""

    @abstractmethod
    def output(self, labels: pl.DataFrame) -> pl.DataFrame:
        """The columns `curate label SPACE` writes per tick, named as the public contract says."""

    def stats(self, episode: Episode, labels: pl.DataFrame) -> dict[str, int]:
        """Counts behind the card's chart (summed over episodes by the build)."""
        return {}


def counts(values: pl.Series) -> dict[str, int]:
    """How often each non-null value occurs, for `Labeler.stats`."""
    table = values.drop_nulls().value_counts()
    return {str(k): int(v) for k, v in zip(table[:, 0], table[:, 1], strict=True)}
