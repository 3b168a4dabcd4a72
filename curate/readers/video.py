"""Frames decoded in process with PyAV (it bundles FFmpeg), aligned one frame per tick.

Counting uses the demuxer only (no decode), so action-only work on a recording with a video pays
almost nothing for the check that frames and lines agree. An episode's frames are decoded once,
in tick order, and shared by every consumer that asked for them (`read_frames`): the labelers that
read frames and the image formats.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import av
import msgspec
import numpy as np

from curate.contract import FPS, MAX_FRAME_LINE_DIFF
from curate.episode import FrameReader, FrameRef, one_frame_a_tick
from curate.readers import RecordingError

SEEK_GAP = 200  # frames (10 s): a longer gap between wanted frames is sought over, not decoded


def read_frames(ref: FrameRef, readers: Sequence[FrameReader]) -> int:
    """Decode the frames any reader asked for, once, in tick order, and hand each frame to the
    readers that asked for it (RGB, or grey to a reader that lists the tick in its `grey`);
    returns how many frames that was."""
    asked = [set(reader.ticks) for reader in readers]
    greys = [set(getattr(reader, "grey", ())) for reader in readers]
    wanted = sorted(set().union(*asked))
    for tick, picture in zip(wanted, _pictures(ref, wanted), strict=True):
        for reader, ticks, grey in zip(readers, asked, greys, strict=True):
            if tick in ticks:
                reader.take(tick, picture.grey() if tick in grey else picture.rgb())
    return len(wanted)


class _Picture:
    """One decoded frame, converted on demand and once: to RGB, or to grey (a video's luma,
    which costs nothing; a PNG's green channel)."""

    def __init__(self, frame: av.VideoFrame | np.ndarray) -> None:
        self._frame = frame
        self._rgb: np.ndarray | None = frame if isinstance(frame, np.ndarray) else None

    def rgb(self) -> np.ndarray:
        if self._rgb is None:
            assert isinstance(self._frame, av.VideoFrame)
            self._rgb = self._frame.to_ndarray(format="rgb24")
        return self._rgb

    def grey(self) -> np.ndarray:
        frame = self._frame
        if isinstance(frame, np.ndarray):
            return frame[..., 1]
        if frame.format.name in ("yuv420p", "yuvj420p"):
            plane = frame.planes[0]
            luma = np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)
            return luma[:, : plane.width]
        return frame.to_ndarray(format="gray")


def probe(video: Path) -> tuple[int, float]:
    """(frame count, frames per second) of a video, from its packets."""
    try:
        with av.open(str(video)) as container:
            stream = container.streams.video[0]
            fps = float(stream.average_rate or stream.guessed_rate or FPS)
            count = sum(1 for packet in container.demux(stream) if packet.size)
    except (av.error.FFmpegError, IndexError) as exc:
        raise RecordingError(video, f"unreadable video: {exc}", code="bad_video") from None
    return count, fps


def ticks_covered(n_frames: int, fps: float) -> int:
    """How many 20 Hz ticks a video of `n_frames` at `fps` spans (its duration in ticks)."""
    if one_frame_a_tick(fps):
        return n_frames
    return math.floor(n_frames * FPS / fps + 1e-9)


def source_frame(tick: int, fps: float) -> int:
    """The video frame on screen at tick `tick`: the one whose display interval holds its time."""
    return tick if one_frame_a_tick(fps) else math.floor(tick * fps / FPS + 1e-9)


def align_frames(video: Path, n_lines: int) -> tuple[int, FrameRef, str | None]:
    """Ticks to keep, the frame reference, and a warning when the ends had to be trimmed."""
    n_frames, fps = probe(video)
    covered = ticks_covered(n_frames, fps)
    diff = covered - n_lines
    if abs(diff) > MAX_FRAME_LINE_DIFF:
        raise RecordingError(
            video,
            f"video covers {covered} ticks but the jsonl has {n_lines} lines; at most "
            f"{MAX_FRAME_LINE_DIFF} can be trimmed, so frames and actions cannot be paired",
            code="length_mismatch",
        )
    n_ticks = min(covered, n_lines)
    note = None
    if diff:
        longer = "video" if diff > 0 else "jsonl"
        note = f"{video.name}: trimmed {abs(diff)} tick(s) from the end of the {longer}"
    return n_ticks, FrameRef("mp4", video, n_ticks, fps), note


def iter_frames(ref: FrameRef, ticks: Sequence[int] | None = None) -> Iterator[np.ndarray]:
    """RGB frames (360, 640, 3) uint8 of the given ticks (all ticks when None), in tick order."""
    wanted = list(range(ref.count)) if ticks is None else sorted(ticks)
    return (picture.rgb() for picture in _pictures(ref, wanted))


def _pictures(ref: FrameRef, wanted: list[int]) -> Iterator[_Picture]:
    """The frames of the ticks `wanted` (sorted), decoded once each."""
    if not wanted:
        return
    if ref.kind == "minestudio":
        yield from map(_Picture, _minestudio_frames(ref, wanted))
        return
    by_source: dict[int, list[int]] = {}
    for tick in wanted:
        by_source.setdefault(source_frame(tick, ref.fps), []).append(tick)
    last = max(by_source, default=-1)
    decoded = 0
    try:
        with av.open(str(ref.path)) as container:
            stream = container.streams.video[0]
            # One thread: a build runs one decoder per worker and workers per core; FFmpeg's
            # frame threads would only contend with the other workers (measured: bench/README).
            stream.codec_context.thread_count = 1
            for index, frame in _decoded(ref.path, container, sorted(by_source), ref.fps):
                decoded = index + 1
                if index in by_source:
                    picture = _Picture(frame)
                    for _ in by_source[index]:
                        yield picture
                if index >= last:
                    return
    except av.error.FFmpegError as exc:  # a damaged stream is the recording's fault
        raise RecordingError(
            ref.path, f"video cannot be decoded after frame {decoded}: {exc}", code="bad_video"
        ) from None
    raise RecordingError(ref.path, f"video ended before frame {last}", code="bad_video")


def _decoded(
    path: Path, container: av.container.InputContainer, wanted: list[int], fps: float
) -> Iterator[tuple[int, av.VideoFrame]]:
    """(index, frame) of the video's frames in order, each once, up to the last wanted one. In
    a 20 fps video a gap of more than SEEK_GAP frames between wanted ones (a sample of a long
    video) is sought over instead of decoded: from the key frame before the next wanted one,
    each frame's index is its timestamp's, and frames already given are not given again."""
    stream = container.streams.video[0]
    frames = container.decode(stream)
    index: int | None = -1  # None: after a seek, until the next frame's timestamp says
    done, base, unit = -1, None, stream.time_base
    for target in wanted:
        if base is not None and unit and one_frame_a_tick(fps) and target - done > SEEK_GAP:
            container.seek(base + round(target / (fps * unit)), stream=stream, backward=True)
            frames, index = container.decode(stream), None
        while index is None or index < target:
            frame = next(frames, None)
            if frame is None:
                return
            if index is None:  # after a seek: its timestamp says where
                index = _landed(path, frame, base, unit, fps, target)
            else:
                index += 1
                base = frame.pts if index == 0 else base
            if index > done:
                done = index
                yield index, frame


def _landed(
    path: Path,
    frame: av.VideoFrame,
    base: int | None,
    unit: Fraction | None,
    fps: float,
    target: int,
) -> int:
    """The index of the first frame after a seek, by its timestamp in a video of constant
    `fps` starting at `base`: at or before `target`, or the video cannot be sought in."""
    assert base is not None and unit is not None  # a seek needs both
    index = -1 if frame.pts is None else round((frame.pts - base) * unit * fps)
    if not 0 <= index <= target:
        why = "seeking does not land before the frame wanted; encode the video again"
        raise RecordingError(path, why, code="bad_video")
    return index


def _minestudio_frames(ref: FrameRef, wanted: list[int]) -> Iterator[np.ndarray]:
    """Frames of a MineStudio `episode.jsonl`, read line by line (tick t shows recorded step t,
    section 9), so only one PNG is in memory at a time."""
    from PIL import Image

    class _Frame(msgspec.Struct):
        base64: str

    decoder = msgspec.json.Decoder(_Frame)
    pending = iter(wanted)
    tick = next(pending, None)
    step = 0
    with ref.path.open("rb") as lines:
        for number, raw in enumerate(lines, start=1):
            if tick is None:
                return
            if not raw.strip():
                continue
            while tick == step:
                try:
                    data = base64.b64decode(decoder.decode(raw).base64)
                    with Image.open(io.BytesIO(data)) as image:
                        frame = np.asarray(image.convert("RGB"))
                except (msgspec.DecodeError, ValueError, OSError) as exc:  # PIL: OSError
                    raise RecordingError(
                        ref.path,
                        # the error's name: PIL's message holds an object's memory address
                        f"the frame of step {step} is not a readable PNG ({type(exc).__name__})",
                        number,
                        code="bad_frame",
                    ) from None
                yield frame
                tick = next(pending, None)
            step += 1
    if tick is not None:
        raise RecordingError(ref.path, f"ends before the frame of step {tick}", code="bad_frame")
