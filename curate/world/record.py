"""Record scripted gameplay exactly as VPT contractor recordings are stored, plus ground truth.

Per episode: `<id>.mp4` (H.264, 640x360, 20 fps), `<id>.jsonl` (one VPT line per frame) and
`<id>.truth.json` (what the player did to targets: the task events and the GUI slots clicked,
and where the next target is on every frame). Frame i shows the state before line i's action
(ACTION_SPACES.md 2a): line i's pose, GUI state and cursor are frame i's, while its `hotbar`,
`inventory` and `stats` already include line i's own action,
as the readers expect (a hotbar change and a stat delta count on the tick that caused them).
The same seed gives the same bytes: every choice comes from seeded generators, `milli` from a
fixed epoch, and x264 encodes on one thread.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
from numba import njit

from curate.contract import (
    ACTION_TO_KEY,
    FOV_VERTICAL_DEG,
    FPS,
    FRAME_HEIGHT,
    FRAME_WIDTH,
    SCREEN_CENTRE,
)
from curate.world.gui import slot_centre
from curate.world.player import Controls, env_action
from curate.world.render import Boxes, draw_frame, visible_centre
from curate.world.sim import Interaction, Sim, stat_key
from curate.world.tasks import start

EPOCH_MS = 1_640_995_200_000  # 2022-01-01T00:00:00Z: `milli` of tick 0, then 50 ms a tick
SERVER_TICK_0 = 1000
TICK_MS = 1000 // FPS
X264_OPTIONS = {"preset": "veryfast", "crf": "23", "x264-params": "threads=1"}


@dataclass(frozen=True)
class RecordedEpisode:
    """One written episode and the env actions the player meant, one per tick."""

    episode_id: str
    mp4: Path
    jsonl: Path
    truth: Path
    actions: list[dict[str, Any]]


@dataclass(frozen=True)
class _View:
    """What frame i showed, kept to place targets on it once the episode's events are known."""

    eye: np.ndarray
    yaw: float
    pitch: float
    boxes: Boxes
    world: int  # index into the list of voxel snapshots (the world changes only when mined)
    screen: str | None  # the kind of GUI screen open on it


@njit(cache=True)
def rgb_to_yuv420p(rgb: np.ndarray) -> np.ndarray:
    """BT.601 limited-range planar YUV 4:2:0 (FFmpeg's default for RGB sources), chroma averaged
    over 2x2 pixels: a compiled loop here is several times faster than swscale's conversion."""
    h, w, _ = rgb.shape
    out = np.empty((h * 3 // 2, w), np.uint8)
    u_plane, v_plane = h, h + h // 4  # U then V, each (h/2) x (w/2) stored as h/4 rows of w
    for y in range(0, h, 2):
        for x in range(0, w, 2):
            su = sv = 0.0
            for dy in range(2):
                for dx in range(2):
                    r, g, b = rgb[y + dy, x + dx, 0], rgb[y + dy, x + dx, 1], rgb[y + dy, x + dx, 2]
                    out[y + dy, x + dx] = round(
                        16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0
                    )
                    su += -37.797 * r - 74.203 * g + 112.0 * b
                    sv += 112.0 * r - 93.786 * g - 18.214 * b
            k = (y // 2) * (w // 2) + x // 2  # index in the (h/2) x (w/2) chroma plane
            out[u_plane + k // w, k % w] = round(128.0 + su / 1020.0)
            out[v_plane + k // w, k % w] = round(128.0 + sv / 1020.0)
    return out


class VideoWriter:
    """H.264 yuv420p mp4 through PyAV, on one thread so the bytes are reproducible."""

    def __init__(self, path: Path):
        self._container = av.open(str(path), "w", format="mp4")
        self._stream = self._container.add_stream("libx264", rate=FPS, options=X264_OPTIONS)
        self._stream.width, self._stream.height = FRAME_WIDTH, FRAME_HEIGHT
        self._stream.pix_fmt = "yuv420p"
        self._stream.thread_count = 1

    def write(self, rgb: np.ndarray) -> None:
        frame = av.VideoFrame.from_ndarray(rgb_to_yuv420p(rgb), format="yuv420p")
        self._container.mux(self._stream.encode(frame))

    def close(self) -> None:
        self._container.mux(self._stream.encode())
        self._container.close()


@dataclass(frozen=True)
class _Shown:
    """What the tick's frame shows of the player: pose, GUI screen and cursor (screen pixels)."""

    pose: tuple[float, float, float, float, float]  # x, y, z, yaw, pitch
    screen: str | None
    cursor: tuple[float, float]

    @staticmethod
    def of(sim: Sim) -> _Shown:
        p, screen = sim.player, sim.screen
        pose = (float(p.pos[0]), float(p.pos[1]), float(p.pos[2]), float(p.yaw), float(p.pitch))
        cursor = (screen.cursor[0], screen.cursor[1]) if screen else SCREEN_CENTRE
        return _Shown(pose, screen.kind if screen else None, cursor)


def recorded_line(
    tick: int, inp: Controls, before: Controls, shown: _Shown, sim: Sim
) -> dict[str, Any]:
    """One jsonl line: pose, GUI state and cursor as shown on the tick's frame, the rest after
    the tick's action."""
    keys = sorted(ACTION_TO_KEY[k] for k in inp.keys)
    x, y, z, yaw, pitch = shown.pose
    return {
        "mouse": {
            "x": shown.cursor[0],
            "y": shown.cursor[1],
            "dx": float(inp.dx),
            "dy": float(inp.dy),
            "scaledX": 0.0,
            "scaledY": 0.0,
            "dwheel": float(inp.dwheel),
            "buttons": sorted(inp.buttons),
            "newButtons": sorted(inp.buttons - before.buttons),
        },
        "keyboard": {
            "keys": keys,
            "newKeys": sorted(ACTION_TO_KEY[k] for k in inp.keys - before.keys),
            "chars": "",
        },
        "isGuiOpen": shown.screen is not None,
        "isGuiInventory": shown.screen == "inventory",
        "hotbar": sim.player.hotbar,
        "yaw": yaw,
        "pitch": pitch,
        "xpos": x,
        "ypos": y,
        "zpos": z,
        "tick": tick,
        "milli": EPOCH_MS + tick * TICK_MS,
        "inventory": sim.inventory(),
        "serverTick": SERVER_TICK_0 + tick,
        "serverTickDurationMs": 10.0,
        "stats": {stat_key(k): v for k, v in sim.stats.items()},
    }


def _target(done: Interaction, targets: dict[str, dict[str, str]]) -> tuple[str, str]:
    """The truth id of an interaction's target: b<n> for the n-th mined block, s<n> for the n-th
    GUI slot clicked, m<id> for a mob, i<id> for a dropped item; and the target's type (a slot's:
    what it held, `empty_slot` when nothing, the item made for a crafting result)."""
    obj = done.stat.split(":")[1]
    if done.target_kind in ("block", "slot"):
        n = sum(t["kind"] == done.target_kind for t in targets.values())
        return f"{done.target_kind[0]}{n}", obj
    return f"{'m' if done.target_kind == 'mob' else 'i'}{done.entity}", obj


def _target_pixel(view: _View, voxels: np.ndarray, done: Interaction) -> list[float] | None:
    """Where the target is on the frame: the centre of what is seen of it (the centroid of its
    segmentation mask), or None when it is off-frame or hidden; a slot's centre while its screen
    is open, a world target's only while none is."""
    if done.slot is not None:
        kind, where, i = done.slot
        return list(slot_centre(kind, (where, i))) if view.screen == kind else None
    if view.screen is not None:
        return None
    seen = visible_centre(voxels, view.boxes, view.eye, view.yaw, view.pitch, done.block,
                          None if done.block is not None else done.entity)  # fmt: skip
    return None if seen is None else [round(seen[0], 3), round(seen[1], 3)]


def record_episode(
    out_dir: Path,
    episode_id: str,
    ticks: int,
    seed: Sequence[int],
    tasks: Sequence[str] | None = None,
    progress: Callable[[int], None] | None = None,
    on_frame: Callable[[np.ndarray], None] | None = None,
) -> RecordedEpisode:
    """Play and record one episode of `ticks` frames. `seed` seeds the world and the player;
    `tasks` fixes the task list (default: random tasks); `progress` gets the frames done so far,
    `on_frame` each frame as drawn (before video encoding)."""
    sim, player = start(seed, tasks)
    mp4, jsonl = out_dir / f"{episode_id}.mp4", out_dir / f"{episode_id}.jsonl"
    video = VideoWriter(mp4)
    worlds = [sim.voxels.copy()]
    views: list[_View] = []
    events: list[tuple[int, Interaction]] = []
    actions: list[dict[str, Any]] = []
    before = Controls()
    with jsonl.open("w") as lines:
        for tick in range(ticks):
            p = sim.player
            boxes = sim.boxes()
            frame = draw_frame(sim, boxes)
            video.write(frame)
            if on_frame is not None:
                on_frame(frame)
            shown = _Shown.of(sim)
            views.append(_View(p.eye, p.yaw, p.pitch, boxes, len(worlds) - 1, shown.screen))
            inp = player.act(sim)
            action = env_action(inp, p.hotbar)
            done = sim.step(action)
            actions.append(action)
            events += [(tick, d) for d in done]
            if any(d.target_kind == "block" for d in done):
                worlds.append(sim.voxels.copy())
            lines.write(
                json.dumps(recorded_line(tick, inp, before, shown, sim), separators=(",", ":"))
            )
            lines.write("\n")
            before = inp
            if progress is not None:
                progress(tick + 1)
    video.close()
    truth = out_dir / f"{episode_id}.truth.json"
    truth.write_text(json.dumps(_truth(views, worlds, events), separators=(",", ":")) + "\n")
    return RecordedEpisode(episode_id, mp4, jsonl, truth, actions)


def _truth(
    views: list[_View], worlds: list[np.ndarray], events: list[tuple[int, Interaction]]
) -> dict:
    """truth.json: targets, events, and per tick the next interaction's target and its pixel."""
    targets: dict[str, dict[str, str]] = {}
    listed: list[dict[str, Any]] = []
    # Every tick names the next interaction's target: a pickup is none (a drop is collected
    # underfoot, unseen), as grounding counts them (ACTION_SPACES.md sections 6 and 8).
    interactions: list[tuple[int, Interaction, str]] = []
    for tick, done in events:
        target_id, obj = _target(done, targets)
        targets[target_id] = {"kind": done.target_kind, "type": obj}
        listed.append({"tick": tick, "event": done.stat, "target": target_id})
        if not done.stat.startswith("pickup:"):
            interactions.append((tick, done, target_id))
    rows: list[dict[str, Any]] = []
    k = 0
    for tick, view in enumerate(views):
        while k < len(interactions) and interactions[k][0] < tick:
            k += 1
        if k == len(interactions):
            rows.append({"tick": tick, "target": None, "px": None})
            continue
        _, done, target_id = interactions[k]
        px = _target_pixel(view, worlds[view.world], done)
        rows.append({"tick": tick, "target": target_id, "px": px})
    return {
        "fps": FPS,
        "width": FRAME_WIDTH,
        "height": FRAME_HEIGHT,
        "fov_deg": FOV_VERTICAL_DEG,
        "targets": targets,
        "events": listed,
        "ticks": rows,
    }


def synthesize(
    out: Path,
    episodes: int = 2,
    seconds: float = 30.0,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
    tasks: Sequence[str] | None = None,
) -> list[Path]:
    """Write `episodes` recordings of `seconds` each into `out`; return their jsonl paths.

    `tasks` (default: tasks drawn at random) are played in turn by every episode, which starts
    with what they need. `progress` is called after every frame with the number of frames done
    so far, over all episodes (of `episodes * round(seconds * 20)`), the `completed` of a rich
    progress bar.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ticks = round(seconds * FPS)
    paths = []
    for k in range(episodes):
        done_before = k * ticks
        report = None if progress is None else (lambda n, d=done_before: progress(d + n))
        paths.append(
            record_episode(out, f"synth-{seed}-{k:03d}", ticks, (seed, k), tasks, report).jsonl
        )
    return paths
