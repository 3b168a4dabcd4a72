"""Helpers for tests of curate and of code built on it: hand-written recordings and tick tables."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pyarrow as pa

from curate.contract import BINARY_ACTIONS
from curate.episode import TICK_SCHEMA

_BASE_LINE = {
    "mouse": {
        "x": 640.0,
        "y": 360.0,
        "dx": 0.0,
        "dy": 0.0,
        "scaledX": 0.0,
        "scaledY": 0.0,
        "dwheel": 0.0,
        "buttons": [],
        "newButtons": [],
    },
    "keyboard": {"keys": [], "newKeys": [], "chars": ""},
    "isGuiOpen": False,
    "isGuiInventory": False,
    "hotbar": 0,
    "yaw": 0.0,
    "pitch": 0.0,
    "xpos": 0.0,
    "ypos": 64.0,
    "zpos": 0.0,
    "tick": 0,
    "milli": 0,
    "inventory": [],
    "serverTick": 0,
    "serverTickDurationMs": 0.0,
    "stats": {},
}


def vpt_line(keys=(), buttons=(), new_buttons=(), dx=0.0, dy=0.0, **fields) -> dict:
    """One VPT jsonl line with every field; keys without the `key.keyboard.` prefix."""
    line: dict[str, Any] = copy.deepcopy(_BASE_LINE)
    line["keyboard"]["keys"] = [k if k.startswith("key.") else f"key.keyboard.{k}" for k in keys]
    line["mouse"].update(buttons=list(buttons), newButtons=list(new_buttons), dx=dx, dy=dy)
    for name, value in fields.items():
        if name in ("x", "y"):
            line["mouse"][name] = value
        else:
            line[name] = value
    return line


def write_vpt(path: Path, lines: list[dict]) -> Path:
    """Write lines as a VPT `.jsonl`, numbering their `tick` fields, and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as f:
        for i, line in enumerate(lines):
            f.write(json.dumps({**line, "tick": i}) + "\n")
    return path


def tick_table(n: int, **columns) -> pa.Table:
    """A canonical tick table of `n` ticks: zeros and nulls except the columns given."""
    defaults = {
        "tick": list(range(n)),
        **{name: [0] * n for name in BINARY_ACTIONS},
        "camera_pitch": [0.0] * n,
        "camera_yaw": [0.0] * n,
        "gui_open": [False] * n,
        "gui_inventory": [False] * n,
        "cursor_x": [None] * n,
        "cursor_y": [None] * n,
        "hotbar": [0] * n,
        "x": [0.0] * n,
        "y": [64.0] * n,
        "z": [0.0] * n,
        "yaw": [0.0] * n,
        "pitch": [0.0] * n,
        "events": [[] for _ in range(n)],
    }
    data = {**defaults, **columns}
    if "null" not in columns:
        data["null"] = [
            not any(data[a][i] for a in BINARY_ACTIONS)
            and data["camera_pitch"][i] == 0
            and data["camera_yaw"][i] == 0
            for i in range(n)
        ]
    return pa.table({f.name: pa.array(data[f.name], f.type) for f in TICK_SCHEMA}, TICK_SCHEMA)


def write_video(
    path: Path, n_frames: int, fps: int = 20, size: tuple[int, int] = (640, 360)
) -> Path:
    """An H.264 video whose frame i is a flat grey of level 8 * i (mod 256), to test pairing."""
    import av
    import numpy as np

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for i in range(n_frames):
            image = np.full((size[1], size[0], 3), (8 * i) % 256, np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())
    return path


def write_rollout(folder: Path, actions: list[dict], infos: list[dict] | None = None) -> Path:
    """A MineStudio rollout of len(actions) steps whose step k's frame is grey level 10 * k."""
    import base64
    import io

    import numpy as np
    from PIL import Image

    def png(level: int) -> str:
        buffer = io.BytesIO()
        Image.fromarray(np.full((36, 64, 3), level, np.uint8)).save(buffer, format="PNG")
        return base64.b64encode(buffer.getvalue()).decode()

    folder.mkdir(parents=True, exist_ok=True)
    infos = infos or [{} for _ in actions]
    base = {name: 0 for name in BINARY_ACTIONS if name not in ("ESC", "swapHands", "pickItem")}
    with (folder / "action.jsonl").open("w") as f:
        for action in actions:
            f.write(json.dumps({**base, "camera": [0.0, 0.0], **action}) + "\n")
    with (folder / "info.jsonl").open("w") as f:
        for k, info in enumerate(infos):
            location = {"pitch": float(k), "yaw": 0.0, "xpos": 1.0, "ypos": 2.0, "zpos": 3.0}
            line = {"stats": {}, "is_gui_open": False, "location_stats": location, **info}
            f.write(json.dumps(line) + "\n")
    with (folder / "episode.jsonl").open("w") as f:
        for k in range(len(actions)):
            frame = {"format": "PNG", "resolution": [36, 64, 3], "base64": png(10 * k)}
            f.write(json.dumps(frame) + "\n")
    return folder
