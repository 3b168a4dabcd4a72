"""Frames as the images a model sees: resized and JPEG-encoded (the cursor sprite that VPT frames
get while a GUI is open is `curate.cursor`'s)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def to_jpeg(frame: np.ndarray, width: int, height: int, quality: int) -> bytes:
    """JPEG bytes of an RGB frame at (width, height); Pillow's encoder is deterministic."""
    image = Image.fromarray(frame)
    if image.size != (width, height):
        image = image.resize((width, height), Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality, optimize=False)
    return buffer.getvalue()
