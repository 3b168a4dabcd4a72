"""An episode's JPEGs: the same bytes whether they stayed in memory or spilled to a file."""

from __future__ import annotations

import numpy as np

import curate.formats.sft as sft
from curate.episode import Episode
from curate.formats.images import to_jpeg
from curate.formats.sft import JpegFrames, SftOptions
from curate.testing import tick_table


def jpegs(tmp_path, monkeypatch, spill_bytes: int) -> dict[int, bytes]:
    monkeypatch.setattr(sft, "SPILL_BYTES", spill_bytes)
    episode = Episode("e", "vpt", tick_table(6))
    options = SftOptions(width=32, height=18, quality=80, stride=1, history=0, keep_noop=1.0,
                         mixture={}, seed=0)  # fmt: skip
    frames = JpegFrames(episode, [1, 3, 5], options)
    rng = np.random.default_rng(0)
    for tick in frames.ticks:
        frames.take(tick, rng.integers(0, 255, (36, 64, 3), dtype=np.uint8))
    with frames.read() as read:
        return dict(read)


def test_spilled_jpegs_read_back_the_same(tmp_path, monkeypatch):
    in_memory = jpegs(tmp_path, monkeypatch, 256 * 2**20)
    spilled = jpegs(tmp_path, monkeypatch, 100)  # rolls over to a file after the first frame
    assert spilled == in_memory and sorted(spilled) == [1, 3, 5]
    rng = np.random.default_rng(0)
    assert in_memory[1] == to_jpeg(rng.integers(0, 255, (36, 64, 3), dtype=np.uint8), 32, 18, 80)
