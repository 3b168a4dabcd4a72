"""H.264 video out: one frame a tick, in the order given, for the exports and the viewer."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Self

import av
import numpy as np
from PIL import Image


class H264:
    """An mp4 file written frame by frame: `write` each frame, then leave the `with` block. A
    block left by an exception closes the file without its last frames (the caller throws it
    away)."""

    def __init__(
        self, path: Path, size: tuple[int, int], fps: int, options: dict[str, str]
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.size = size
        self._container = av.open(str(path), "w", format="mp4")
        self._stream = self._container.add_stream("libx264", rate=Fraction(fps), options=options)
        self._stream.width, self._stream.height, self._stream.pix_fmt = *size, "yuv420p"

    def write(self, image: Image.Image | np.ndarray) -> None:
        """One frame of `size`: an RGB image or an (height, width, 3) uint8 array."""
        frame = (
            av.VideoFrame.from_ndarray(image, format="rgb24")
            if isinstance(image, np.ndarray)
            else av.VideoFrame.from_image(image)
        )
        self._container.mux(self._stream.encode(frame))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, failed: type[BaseException] | None, *rest: object) -> None:
        if failed is None:
            self._container.mux(self._stream.encode())
        self._container.close()
