"""The GUI cursor as a model sees it: a white arrow with a dark outline, 16x16 like the game's.

VPT videos have no cursor drawn, yet a policy working a GUI must see where its cursor is, so
frames of VPT sources get one composited at the recorded position (ACTION_SPACES.md section 2),
and the world's environment draws the same one on its observations. curate draws its own sprite.
"""

from __future__ import annotations

import math

import numpy as np

# 1 = outline, 2 = fill; the tip of the arrow is the hot spot at (0, 0).
_ARROW = [
    "1...........",
    "11..........",
    "121.........",
    "1221........",
    "12221.......",
    "122221......",
    "1222221.....",
    "12222221....",
    "122222221...",
    "1222222221..",
    "12222211111.",
    "1221221.....",
    "121.1221....",
    "11..1221....",
    "1....1221...",
    ".....1111...",
]


def _sprite() -> tuple[np.ndarray, np.ndarray]:
    """(RGB colours, alpha mask) of the 16x16 cursor."""
    codes = np.array([[int(c) if c != "." else 0 for c in row.ljust(16, ".")] for row in _ARROW])
    rgb = np.zeros((16, 16, 3), np.uint8)
    rgb[codes == 1] = (24, 24, 24)
    rgb[codes == 2] = (250, 250, 250)
    return rgb, codes > 0


CURSOR_RGB, CURSOR_MASK = _sprite()


def draw_cursor(frame: np.ndarray, x: float, y: float) -> np.ndarray:
    """A copy of `frame` with the cursor's hot spot at pixel (x, y), clipped at the borders."""
    out = frame.copy()
    h, w = out.shape[:2]
    x0, y0 = math.floor(x), math.floor(y)  # truncation, as VPT's loader: 639.5 stays on frame
    xs, ys = slice(max(x0, 0), min(x0 + 16, w)), slice(max(y0, 0), min(y0 + 16, h))
    if xs.start >= xs.stop or ys.start >= ys.stop:
        return out
    sprite_xs = slice(xs.start - x0, xs.stop - x0)
    sprite_ys = slice(ys.start - y0, ys.stop - y0)
    mask = CURSOR_MASK[sprite_ys, sprite_xs]
    region = out[ys, xs]
    region[mask] = CURSOR_RGB[sprite_ys, sprite_xs][mask]
    return out
