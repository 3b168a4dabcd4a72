"""Frames as model inputs: resizing, deterministic JPEG."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys

import numpy as np
from PIL import Image

from curate.formats.images import to_jpeg

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
