"""Readers: raw recordings in, canonical episodes out.

A reader never crashes a build on bad input: it raises `RecordingError`, which names the file and
the line, and the build quarantines that episode with the message as its reason.
"""

from __future__ import annotations

import re
from pathlib import Path

from curate.episode import Episode


def episode_id_of(path: Path) -> str:
    """A recording's id: its file stem (VPT) or folder name (MineStudio), with characters outside
    `A-Za-z0-9._-` replaced by `_`."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", path.name if path.is_dir() else path.stem)


class RecordingError(ValueError):
    """A recording that cannot become an episode; the message says where and what to fix."""

    def __init__(self, path: Path | str, reason: str, line: int | None = None) -> None:
        self.path, self.reason, self.line = Path(path), reason, line
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        super().__init__(f"{where}: {reason}")


def read_episode(source: Path | str) -> Episode:
    """Read a VPT `.jsonl` or a MineStudio rollout folder, whichever `source` is."""
    source = Path(source)
    if source.is_dir():
        from curate.readers.minestudio import read_minestudio

        return read_minestudio(source)
    if source.suffix in (".jsonl", ".mp4"):
        from curate.readers.vpt import read_vpt

        return read_vpt(source.with_suffix(".jsonl"))
    if not source.exists():
        raise RecordingError(source, "no such file or folder")
    raise RecordingError(
        source, "not a recording: expected a VPT .jsonl or a MineStudio folder with action.jsonl"
    )
