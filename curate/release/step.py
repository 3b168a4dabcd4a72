"""The per-episode step of a build: read, filter, label, format, write the episode's parts.

It runs in executor workers (processes here, nodes of a cluster later), so its input is a small
picklable `EpisodeTask` whose paths are a storage root plus a relative name, and its output a
typed `EpisodeResult`; the rows go to parquet parts in the task's work folder.

Only a fault of the recording quarantines it (a `RecordingError` from its reader, its video or
its frames). Anything else is a bug in curate or a problem of this machine (a full disk): it
fails the build with its traceback and leaves no marker, so no data is silently dropped and a
rerun builds the episode again.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import BaseModel

from curate.episode import Episode, FrameReader, FrameRef, as_frame
from curate.formats.sft import JpegFrames, SftOptions, plan_rows, write_sft
from curate.formats.ticks import ticks_schema, ticks_table
from curate.qa.checks import episode_qa
from curate.qa.frames import FrameSample, frame_sample
from curate.qa.gui import around_gui_changes, as_drawn, gui_lag
from curate.readers import RecordingError, read_episode
from curate.readers.video import read_frames
from curate.release.recipe import Recipe
from curate.sources import Stamp, stamp_of


@dataclass(frozen=True)
class EpisodeTask:
    """One recording to build, and where its parts go."""

    name: str  # the recording's name in the release
    root: Path  # the storage root of its source
    rel: str  # the recording, relative to `root`
    split: str
    staging: Path  # the build's staging root
    recipe: Recipe
    video: bool = True  # a VPT recording must have its .mp4
    task: str | None = None  # what the player was asked to do, when the source says
    stamp: Stamp = ()  # its files as the plan hashed them
    prompts: Mapping[str, str] = field(default_factory=dict)  # the recipe's own, by form

    @property
    def recording(self) -> Path:
        return self.root / self.rel

    @property
    def work(self) -> Path:
        return work_folder(self.staging, self.name)


def work_folder(staging: Path, name: str) -> Path:
    """Where the episode of recording `name` keeps its parts and marker while a build runs."""
    return staging / "work" / hashlib.sha256(name.encode()).hexdigest()[:16]


class EpisodeResult(BaseModel):
    """What became of one recording; the executor stores it as the task's completion marker."""

    name: str
    split: str
    status: Literal["built", "filtered", "quarantined"]
    reason: str | None = None  # why it was filtered or quarantined
    code: str | None = None  # the kind of fault of a quarantined one (`curate.readers.CODES`)
    episode_id: str | None = None
    ticks: int = 0
    frames: int = 0  # decoded and used by its labelers, images and label QA
    warnings: list[str] = []
    rows: dict[str, int] = {}  # config -> rows
    bytes: dict[str, int] = {}  # config -> Arrow bytes of its rows
    stats: dict[str, dict[str, int]] = {}  # space -> the counts behind its chart
    qa: dict[str, float | int | str | None] = {}  # label-QA check or stat -> value (curate.qa)


def build_episode(task: EpisodeTask) -> EpisodeResult:
    """Build one episode's parts; a bad recording comes back quarantined with its reason."""
    try:
        _unchanged(task)
        result = _build(task)
        _unchanged(task)  # nor while it was read
        return result
    except RecordingError as exc:
        reason = reason_of(exc, task.recording)
        return EpisodeResult(name=task.name, split=task.split, status="quarantined",
                             reason=reason, code=exc.code)  # fmt: skip


def _unchanged(task: EpisodeTask) -> None:
    """A recording whose files are not those the plan hashed is not built: its release would
    name inputs it was not built from."""
    folder = task.recording if task.recording.is_dir() else task.recording.parent
    try:
        same = stamp_of([folder / name for name, _, _ in task.stamp]) == task.stamp
    except FileNotFoundError:
        same = False
    if not same:
        raise RecordingError(
            task.recording,
            "changed during the build (a file's size or modification time is not what was "
            "hashed when the build started); rerun the build",
            code="changed",
        )


def _build(task: EpisodeTask) -> EpisodeResult:
    recipe = task.recipe
    episode = read_episode(task.recording)
    episode.task = task.task
    warnings = list(episode.warnings)
    recorded_gui_lag = None
    if episode.source == "minestudio" and episode.frames is not None:
        episode, recorded_gui_lag, note = gui_as_drawn(episode, episode.frames)
        warnings += [note] if note else []
    result = EpisodeResult(
        name=task.name,
        split=task.split,
        status="built",
        episode_id=episode.episode_id,
        ticks=len(episode),
        warnings=warnings,
    )
    reason = filter_reason(episode, recipe)
    if reason:
        return result.model_copy(update={"status": "filtered", "reason": reason})
    if episode.source == "vpt" and task.video and episode.frames is None:
        raise RecordingError(
            task.recording.with_suffix(".mp4"),
            "missing: each recording needs its video beside its .jsonl (for an action-only "
            "release, set `video: false` on the source)",
            code="missing_video",
        )

    labelers = {space: recipe.labeler(space) for space in recipe.spaces()}
    own = {s: lab.label(episode) for s, lab in labelers.items() if not lab.needs_frames}
    readers: dict[str, FrameReader] = {}
    for space, lab in labelers.items():
        reader = lab.frame_reader(episode) if lab.needs_frames else None
        if reader is not None:
            readers[space] = reader
    sft = [c for c in recipe.configs if c != "ticks"]
    options = sft_options(recipe, task.prompts)
    rows = plan_rows(episode, joined(episode, own), labelers, options) if sft else None
    jpeg = JpegFrames(episode, rows.frame_ticks, options) if rows else None
    consumers: list[FrameReader] = list(readers.values())
    if jpeg is not None:
        consumers.append(jpeg)
    if consumers and episode.frames is None:
        raise RecordingError(task.recording, "no video: the recipe's configs need frames",
                             code="missing_video")  # fmt: skip
    frames = 0
    # The label QA measures the view's move from tick to tick: a video of one frame a tick.
    sample = frame_sample(episode.ticks) if episode.frames and episode.frames.per_tick else None
    if episode.frames is not None and (consumers or sample):
        try:  # the sample shares the decoding pass of the frames the build needs
            frames = read_frames(episode.frames, [*consumers, *([sample] if sample else [])])
        except RecordingError as exc:
            if consumers:
                raise
            sample = None  # an action-only release does not need the video; its QA goes without
            result.warnings.append(f"label QA without frames: {reason_of(exc, task.recording)}")
    for space, lab in labelers.items():
        if lab.needs_frames:
            own[space] = lab.label(episode, readers.get(space))
    labels = joined(episode, own)
    if rows is not None:
        rows = rows.with_grounding(labels)
    stats = {space: lab.stats(episode, own[space]) for space, lab in labelers.items()}
    qa = episode_qa(episode.ticks, sample)
    if recorded_gui_lag is not None:
        qa["gui_lag"] = recorded_gui_lag  # as recorded: the labels use what the frames show

    task.work.mkdir(parents=True, exist_ok=True)
    written: dict[str, tuple[int, int]] = {}
    if "ticks" in recipe.configs:
        table = ticks_table(episode, labels, ticks_schema_of(recipe))
        pq.write_table(table, task.work / "ticks.parquet", compression="zstd")
        written["ticks"] = (table.num_rows, table.nbytes)
    if rows is not None and jpeg is not None:
        with jpeg.read() as images:
            written |= write_sft(episode, rows, images, sft, options, task.work)
    return result.model_copy(
        update={
            "frames": frames,
            "rows": {c: n for c, (n, _) in written.items()},
            "bytes": {c: size for c, (_, size) in written.items()},
            "stats": stats,
            "qa": qa,
        }
    )


def gui_as_drawn(episode: Episode, frames: FrameRef) -> tuple[Episode, int | None, str | None]:
    """A MineStudio episode whose `gui_open` follows its frames around each recorded GUI change
    (its flag runs a step ahead of them), the lag as recorded, and a note when ticks changed."""
    near = around_gui_changes(episode.ticks)
    seen = FrameSample(near, gui_ticks=near)
    if not seen.ticks:
        return episode, None, None
    try:
        read_frames(frames, [seen])
    except RecordingError as exc:  # quarantined later if the build needs the frames
        return episode, None, f"gui_open as recorded: its frames cannot be read ({exc.reason})"
    recorded = np.asarray(episode.ticks.column("gui_open"), dtype=bool)
    episode, changed = as_drawn(episode, seen.gui)
    note = None
    if changed:
        note = (f"info.jsonl: gui_open set from the frames on {changed} tick(s) where its "
                "is_gui_open disagreed with them")  # fmt: skip
    return episode, gui_lag(recorded, seen.gui), note


def ticks_schema_of(recipe: Recipe) -> pa.Schema:
    """The `ticks` config's schema: the tick table and the fields of every labeler it runs."""
    return ticks_schema(f for space in recipe.spaces() for f in recipe.labeler(space).fields)


def sft_options(recipe: Recipe, prompts: Mapping[str, str] | None = None) -> SftOptions:
    images = recipe.images
    return SftOptions(
        width=images.width,
        height=images.height,
        quality=images.quality,
        stride=images.stride,
        history=recipe.history,
        keep_noop=recipe.filters.keep_noop,
        mixture=dict(recipe.mixture),
        seed=recipe.seed,
        layout=recipe.layout,
        prompts=dict(prompts or {}),
    )


def joined(episode: Episode, labels: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """The tick table with every labeler's columns beside it."""
    return pl.concat([as_frame(episode.ticks), *labels.values()], how="horizontal")


def filter_reason(episode: Episode, recipe: Recipe) -> str | None:
    """Why the recipe's filters leave this episode out, or None to keep it."""
    if len(episode) < recipe.filters.min_ticks:
        return f"{len(episode)} ticks, fewer than filters.min_ticks = {recipe.filters.min_ticks}"
    gui = pc.mean(episode.ticks.column("gui_open").cast(pa.float64())).as_py()
    if gui > recipe.filters.max_gui_share:
        return f"GUI open on {gui:.0%} of ticks, more than filters.max_gui_share"
    return None


def reason_of(error: RecordingError, recording: Path) -> str:
    """The quarantine reason: the file by name (and line), then what is wrong with it. The
    folders before a file's name are cut wherever the message repeats its path, so the release
    never depends on where the builder keeps its recordings."""
    where = error.path.name + (f":{error.line}" if error.line is not None else "")
    text = f"{where}: {error.reason}"
    for name in {error.path.name, recording.name}:
        text = re.sub(r"[^\s'\"(]*/(?=" + re.escape(name) + r")", "", text)
    return text
