"""What the label QA reads from a recording's frames: windows of at most 20 s in all, spread
over the recording, and the ticks around its first recorded GUI changes.

It takes most frames grey (a video's luma: no colour conversion) and keeps a small copy (about
160x90); from each pair of consecutive sampled frames, the global image shift (phase
correlation) in degrees of view and whether the picture changed at all. Only the frames around
GUI changes come in colour, to see whether a GUI screen is drawn. A yaw to the right moves the
picture left and a pitch down moves it up, so a shift is reported in the camera's own signs:
`(+1, 0)` is the view of a one-degree turn to the right.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pyarrow as pa

from curate.camera import FOCAL
from curate.contract import FRAME_HEIGHT
from curate.qa.gui import around_gui_changes, gui_drawn

SAMPLE = 400  # ticks measured at most (20 s), in windows of WINDOW consecutive ticks
WINDOW = 100
SMALL_HEIGHT = 90  # rows of the grey copy a shift is measured on (72 blurs the gain)
STILL = 0.5  # mean absolute grey difference below which two frames are the same picture

# The view's move from one frame to the next: yaw and pitch in degrees, and whether the picture
# changed at all.
Move = tuple[float, float, bool]


def frame_sample(ticks: pa.Table) -> FrameSample:
    """The QA's reader of an episode's frames: every tick of a short recording; else WINDOW-tick
    windows spread evenly over it; and the ticks around its first recorded GUI changes."""
    return FrameSample(sample_ticks(ticks), around_gui_changes(ticks))


def sample_ticks(ticks: pa.Table) -> list[int]:
    """The ticks `frame_sample` decodes."""
    n = ticks.num_rows
    if n <= SAMPLE:
        return list(range(n))
    windows = SAMPLE // WINDOW
    picked: set[int] = set()
    for start in np.linspace(0, n - WINDOW, windows).round().astype(int):
        picked.update(range(start, start + WINDOW))
    return sorted(picked | set(around_gui_changes(ticks)))


class FrameSample:
    """A `FrameReader` over the sampled ticks; afterwards `motion` holds the view's moves and
    `gui` whether a GUI is drawn on the frames of `gui_ticks`."""

    def __init__(self, ticks: Sequence[int], gui_ticks: Sequence[int] = ()) -> None:
        self.ticks = ticks
        self.grey = set(ticks) - set(gui_ticks)  # taken grey; the rest in colour
        self.motion: dict[int, Move] = {}  # tick t -> the move from frame t to t + 1
        self.gui: dict[int, bool] = {}  # tick -> GUI drawn on its frame
        self._last: tuple[int, bool, Small] | None = None
        self._window: np.ndarray | None = None

    def take(self, tick: int, frame: np.ndarray) -> None:
        coloured = frame.ndim == 3
        if coloured:
            self.gui[tick] = gui_drawn(frame)
            frame = frame[..., 1]  # green, as grey (not a video's luma: not compared with it)
        step = max(frame.shape[0] // SMALL_HEIGHT, 1)
        picture = frame[step // 2 :: step, step // 2 :: step].astype(np.float32)
        if self._window is None or self._window.shape != picture.shape:
            self._window = np.outer(np.hanning(picture.shape[0]), np.hanning(picture.shape[1]))
        small = Small(picture, spectrum(picture, self._window))
        if self._last is not None and self._last[:2] == (tick - 1, coloured):
            self.motion[tick - 1] = _move(self._last[2], small, frame.shape[0] / step)
        self._last = (tick, coloured, small)


class Small(NamedTuple):
    """A frame's small grey copy, and its windowed spectrum (each frame's is computed once)."""

    picture: np.ndarray
    spectrum: np.ndarray


def spectrum(picture: np.ndarray, window: np.ndarray) -> np.ndarray:
    return np.fft.rfft2((picture - picture.mean()) * window)


def _move(before: Small, after: Small, height: float) -> Move:
    dx, dy = phase_shift(before.spectrum, after.spectrum, before.picture.shape)
    per_degree = FOCAL * math.pi / 180 * height / FRAME_HEIGHT  # pixels of the small copy
    changed = float(np.abs(after.picture - before.picture).mean()) >= STILL
    return -dx / per_degree, -dy / per_degree, changed


def phase_shift(a: np.ndarray, b: np.ndarray, shape: tuple[int, ...]) -> tuple[float, float]:
    """The (x, y) pixel shift that carries the picture of spectrum `a` onto that of `b`, to a
    tenth of a pixel: the peak of their phase correlation, refined by a parabola through its
    neighbours."""
    cross = b * np.conj(a)
    surface = np.fft.irfft2(cross / (np.abs(cross) + 1e-9), s=shape)
    row, col = (int(k) for k in np.unravel_index(int(np.argmax(surface)), surface.shape))
    dy = row + _vertex(surface[:, col], row)
    dx = col + _vertex(surface[row, :], col)
    height, width = surface.shape
    return (dx - width if dx > width / 2 else dx), (dy - height if dy > height / 2 else dy)


def _vertex(line: np.ndarray, k: int) -> float:
    left, centre, right = line[k - 1], line[k], line[(k + 1) % len(line)]
    curve = left - 2 * centre + right
    return 0.0 if curve == 0 else float(0.5 * (left - right) / curve)
