"""A recipe's recordings as a LeRobot v3 dataset, for robotics-style trainers.

`curate export lerobot RECIPE --out OUT` plans the recipe as `curate build` does (the same
sources, downloads and caches) and reads every recording with the same readers and frames: a
release's `ticks` rows carry no frames, so the export starts from the recordings. One LeRobot
frame stands for `images.stride` ticks (ACTION_SPACES.md section 2a: the camera summed over
them, a key on if it was on in any of them), at the recipe's image size, with the cursor drawn
on GUI frames of VPT recordings as in the SFT rows. The layout is LeRobot's v3:

    meta/info.json            features (names, shapes, units), fps, paths, counts
    meta/stats.json           min, max, mean, std and count of every feature
    meta/tasks.parquet        each instruction once, by task_index
    meta/episodes/chunk-000/file-000.parquet   an episode's length, task, data and video place
    data/chunk-000/file-NNN.parquet            one file an episode: action, state, indices
    videos/observation.image/chunk-000/file-NNN.mp4   one H.264 video an episode

LeRobot cannot share curate's environment (it pins older torch, datasets and huggingface_hub):
install it in a venv of its own to read the export.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.contract import BINARY_ACTIONS, FPS
from curate.episode import Episode, resample
from curate.exports import ExportError
from curate.formats.images import cursors, prepared
from curate.formats.prompts import NO_TASK
from curate.formats.video import H264
from curate.readers import RecordingError, read_episode
from curate.readers.video import read_frames
from curate.release.plan import plan
from curate.release.progress import Counter, Reporter
from curate.release.recipe import Images
from curate.release.step import filter_reason, gui_as_drawn, reason_of

CODEBASE_VERSION = "v3.0"
VIDEO_KEY = "observation.image"
DATA_PATH = "data/chunk-000/file-{index:03d}.parquet"
VIDEO_PATH = "videos/" + VIDEO_KEY + "/chunk-000/file-{index:03d}.mp4"
EPISODES_PATH = "meta/episodes/chunk-000/file-000.parquet"
ACTION_NAMES = [*BINARY_ACTIONS, "camera_pitch", "camera_yaw"]
STATE_NAMES = ["x", "y", "z", "yaw", "pitch", "gui_open", "cursor_x", "cursor_y"]
UNITS = {
    "action": "binaries 0/1 (1: pressed in any tick of the frame); camera_pitch and camera_yaw "
    "in degrees summed over the frame's ticks, positive looks down and turns right",
    "observation.state": "x, y, z in blocks; yaw, pitch in degrees; gui_open 0/1; cursor_x, "
    "cursor_y in pixels of the 640x360 frame; 0 where the recording has no value",
}
# A key frame every 2 frames, as LeRobot encodes, so that a random frame decodes at once; one
# thread and no macroblock tree, so that the same frames always give the same bytes.
X264 = {"preset": "veryfast", "crf": "23", "g": "2", "x264-params": "threads=1:no-mbtree=1"}
MARKER = ".curate-export"  # in `<out>.partial` while an export writes it
QUANTILES = {"q01": 0.01, "q10": 0.10, "q50": 0.50, "q90": 0.90, "q99": 0.99}


@dataclass
class Exported:
    episodes: int
    frames: int
    left_out: dict[str, str]  # recording name -> why it is not in the export


def export_lerobot(recipe_path: Path, out: Path, report: Reporter | None = None) -> Exported:
    """Write the LeRobot dataset of the recipe's recordings into `out` (which must not exist):
    written aside (`<out>.partial`) and renamed when whole."""
    the_plan = plan(recipe_path, report)
    recipe = the_plan.recipe
    images = recipe.images
    if FPS % images.stride:
        raise ExportError(
            f"images.stride {images.stride} gives {FPS / images.stride:g} frames a second; "
            f"LeRobot needs a whole number: use a stride that divides {FPS}"
        )
    if images.width % 2 or images.height % 2:
        raise ExportError(f"images {images.width}x{images.height}: H.264 needs an even width "
                          "and height")  # fmt: skip
    fps = FPS // images.stride
    staging = out.with_name(out.name + ".partial")
    if staging.exists():
        if not (staging / MARKER).exists():
            raise ExportError(f"{staging} exists and was not left by curate: move it away")
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    (staging / MARKER).touch()
    instruction = recipe.labeler("instruction")
    left_out = {x.name: x.reason for x in the_plan.refused}
    tasks: dict[str, int] = {}
    episodes: list[dict] = []
    columns: list[pa.Table] = []
    pixels = PixelStats()
    splits = {"train": 0, "validation": 0}
    counter = Counter(report, "exporting episodes", len(the_plan.recordings))
    # train first, then validation: each split is one range of episode indices
    for planned in sorted(the_plan.recordings, key=lambda p: p.split != "train"):
        counter.add(1)
        name = planned.recording.name
        try:
            episode = read_episode(planned.recording.path)
            if episode.source == "minestudio" and episode.frames is not None:
                episode = gui_as_drawn(episode, episode.frames)[0]
        except RecordingError as exc:
            left_out[name] = reason_of(exc, planned.recording.path)
            continue
        why = filter_reason(episode, recipe)
        if why or episode.frames is None:
            left_out[name] = why or "no video: the export needs frames"
            continue
        episode.task = planned.task
        index = len(episodes)
        kept = resample(episode.ticks, images.stride)
        said = instruction.label(episode)["instruction_text"].to_list()
        task = [said[t] or NO_TASK for t in kept.column("tick").to_pylist()]
        video = staging / VIDEO_PATH.format(index=index)
        try:
            with VideoFrames(episode, kept, (images.width, images.height), fps, video) as frames:
                read_frames(episode.frames, [frames])
        except RecordingError as exc:
            video.unlink(missing_ok=True)
            left_out[name] = reason_of(exc, planned.recording.path)
            continue
        pixels.add(frames.pixels)
        for text in task:
            tasks.setdefault(text, len(tasks))
        start = sum(e["length"] for e in episodes)
        table = _data(kept, [tasks[t] for t in task], index, start, fps)
        (staging / DATA_PATH.format(index=index)).parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, staging / DATA_PATH.format(index=index))
        columns.append(table)
        episodes.append(
            _episode_row(index, sorted(set(task), key=task.index), len(kept), start, fps)
        )
        splits[planned.split] += 1
    if not episodes:
        raise ExportError(f"no recording could be exported: {left_out}")
    data = pa.concat_tables(columns)
    _write_meta(staging, episodes, tasks, data, pixels, fps, images, recipe.name, splits)
    (staging / MARKER).unlink()
    staging.rename(out)
    return Exported(len(episodes), data.num_rows, left_out)


class PixelStats:
    """Per channel of every frame written (before H.264), in [0, 1]: what LeRobot's stats hold
    for an image feature (min, max, mean, std, quantiles; shape [3, 1, 1]), from a histogram of
    the bytes."""

    def __init__(self) -> None:
        self.histogram = np.zeros((3, 256), np.int64)
        self.frames = 0

    def take(self, frame: np.ndarray) -> None:
        for channel in range(3):
            self.histogram[channel] += np.bincount(frame[..., channel].ravel(), minlength=256)
        self.frames += 1

    def add(self, other: PixelStats) -> None:
        self.histogram += other.histogram
        self.frames += other.frames

    def stats(self) -> dict:
        levels = np.arange(256) / 255.0
        count = self.histogram.sum(axis=1)
        mean = (self.histogram * levels).sum(axis=1) / count
        spread = (self.histogram * (levels - mean[:, None]) ** 2).sum(axis=1) / count
        std = np.sqrt(spread)
        seen = [np.flatnonzero(h) for h in self.histogram]
        cumulative = self.histogram.cumsum(axis=1) / count[:, None]
        out = {
            "min": [levels[s[0]] for s in seen], "max": [levels[s[-1]] for s in seen],
            "mean": mean.tolist(), "std": std.tolist(),
            **{key: [levels[int(np.searchsorted(c, q))] for c in cumulative]
               for key, q in QUANTILES.items()},
        }  # fmt: skip
        shaped = {k: [[[v]] for v in values] for k, values in out.items()}
        return {**shaped, "count": [self.frames]}


class VideoFrames(H264):
    """A `FrameReader` that encodes the kept ticks' frames into one H.264 video as they come,
    prepared as the SFT rows' images are (`curate.formats.images.prepared`)."""

    def __init__(self, episode: Episode, kept: pa.Table, size: tuple[int, int], fps: int,
                 path: Path) -> None:  # fmt: skip
        super().__init__(path, size, fps, X264)
        self.ticks = kept.column("tick").to_pylist()
        self._cursor = cursors(episode)
        self.pixels = PixelStats()

    def take(self, tick: int, frame: np.ndarray) -> None:
        image = prepared(frame, self._cursor.get(tick), *self.size)
        self.pixels.take(np.asarray(image))
        self.write(image)


def _data(kept: pa.Table, task: list[int], episode: int, start: int, fps: int) -> pa.Table:
    """An episode's LeRobot frames: action and state vectors, timestamps and indices."""
    n = kept.num_rows
    action = np.stack([np.asarray(kept.column(a), np.float32) for a in ACTION_NAMES], axis=1)
    state = np.stack([_values(kept, s) for s in STATE_NAMES], axis=1)
    return pa.table({
        "action": pa.FixedSizeListArray.from_arrays(action.ravel(), len(ACTION_NAMES)),
        "observation.state": pa.FixedSizeListArray.from_arrays(state.ravel(), len(STATE_NAMES)),
        "timestamp": pa.array(np.arange(n, dtype=np.float32) / fps),
        "frame_index": pa.array(np.arange(n, dtype=np.int64)),
        "episode_index": pa.array(np.full(n, episode, np.int64)),
        "index": pa.array(np.arange(start, start + n, dtype=np.int64)),
        "task_index": pa.array(np.asarray(task, np.int64)),
    })  # fmt: skip


def _values(table: pa.Table, name: str) -> np.ndarray:
    """A column as float32, a missing value as 0."""
    values = table.column(name).to_numpy(zero_copy_only=False)
    return np.nan_to_num(np.asarray(values, np.float32))


def _episode_row(index: int, tasks: list[str], length: int, start: int, fps: int) -> dict:
    return {
        "episode_index": index,
        "tasks": tasks,
        "length": length,
        "data/chunk_index": 0,
        "data/file_index": index,
        "dataset_from_index": start,
        "dataset_to_index": start + length,
        f"videos/{VIDEO_KEY}/chunk_index": 0,
        f"videos/{VIDEO_KEY}/file_index": index,
        f"videos/{VIDEO_KEY}/from_timestamp": 0.0,
        f"videos/{VIDEO_KEY}/to_timestamp": length / fps,
        "meta/episodes/chunk_index": 0,
        "meta/episodes/file_index": 0,
    }


def _write_meta(out: Path, episodes: list[dict], tasks: dict[str, int], data: pa.Table,
                pixels: PixelStats, fps: int, images: Images, name: str,
                splits: dict[str, int]) -> None:  # fmt: skip
    (out / EPISODES_PATH).parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(episodes), out / EPISODES_PATH)
    pd.DataFrame({"task_index": list(tasks.values())}, index=list(tasks)).to_parquet(
        out / "meta" / "tasks.parquet"
    )
    h, w = images.height, images.width
    features: dict[str, dict] = {
        VIDEO_KEY: {
            "dtype": "video", "shape": [h, w, 3], "names": ["height", "width", "channels"],
            "info": {"video.height": h, "video.width": w, "video.codec": "h264",
                     "video.pix_fmt": "yuv420p", "video.is_depth_map": False, "video.fps": fps,
                     "video.channels": 3, "has_audio": False},
        },
        "action": {"dtype": "float32", "shape": [len(ACTION_NAMES)], "names": ACTION_NAMES},
        "observation.state": {"dtype": "float32", "shape": [len(STATE_NAMES)],
                              "names": STATE_NAMES},
        **{key: {"dtype": dtype, "shape": [1], "names": None} for key, dtype in (
            ("timestamp", "float32"), ("frame_index", "int64"), ("episode_index", "int64"),
            ("index", "int64"), ("task_index", "int64"))},
    }  # fmt: skip
    ranges, first = {}, 0
    for split, n in splits.items():
        if n:
            ranges[split] = f"{first}:{first + n}"
            first += n
    info = {
        "codebase_version": CODEBASE_VERSION, "robot_type": "minecraft",
        "total_episodes": len(episodes), "total_frames": data.num_rows, "total_tasks": len(tasks),
        "chunks_size": 1000, "data_files_size_in_mb": 100, "video_files_size_in_mb": 200,
        "fps": fps, "splits": ranges,
        "data_path": "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet",
        "video_path": "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4",
        "features": features,
        "curate": {"release": name, "ticks_per_frame": FPS // fps, "units": UNITS},
    }  # fmt: skip
    (out / "meta" / "info.json").write_text(json.dumps(info, indent=2) + "\n")
    stats = {VIDEO_KEY: pixels.stats()}
    for key, feature in features.items():
        if feature["dtype"] != "video":
            column = data.column(key).combine_chunks()
            flat = pc.list_flatten(column) if pa.types.is_fixed_size_list(column.type) else column
            stats[key] = _stats(flat.to_numpy().astype(np.float64).reshape(data.num_rows, -1))
    (out / "meta" / "stats.json").write_text(json.dumps(stats, indent=2) + "\n")


def _stats(values: np.ndarray) -> dict:
    return {"min": values.min(0).tolist(), "max": values.max(0).tolist(),
            "mean": values.mean(0).tolist(), "std": values.std(0).tolist(),
            **{key: np.quantile(values, q, axis=0).tolist() for key, q in QUANTILES.items()},
            "count": [len(values)]}  # fmt: skip
