"""The label QA of one episode: each check's value, measured on its tick table and, where it has
a video, on the frame sample (`curate.qa.frames`). A value is None where the recording cannot
tell (no video, too little camera motion, no GUI change in the sample).

The camera checks compare the recorded camera with the view's move between consecutive frames:
the lag at which they agree best (the contract's is 1: a tick's move shows from the next frame,
ACTION_SPACES.md section 2a), the gain (the view's move over the recorded one: 1 when the camera
is recorded in true degrees of a 70-degree view; above 1 for a camera truncated or scaled down)
and the axes (yaw moves the view sideways and pitch up and down, each in its own sign).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyarrow as pa

from curate.contract import BINARY_ACTIONS, CAMERA_MAXVAL, FPS
from curate.qa.frames import FrameSample, Move
from curate.qa.gui import gui_lag

CONTRACT_LAG = 1
LAGS = range(-3, 6)  # the lags tried, in ticks
MIN_MOVES = 20  # sampled ticks with the camera turning the checks need to judge it
# Degrees of a tick's turn whose view's move is measured well: the pictures differ enough to
# see, and overlap enough to match.
MOVE = (0.5, 6.0)
MIN_AGREEMENT = 0.3  # correlation of turn and view's move below which no lag is told
NOTICED = 1.0  # degrees of a view's move that no-op ticks cannot explain
EVENT_WINDOW = 2 * FPS  # ticks before an event in which the action behind it must be

Value = float | int | str | None
CAMERA = ("camera_yaw", "camera_pitch")
FROM_FRAMES = ("camera_lag", "camera_gain", "camera_axes", "noop_while_moving", "frozen_frames",
               "gui_lag")  # fmt: skip


def episode_qa(ticks: pa.Table, sample: FrameSample | None) -> dict[str, Value]:
    """Every check's value for one episode (see `curate.qa.CHECKS`), and its label stats."""
    yaw, pitch = (np.asarray(ticks.column(c), dtype=np.float64) for c in CAMERA)
    gui = np.asarray(ticks.column("gui_open"), dtype=bool)
    null = np.asarray(ticks.column("null"), dtype=bool)
    values: dict[str, Value] = dict.fromkeys(FROM_FRAMES)
    if sample is not None:
        sprint = np.asarray(ticks.column("sprint"), dtype=bool)
        values |= camera_checks(yaw, pitch, gui | sprint, sample.motion)
        values |= view_checks(yaw, pitch, gui, null, sample.motion)
        values["gui_lag"] = gui_lag(gui, sample.gui)
    values["stuck_input"] = max(longest_run(np.asarray(ticks.column(a), dtype=bool))
                                for a in BINARY_ACTIONS) / FPS  # fmt: skip
    values["orphan_events"] = len(orphans(ticks, gui))
    values["camera_clipped"] = round(float(clipped(yaw, pitch).mean()), 4)
    values["noop_share"] = round(float(null.mean()), 4)
    values["longest_noop_run"] = longest_run(null)
    values["gui_share"] = round(float(gui.mean()), 4)
    return values


def camera_checks(
    yaw: np.ndarray, pitch: np.ndarray, skip: np.ndarray, motion: dict[int, Move]
) -> dict[str, Value]:
    """camera_lag, camera_gain and camera_axes; `skip` marks ticks whose camera does not turn
    the view as usual (a GUI open: it moves the cursor; sprinting widens the view)."""
    n = len(yaw)
    turn = np.hypot(yaw, pitch)
    measured = {t: m for t, m in motion.items() if not skip[t] and not skip[min(t + 1, n - 1)]}
    if sum(turn[t] >= MOVE[0] for t in measured) < MIN_MOVES:
        return {}

    def paired(lag: int) -> list[tuple[int, Move]]:
        """(tick, the view's move where the tick's camera should show at `lag`)"""
        return [(t - lag + 1, m) for t, m in measured.items() if 0 <= t - lag + 1 < n]

    def agreement(lag: int) -> float:
        pairs = paired(lag)
        if len(pairs) < MIN_MOVES:
            return -1.0
        sizes = np.array([(turn[t], np.hypot(m[0], m[1])) for t, m in pairs])
        if sizes[:, 0].std() == 0 or sizes[:, 1].std() == 0:
            return -1.0
        return float(np.corrcoef(sizes.T)[0, 1])

    lag = max(LAGS, key=lambda k: (agreement(k), -abs(k - CONTRACT_LAG)))
    if agreement(lag) < MIN_AGREEMENT:  # the view does not follow the camera at any lag
        return {}
    well = [(t, m) for t, m in paired(lag) if MOVE[0] <= turn[t] <= MOVE[1]]
    if len(well) < MIN_MOVES // 2:
        return {"camera_lag": lag}
    gain = float(np.median([np.hypot(m[0], m[1]) / turn[t] for t, m in well]))
    return {"camera_lag": lag, "camera_gain": round(gain, 3), "camera_axes": axes(yaw, pitch, well)}


def axes(yaw: np.ndarray, pitch: np.ndarray, well: list[tuple[int, Move]]) -> str | None:
    """How the camera's axes move the view: "ok", "swapped", "yaw mirrored", "pitch mirrored"
    or both mirrored. On ticks that turn mostly about one axis, the view must move along that
    axis, in the same sign."""
    found = []
    for axis, (name, own, other) in enumerate((("yaw", yaw, pitch), ("pitch", pitch, yaw))):
        ticks = [(t, m) for t, m in well if abs(own[t]) >= 2 * abs(other[t])]
        if len(ticks) < MIN_MOVES // 2:
            continue
        along = float(np.median([m[axis] / own[t] for t, m in ticks]))
        across = float(np.median([m[1 - axis] / own[t] for t, m in ticks]))
        if max(abs(along), abs(across)) < MIN_AGREEMENT:  # the view does not follow this axis
            continue
        if abs(across) > abs(along):
            found.append("swapped")
        else:
            found.append(f"{name} mirrored" if along < 0 else "ok")
    if not found:
        return None
    if "swapped" in found:
        return "swapped"
    wrong = [f for f in found if f != "ok"]
    return " and ".join(wrong) if wrong else "ok"


def view_checks(
    yaw: np.ndarray,
    pitch: np.ndarray,
    gui: np.ndarray,
    null: np.ndarray,
    motion: dict[int, Move],
) -> dict[str, Value]:
    """noop_while_moving: the longest run of no-op ticks while the view turns (lost actions);
    frozen_frames: the longest run of ticks that turn the camera while the picture stands still
    (a stuck video or duplicated frames)."""
    turn = np.hypot(yaw, pitch)
    view = {t: m for t, m in motion.items() if not gui[t] and not gui[min(t + 1, len(gui) - 1)]}
    moving_idle = [t for t, m in view.items() if null[t] and np.hypot(m[0], m[1]) >= NOTICED]
    frozen = [t for t, m in view.items() if turn[t] >= NOTICED and not m[2]]
    return {"noop_while_moving": longest_consecutive(moving_idle),
            "frozen_frames": longest_consecutive(frozen)}  # fmt: skip


def orphans(ticks: pa.Table, gui: np.ndarray) -> list[int]:
    """The tick of each event with no action behind it: a `craft_item` with no click in a GUI, a
    `mine_block` with no attack, in the EVENT_WINDOW ticks up to it."""
    attack = np.asarray(ticks.column("attack"), dtype=bool)
    click = (attack | np.asarray(ticks.column("use"), dtype=bool)) & gui
    found = []
    for t, events in enumerate(ticks.column("events").to_pylist()):
        window = slice(max(t - EVENT_WINDOW, 0), t + 1)
        for event in events:
            family = event.split(":")[0]
            if (family == "craft_item" and not click[window].any()) or (
                family == "mine_block" and not attack[window].any()
            ):
                found.append(t)
    return found


def clipped(yaw: np.ndarray, pitch: np.ndarray) -> np.ndarray:
    """Ticks whose camera reaches VPT's clip."""
    return np.maximum(abs(yaw), abs(pitch)) >= CAMERA_MAXVAL


def spans(check: str, ticks: pa.Table) -> list[tuple[int, int]]:
    """Where an episode's value of `check` comes from, as (first, last) ticks, for the checks told
    by the tick table alone (the longest held input, the orphan events, the clipped camera): what
    the viewer marks on its timeline. The checks on frames judge a sample: no ticks."""
    if check == "stuck_input":
        held = [r for a in BINARY_ACTIONS for r in runs(np.asarray(ticks.column(a), dtype=bool))]
        return [max(held, key=lambda r: r[1] - r[0])] if held else []
    if check == "orphan_events":
        return [(t, t) for t in orphans(ticks, np.asarray(ticks.column("gui_open"), dtype=bool))]
    if check == "camera_clipped":
        yaw, pitch = (np.asarray(ticks.column(c), dtype=np.float64) for c in CAMERA)
        return runs(clipped(yaw, pitch))
    return []


def runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """The runs of consecutive true values, as (first, last) indices."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], flags.astype(np.int8), [0]))))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def longest_run(flags: np.ndarray) -> int:
    """The longest run of consecutive true values."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], flags.astype(np.int8), [0]))))
    return int((edges[1::2] - edges[::2]).max(initial=0))


def longest_consecutive(ticks: Iterable[int]) -> int:
    """The longest run of consecutive integers among `ticks`."""
    best = run = 0
    last = None
    for t in sorted(ticks):
        run = run + 1 if last is not None and t == last + 1 else 1
        best, last = max(best, run), t
    return best
