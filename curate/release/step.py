"""The per-episode step of a build: read, filter, label, format, write the episode's parts.

It runs in executor worker processes, so its input is a small picklable `EpisodeTask` and
its output a JSON-able result; the rows themselves go to parquet parts in the task's folder.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from curate.contract import BINARY_ACTIONS, FRAME_HEIGHT
from curate.episode import Episode, episode_rng, resample
from curate.formats.chat import SCHEMA as CHAT_SCHEMA
from curate.formats.chat import Turn, chat_table, mixture_forms
from curate.formats.images import draw_cursor, to_jpeg
from curate.formats.ticks import LABEL_FIELDS, ticks_table
from curate.labelers import labeler_class
from curate.readers import RecordingError, read_episode
from curate.readers.video import iter_frames
from curate.release.recipe import Recipe


@dataclass(frozen=True)
class EpisodeTask:
    """One recording to build, and where its parts go."""

    name: str  # the recording's relative name
    path: Path
    split: str
    work: Path
    recipe: Recipe


def labeler(space: str, recipe: Recipe):
    """The labeler of `space` with the recipe's parameters (motion ties use the recipe seed)."""
    params = dict(getattr(recipe.labelers, space))
    if space == "motion":
        params.setdefault("seed", recipe.seed)
    return labeler_class(space)(**params)


def build_episode(task: EpisodeTask) -> dict:
    """Build one episode's parts; a bad recording comes back quarantined with its reason.

    Errors of this machine (a full disk, no memory) are not the recording's fault: they stop the
    build with no marker, so a rerun builds the episode again instead of keeping a false reason.
    """
    result = {"name": task.name, "split": task.split, "rows": {}, "bytes": {}}
    recipe = task.recipe
    try:
        sft = [c for c in recipe.configs if c != "ticks"]
        episode = read_episode(task.path)
        result.update(
            episode_id=episode.episode_id, ticks=len(episode), warnings=list(episode.warnings)
        )
        reason = filter_reason(episode, recipe)
        if reason:
            return {**result, "status": "filtered", "reason": reason}
        if sft and episode.frames is None:
            raise RecordingError(task.path, "no video beside the recording; image configs need it")
        task.work.mkdir(parents=True, exist_ok=True)
        full = full_labels(episode, recipe)
        result["stats"] = label_stats(full)
        if "ticks" in recipe.configs:
            table = ticks_table(episode, full)
            pq.write_table(table, task.work / "ticks.parquet", compression="zstd")
            result["rows"]["ticks"], result["bytes"]["ticks"] = table.num_rows, table.nbytes
        if sft:
            for config, (rows, size) in write_sft(episode, recipe, sft, task.work, full).items():
                result["rows"][config], result["bytes"][config] = rows, size
        return {**result, "status": "built"}
    except (OSError, MemoryError):
        raise
    except RecordingError as exc:
        return {**result, "status": "quarantined", "reason": _reason(exc, task.path)}
    except Exception as exc:  # noqa: BLE001 - one broken recording must not lose the others
        last = traceback.extract_tb(exc.__traceback__)[-1]
        where = f"{Path(last.filename).name}:{last.lineno}"
        reason = _reason(f"internal error at {where}: {exc!r}", task.path)
        return {**result, "status": "quarantined", "reason": reason}


def _reason(error: RecordingError | str, path: Path) -> str:
    """A quarantine reason that names files by name only: the release must not depend on where
    the builder keeps its recordings."""
    if isinstance(error, RecordingError):
        where = error.path.name + (f":{error.line}" if error.line is not None else "")
        error = f"{where}: {error.reason}"
    for folder in (path.parent, path):
        error = error.replace(f"{folder}/", "").replace(str(folder), path.name)
    return error


def filter_reason(episode: Episode, recipe: Recipe) -> str | None:
    """Why the recipe's filters leave this episode out, or None to keep it."""
    if len(episode) < recipe.filters.min_ticks:
        return f"{len(episode)} ticks, fewer than filters.min_ticks = {recipe.filters.min_ticks}"
    gui = pa.compute.mean(episode.ticks.column("gui_open").cast(pa.float64())).as_py()
    if gui > recipe.filters.max_gui_share:
        return f"GUI open on {gui:.0%} of ticks, more than filters.max_gui_share"
    return None


def full_labels(episode: Episode, recipe: Recipe) -> pl.DataFrame:
    """The tick table with the label columns of every tick-level space beside it."""
    labels = [labeler(space, recipe).label(episode) for space in LABEL_FIELDS]
    return pl.concat([pl.from_arrow(episode.ticks), *labels], how="horizontal")


def label_stats(full: pl.DataFrame) -> dict:
    """Counts behind the card's action-distribution plots (summed over episodes by the build)."""
    moved = (pl.col("camera_pitch") != 0) | (pl.col("camera_yaw") != 0)
    text = pl.col("text_action")
    phrases = full["motion_text"].str.strip_prefix("Motion: ").str.split(", ").explode()
    ends = (
        full.filter(pl.col("instruction_is_end"))["instruction_event"].str.split(":").list.first()
    )
    return {
        "env": {
            **{name: int(full[name].sum()) for name in BINARY_ACTIONS},
            "camera": int(full.select(moved.sum()).item()),
            "null": int(full["null"].sum()),
        },
        "vpt": _counts(full["vpt_buttons"].cast(pl.String)),
        "text": {
            part: int(full.select(text.str.contains(part, literal=True).sum()).item())
            for part in ("move(", "press(", "click(left)", "click(right)", "no_op")
        },
        "motion": _counts(phrases),
        "events": _counts(ends),
    }


def _counts(values: pl.Series) -> dict[str, int]:
    counts = values.drop_nulls().value_counts()
    return {str(k): int(v) for k, v in zip(counts[:, 0], counts[:, 1], strict=True)}


def sft_turns(
    episode: Episode, recipe: Recipe, full: pl.DataFrame
) -> tuple[list[Turn], np.ndarray]:
    """The kept ticks (every `stride`-th, aggregated) with their labels, and which are no-ops.

    `full` holds the per-tick labels already made; only a stride above 1 needs text and motion
    labelled again, on the resampled ticks."""
    kept = Episode(
        episode.episode_id, episode.source, resample(episode.ticks, recipe.images.stride)
    )
    resampled = full
    if recipe.images.stride > 1:
        spaces = ("text", "motion")
        resampled = pl.concat([labeler(s, recipe).label(kept) for s in spaces], how="horizontal")
    action = resampled["text_action"].to_list()
    motion = resampled["motion_text"].to_list()
    instruction = full["instruction_text"]
    ticks = kept.ticks.column("tick").to_numpy()
    turns = [
        Turn(int(t), a, m, None, instruction[int(t)])
        for t, a, m in zip(ticks, action, motion, strict=True)
    ]
    return turns, kept.ticks.column("null").to_numpy(zero_copy_only=False)


ROWS_PER_WRITE = 256  # SFT rows are built and written in blocks, so memory stays bounded


def write_sft(
    episode: Episode, recipe: Recipe, configs: list[str], work: Path, full: pl.DataFrame
) -> dict[str, tuple[int, int]]:
    """Write the chat rows of every SFT config for one episode; config -> (rows, Arrow bytes)."""
    turns, null = sft_turns(episode, recipe, full)
    keep = episode_rng(recipe.seed, f"{episode.episode_id}:noop").random(len(turns))
    rows = [i for i in range(len(turns)) if not null[i] or keep[i] < recipe.filters.keep_noop]
    needed = sorted({turns[j].tick for i in rows for j in range(max(0, i - recipe.history), i + 1)})
    jpeg = frames_as_jpeg(episode, needed, recipe)
    common = {"episode_id": episode.episode_id, "source": episode.source, "history": recipe.history}
    written = {}
    for config in configs:
        forms = None
        if config == "all_in_one":
            rng = episode_rng(recipe.seed, f"{episode.episode_id}:mixture")
            forms = mixture_forms(len(rows), recipe.mixture, rng)
        size = 0
        with pq.ParquetWriter(work / f"{config}.parquet", CHAT_SCHEMA, compression="zstd") as out:
            for start in range(0, len(rows), ROWS_PER_WRITE):
                block = slice(start, start + ROWS_PER_WRITE)
                table = chat_table(config, turns, rows[block], jpeg,
                                   forms=forms[block] if forms else None, **common)  # fmt: skip
                out.write_table(table)
                size += table.nbytes
        written[config] = (len(rows), size)
    return written


def frames_as_jpeg(episode: Episode, ticks: list[int], recipe: Recipe) -> dict[int, bytes]:
    """JPEG bytes of the given ticks' frames, with the cursor drawn on VPT frames in a GUI."""
    images = recipe.images
    gui = episode.ticks.column("gui_open").to_pylist()
    cursor_x = episode.ticks.column("cursor_x").to_pylist()
    cursor_y = episode.ticks.column("cursor_y").to_pylist()
    out = {}
    for tick, frame in zip(ticks, iter_frames(episode.frames, ticks), strict=True):
        if episode.source == "vpt" and gui[tick] and cursor_x[tick] is not None:
            scale = frame.shape[0] / FRAME_HEIGHT  # cursor columns are 640x360 frame pixels
            frame = draw_cursor(frame, cursor_x[tick] * scale, cursor_y[tick] * scale)
        out[tick] = to_jpeg(frame, images.width, images.height, images.quality)
    return out
