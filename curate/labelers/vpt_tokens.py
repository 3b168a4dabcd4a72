"""VPT policy tokens (ACTION_SPACES.md section 3): the joint button class and the camera class.

Both are computed for whole columns at once; the mixed-radix index is a dot product of the group
values with the radix weights.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import polars as pl
import pyarrow as pa

from curate.contract import (
    BUTTON_GROUPS,
    CAMERA_BINS,
    CAMERA_MAXVAL,
    INVENTORY_CLASS,
)
from curate.episode import Episode, as_frame
from curate.labelers.base import Chart, FrameReader, Labeler, Params, counts


def camera_bins(degrees: np.ndarray, n_bins: int = 11) -> np.ndarray:
    """Mu-law bin of each camera angle: clip to ±10°, compress, round half to even."""
    if n_bins not in CAMERA_BINS:
        raise ValueError(f"camera bins must be one of {sorted(CAMERA_BINS)}, got {n_bins}")
    mu, binsize = CAMERA_BINS[n_bins]
    x = np.clip(np.asarray(degrees, np.float64), -CAMERA_MAXVAL, CAMERA_MAXVAL)
    v = np.sign(x) * np.log1p(mu * np.abs(x) / CAMERA_MAXVAL) / np.log1p(mu) * CAMERA_MAXVAL
    return np.round((v + CAMERA_MAXVAL) / binsize).astype(np.int64)


def bin_centres(n_bins: int = 11) -> np.ndarray:
    """Degrees each camera bin decodes to (the inverse mu-law of the bin's value)."""
    mu, binsize = CAMERA_BINS[n_bins]
    v = np.arange(n_bins) * binsize - CAMERA_MAXVAL
    return np.sign(v) * np.expm1(np.abs(v) / CAMERA_MAXVAL * np.log1p(mu)) / mu * CAMERA_MAXVAL


def _group_value(ticks: pl.DataFrame, options: tuple[str, ...], exclusive_pair: bool) -> np.ndarray:
    """0 for none, else 1 + the index of the option that wins (the later one in the list)."""
    on = np.stack([ticks[name].to_numpy() for name in options], axis=1).astype(bool)
    value = np.where(on.any(axis=1), len(options) - np.argmax(on[:, ::-1], axis=1), 0)
    if exclusive_pair:  # forward+back, left+right: both on cancel out
        value[on.all(axis=1)] = 0
    return value


def vpt_tokens(ticks: pl.DataFrame, n_bins: int = 11) -> tuple[np.ndarray, np.ndarray]:
    """(button class 0..8640, camera class 0..n_bins**2-1) of every tick."""
    pitch = camera_bins(ticks["camera_pitch"].to_numpy(), n_bins)
    yaw = camera_bins(ticks["camera_yaw"].to_numpy(), n_bins)
    null_bin = n_bins // 2
    moved = ((pitch != null_bin) | (yaw != null_bin)).astype(np.int64)

    buttons = np.zeros(ticks.height, np.int64)
    for group, options in BUTTON_GROUPS:
        value = (
            moved
            if group == "camera"
            else _group_value(ticks, options, group in ("fore_back", "left_right"))
        )
        buttons = buttons * (len(options) + 1) + value
    camera = pitch * n_bins + yaw

    inventory = ticks["inventory"].to_numpy().astype(bool)
    buttons[inventory] = INVENTORY_CLASS
    camera[inventory] = null_bin * n_bins + null_bin
    return buttons, camera


class VptParams(Params):
    bins: Literal[11, 21] = 11  # camera bins per axis (section 3)


class VptTokenLabeler(Labeler[VptParams]):
    """VPT's joint button class and camera class, with 11 (default) or 21 camera bins."""

    space = "vpt"
    version = "1"
    Params = VptParams
    fields = (pa.field("vpt_buttons", pa.int32()), pa.field("vpt_camera", pa.int32()))
    chart = Chart("most frequent VPT button classes (share of ticks)")

    def label(self, episode: Episode, frames: FrameReader | None = None) -> pl.DataFrame:
        buttons, camera = vpt_tokens(as_frame(episode.ticks), self.params.bins)
        return pl.DataFrame({"vpt_buttons": buttons, "vpt_camera": camera})

    def output(self, labels: pl.DataFrame) -> pl.DataFrame:
        return labels.select(buttons="vpt_buttons", camera="vpt_camera")

    def stats(self, episode: Episode, labels: pl.DataFrame) -> dict[str, int]:
        return counts(labels["vpt_buttons"].cast(pl.String))
