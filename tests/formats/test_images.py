"""Frames as model inputs: curate's cursor sprite, resizing, deterministic JPEG."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys

import numpy as np
from PIL import Image

from curate.formats.images import CURSOR_MASK, draw_cursor, to_jpeg


def test_cursor_hot_spot_sits_at_the_position():
    frame = np.zeros((360, 640, 3), np.uint8)
    out = draw_cursor(frame, 100.4, 50.6)
    assert out[50, 100].tolist() != [0, 0, 0]  # the tip of the arrow, truncated like VPT's loader
    assert out[49, 100].tolist() == [0, 0, 0] and out[50, 99].tolist() == [0, 0, 0]
    assert (out.any(axis=2)).sum() == CURSOR_MASK.sum()
    assert not frame.any(), "the input frame is not modified"


def test_cursor_at_the_last_pixel_is_drawn():
    # mouse.x = 1279 on the 1280-wide screen is 639.5 on the frame: still column 639
    out = draw_cursor(np.zeros((360, 640, 3), np.uint8), 639.5, 359.5)
    assert out[359, 639].any()


def test_cursor_is_clipped_at_the_border():
    frame = np.zeros((360, 640, 3), np.uint8)
    assert 0 < draw_cursor(frame, 635, 355).any(axis=2).sum() < CURSOR_MASK.sum()
    assert not draw_cursor(frame, 700, 10).any()


JPEG_IN_A_PROCESS = """
import hashlib, sys
import numpy as np
from curate.formats.images import to_jpeg
frame = np.random.default_rng(0).integers(0, 255, (360, 640, 3), np.uint8)
print(hashlib.sha256(to_jpeg(frame, 320, 180, 80)).hexdigest())
"""


def test_jpeg_size_and_determinism_across_processes():
    frame = np.random.default_rng(0).integers(0, 255, (360, 640, 3), np.uint8)
    data = to_jpeg(frame, 320, 180, 80)
    assert Image.open(io.BytesIO(data)).size == (320, 180)
    runs = {
        subprocess.run([sys.executable, "-c", JPEG_IN_A_PROCESS], capture_output=True, text=True,
                       check=True).stdout.strip()
        for _ in range(2)
    }  # fmt: skip
    assert runs == {hashlib.sha256(data).hexdigest()}
