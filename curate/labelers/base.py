"""The labeler: a pure function from an episode's tick table to the columns of one action space."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import polars as pl

from curate.episode import Episode


class Labeler(ABC):
    """One action space. Subclasses set `space` and `version`; the version enters the release
    fingerprint, so bump it whenever a label could change."""

    space: ClassVar[str]
    version: ClassVar[str]

    @abstractmethod
    def label(self, episode: Episode) -> pl.DataFrame:
        """Label columns, one row per tick of `episode`, prefixed with the space name."""

    @abstractmethod
    def fields(self, labels: pl.DataFrame) -> pl.DataFrame:
        """The columns `curate label SPACE` writes per tick, named as the public contract says."""
