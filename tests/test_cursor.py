"""curate's cursor sprite: its hot spot where the cursor is, clipped at the borders."""

from __future__ import annotations

import numpy as np

from curate.cursor import CURSOR_MASK, draw_cursor


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
