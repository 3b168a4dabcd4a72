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
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

from curate.contract import BINARY_ACTIONS, FPS, FRAME_HEIGHT
from curate.cursor import draw_cursor
from curate.episode import Episode, resample
from curate.formats.prompts import NO_TASK
from curate.readers import RecordingError, read_episode
from curate.readers.video import read_frames
from curate.release.plan import plan
from curate.release.progress import Counter, Reporter

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
X264 = {"preset": "veryfast", "crf": "23", "x264-params": "threads=1"}


class ExportError(ValueError):
    """A recipe this export cannot write: says what to change."""


@dataclass
class Exported:
    episodes: int
    frames: int
    left_out: dict[str, str]  # recording name -> why it is not in the export


def export_lerobot(recipe_path: Path, out: Path, report: Reporter | None = None) -> Exported:
    """Write the LeRobot dataset of the recipe's recordings into `out` (which must not exist)."""
    the_plan = plan(recipe_path, report)
    images = the_plan.recipe.images
    if FPS % images.stride:
        raise ExportError(
            f"images.stride {images.stride} gives {FPS / images.stride:g} frames a second; "
            f"LeRobot needs a whole number: use a stride that divides {FPS}"
        )
    fps = FPS // images.stride
    instruction = the_plan.recipe.labeler("instruction")
    left_out = {x.name: x.reason for x in the_plan.refused}
    tasks: dict[str, int] = {}
    episodes: list[dict] = []
    columns: list[pa.Table] = []
    counter = Counter(report, "exporting episodes", len(the_plan.recordings))
    for planned in the_plan.recordings:
        counter.add(1)
        try:
            episode = read_episode(planned.recording.path)
        except RecordingError as exc:
            left_out[planned.recording.name] = exc.reason
            continue
        if episode.frames is None:
            left_out[planned.recording.name] = "no video: the export needs frames"
            continue
        episode.task = planned.task
        index = len(episodes)
        kept = resample(episode.ticks, images.stride)
        said = instruction.label(episode)["instruction_text"].to_list()
        task = [said[t] or NO_TASK for t in kept.column("tick").to_pylist()]
        for text in task:
            tasks.setdefault(text, len(tasks))
        video = out / VIDEO_PATH.format(index=index)
        try:
            with VideoFrames(episode, kept, images.width, images.height, fps, video) as frames:
                read_frames(episode.frames, [frames])
        except RecordingError as exc:
            video.unlink(missing_ok=True)
            left_out[planned.recording.name] = exc.reason
            continue
        start = sum(e["length"] for e in episodes)
        table = _data(kept, [tasks[t] for t in task], index, start, fps)
        (out / DATA_PATH.format(index=index)).parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, out / DATA_PATH.format(index=index))
        columns.append(table)
        episodes.append(
            _episode_row(index, sorted(set(task), key=task.index), len(kept), start, fps)
        )
    if not episodes:
        raise ExportError(f"no recording could be exported: {left_out}")
    _write_meta(out, episodes, tasks, pa.concat_tables(columns), fps, images, the_plan.recipe.name)
    return Exported(len(episodes), sum(e["length"] for e in episodes), left_out)


class VideoFrames:
    """A `FrameReader` that encodes the kept ticks' frames into one H.264 video as they come."""

    def __init__(self, episode: Episode, kept: pa.Table, width: int, height: int, fps: int,
                 path: Path) -> None:  # fmt: skip
        self.ticks = kept.column("tick").to_pylist()
        self.size = (width, height)
        gui = episode.ticks.column("gui_open").to_pylist()
        xs, ys = (
            episode.ticks.column("cursor_x").to_pylist(),
            episode.ticks.column("cursor_y").to_pylist(),
        )
        self._cursor = {t: (xs[t], ys[t]) for t in self.ticks
                        if episode.source == "vpt" and gui[t] and xs[t] is not None}  # fmt: skip
        path.parent.mkdir(parents=True, exist_ok=True)
        self._container = av.open(str(path), "w", format="mp4")
        self._stream = self._container.add_stream("libx264", rate=Fraction(fps), options=X264)
        self._stream.width, self._stream.height, self._stream.pix_fmt = width, height, "yuv420p"

    def take(self, tick: int, frame: np.ndarray) -> None:
        if tick in self._cursor:
            scale = frame.shape[0] / FRAME_HEIGHT
            x, y = self._cursor[tick]
            frame = draw_cursor(frame, x * scale, y * scale)
        image = Image.fromarray(frame)
        if image.size != self.size:
            image = image.resize(self.size, Image.Resampling.BILINEAR)
        picture = av.VideoFrame.from_image(image)
        self._container.mux(self._stream.encode(picture))

    def __enter__(self) -> VideoFrames:
        return self

    def __exit__(self, *exc: object) -> None:
        self._container.mux(self._stream.encode())
        self._container.close()


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


def _write_meta(out: Path, episodes: list[dict], tasks: dict[str, int], data: pa.Table, fps: int,
                images, name: str) -> None:  # fmt: skip
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
        "timestamp": {"dtype": "float32", "shape": [1], "names": None},
        "frame_index": {"dtype": "int64", "shape": [1], "names": None},
        "episode_index": {"dtype": "int64", "shape": [1], "names": None},
        "index": {"dtype": "int64", "shape": [1], "names": None},
        "task_index": {"dtype": "int64", "shape": [1], "names": None},
    }  # fmt: skip
    info = {
        "codebase_version": CODEBASE_VERSION, "robot_type": "minecraft",
        "total_episodes": len(episodes), "total_frames": data.num_rows, "total_tasks": len(tasks),
        "chunks_size": 1000, "data_files_size_in_mb": 100, "video_files_size_in_mb": 200,
        "fps": fps, "splits": {"train": f"0:{len(episodes)}"},
        "data_path": "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet",
        "video_path": "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4",
        "features": features,
        "curate": {"release": name, "ticks_per_frame": FPS // fps, "units": UNITS},
    }  # fmt: skip
    (out / "meta" / "info.json").write_text(json.dumps(info, indent=2) + "\n")
    stats = {}
    for key, feature in features.items():
        if feature["dtype"] != "video":
            values = np.asarray(data.column(key).to_pylist(), np.float64)
            stats[key] = _stats(values.reshape(data.num_rows, -1))
    (out / "meta" / "stats.json").write_text(json.dumps(stats, indent=2) + "\n")


def _stats(values: np.ndarray) -> dict:
    return {"min": values.min(0).tolist(), "max": values.max(0).tolist(),
            "mean": values.mean(0).tolist(), "std": values.std(0).tolist(),
            "count": [len(values)]}  # fmt: skip
