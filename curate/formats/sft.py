"""One episode's SFT rows: which ticks become rows, their frames as JPEG, the parquet parts.

A row is one kept tick: every `stride`-th tick, its action resampled over the stride
(ACTION_SPACES.md section 2a), so text and motion are labelled again on the resampled ticks when
the stride is above 1. No-op rows are kept with probability `keep_noop` (a draw seeded by the
recipe seed and the episode id). The frames a row shows (its own and its history's) are decoded
once with every other consumer of the episode's frames and held as JPEG bytes until the rows
are written (a few KB a frame: an hour at stride 1 and 640x360 holds a few GB).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from curate.episode import Episode, episode_rng, resample
from curate.formats.chat import ROW_GROUP, Turn, chat_table, mixture_forms, schema, write_options
from curate.formats.images import cursors, to_jpeg
from curate.labelers import Labeler

SPILL_BYTES = 256 * 2**20  # an episode's JPEGs kept in memory; beyond, in a file
ROWS_PER_WRITE = 2 * ROW_GROUP  # rows built and written at a time, so memory stays bounded


@dataclass(frozen=True)
class SftOptions:
    """The recipe's settings that shape SFT rows."""

    width: int
    height: int
    quality: int
    stride: int
    history: int
    keep_noop: float
    mixture: Mapping[str, float]
    seed: int
    layout: str = "messages"  # chat.LAYOUTS
    prompts: Mapping[str, str] = field(default_factory=dict)  # the recipe's own, by form


@dataclass(frozen=True)
class SftRows:
    """The kept ticks of an episode with their labels, and which of them become rows."""

    turns: list[Turn]
    rows: list[int]  # indices into `turns`
    history: int

    def with_grounding(self, labels: pl.DataFrame) -> SftRows:
        """The same rows with each kept tick's grounding, once the frame-reading labeler ran."""
        if "grounding_text" not in labels.columns:
            return self
        text = labels["grounding_text"].gather([t.tick for t in self.turns]).to_list()
        turns = [replace(t, grounding=g) for t, g in zip(self.turns, text, strict=True)]
        return replace(self, turns=turns)

    @property
    def frame_ticks(self) -> list[int]:
        """The ticks whose frames the rows show: each row's own and its history's."""
        shown = {j for i in self.rows for j in range(max(0, i - self.history), i + 1)}
        return [self.turns[j].tick for j in sorted(shown)]


def plan_rows(
    episode: Episode, labels: pl.DataFrame, labelers: Mapping[str, Labeler], options: SftOptions
) -> SftRows:
    """The kept ticks and the rows; `labels` holds the per-tick labels already made."""
    kept = Episode(episode.episode_id, episode.source, resample(episode.ticks, options.stride))
    resampled = labels
    if options.stride > 1:
        spaces = [s for s in ("text", "motion") if s in labelers]
        resampled = pl.concat([labelers[s].label(kept) for s in spaces], how="horizontal")
    n = kept.ticks.num_rows

    def column(name: str) -> list:
        return resampled[name].to_list() if name in resampled.columns else [None] * n

    action, motion = column("text_action"), column("motion_text")
    ticks = kept.ticks.column("tick").to_pylist()
    instruction = labels["instruction_text"].gather(ticks).to_list()
    turns = [Turn(*t) for t in zip(ticks, action, motion, [None] * n, instruction, strict=True)]
    null = kept.ticks.column("null").to_numpy(zero_copy_only=False)
    keep = episode_rng(options.seed, f"{episode.episode_id}:noop").random(n)
    rows = [i for i in range(n) if not null[i] or keep[i] < options.keep_noop]
    return SftRows(turns, rows, options.history)


class JpegFrames:
    """A frame reader that encodes the ticks it asks for as JPEG, with the cursor drawn on VPT
    frames while a GUI is open (VPT videos have none; ACTION_SPACES.md section 2).

    The JPEGs stay in memory up to SPILL_BYTES, then go to an unnamed file in this machine's
    temporary folder (TMPDIR; an hour at 640x360 is gigabytes): a build's memory does not grow
    with episode length, and no spill crosses a shared filesystem."""

    def __init__(self, episode: Episode, ticks: list[int], options: SftOptions):
        self.ticks = ticks
        self.options = options
        # closed by `read`; the file it may roll over to has no name, so even a killed build
        # leaves nothing behind
        self._out = tempfile.SpooledTemporaryFile(SPILL_BYTES)  # noqa: SIM115
        self._where: dict[int, tuple[int, int]] = {}  # tick -> (offset, length) in `_out`
        self._cursor = cursors(episode)

    def take(self, tick: int, frame: np.ndarray) -> None:
        o = self.options
        data = to_jpeg(frame, o.width, o.height, o.quality, self._cursor.get(tick))
        self._where[tick] = (self._out.tell(), len(data))
        self._out.write(data)

    @contextmanager
    def read(self) -> Iterator[Mapping[int, bytes]]:
        """tick -> JPEG bytes of every frame taken; the spill is gone after."""
        with self._out:
            yield _Spilled(self._out, self._where)


class _Spilled(Mapping[int, bytes]):
    def __init__(self, data: IO[bytes], where: dict[int, tuple[int, int]]) -> None:
        self.data, self.where = data, where

    def __getitem__(self, tick: int) -> bytes:
        start, length = self.where[tick]
        self.data.seek(start)
        return self.data.read(length)

    def __iter__(self) -> Iterator[int]:
        return iter(self.where)

    def __len__(self) -> int:
        return len(self.where)


def write_sft(
    episode: Episode,
    planned: SftRows,
    jpeg: Mapping[int, bytes],
    configs: Sequence[str],
    options: SftOptions,
    work: Path,
) -> dict[str, tuple[int, int]]:
    """Write the chat rows of every SFT config of one episode; config -> (rows, Arrow bytes)."""
    turns, rows = planned.turns, planned.rows
    common = {"episode_id": episode.episode_id, "source": episode.source}
    written = {}
    grounded = [turns[i].grounding is not None for i in rows]
    for config in configs:
        forms, kept = None, rows
        if config == "all_in_one":
            rng = episode_rng(options.seed, f"{episode.episode_id}:mixture")
            forms = mixture_forms(len(rows), options.mixture, rng, grounded)
        elif config.startswith("grounding"):  # a tick without grounding has no row here
            kept = [i for i, g in zip(rows, grounded, strict=True) if g]
        size = 0
        layout = options.layout
        path = work / f"{config}.parquet"
        with pq.ParquetWriter(path, schema(layout), **write_options(layout)) as out:
            for start in range(0, len(kept), ROWS_PER_WRITE):
                block = slice(start, start + ROWS_PER_WRITE)
                table = chat_table(
                    config,
                    turns,
                    kept[block],
                    jpeg,
                    history=options.history,
                    stride=options.stride,
                    forms=forms[block] if forms else None,
                    layout=layout,
                    prompts=options.prompts,
                    **common,
                )
                out.write_table(table, row_group_size=ROW_GROUP)
                size += table.nbytes
        written[config] = (len(kept), size)
    return written
