"""Frames as the images a model sees: resized and JPEG-encoded (the cursor sprite that VPT frames
get while a GUI is open is `curate.cursor`'s)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from curate.contract import FRAME_HEIGHT
from curate.cursor import draw_cursor
from curate.episode import Episode


def cursors(episode: Episode) -> dict[int, tuple[float, float]]:
    """tick -> where to draw the cursor sprite (640x360 frame pixels): the GUI ticks of a VPT
    recording, whose video has no cursor (MineStudio's frames show the game's own)."""
    if episode.source != "vpt":
        return {}
    columns = (episode.ticks.column(c).to_pylist() for c in ("gui_open", "cursor_x", "cursor_y"))
    return {t: (x, y) for t, (gui, x, y) in enumerate(zip(*columns, strict=True))
            if gui and x is not None}  # fmt: skip


def prepared(
    frame: np.ndarray, cursor: tuple[float, float] | None, width: int, height: int
) -> Image.Image:
    """A frame as a model sees it: the cursor drawn where there is one, resized."""
    if cursor is not None:
        scale = frame.shape[0] / FRAME_HEIGHT
        frame = draw_cursor(frame, cursor[0] * scale, cursor[1] * scale)
    image = Image.fromarray(frame)
    if image.size != (width, height):
        image = image.resize((width, height), Image.Resampling.BILINEAR)
    return image


def to_jpeg(
    frame: np.ndarray,
    width: int,
    height: int,
    quality: int,
    cursor: tuple[float, float] | None = None,
) -> bytes:
    """JPEG bytes of an RGB frame `prepared` at (width, height); Pillow's encoder is
    deterministic."""
    buffer = io.BytesIO()
    prepared(frame, cursor, width, height).save(buffer, format="JPEG", quality=quality,
                                                optimize=False)  # fmt: skip
    return buffer.getvalue()
