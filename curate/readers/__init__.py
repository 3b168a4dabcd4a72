"""Readers: raw recordings in, canonical episodes out.

A reader never crashes a build on bad input: it raises `RecordingError`, which names the file and
the line, and the build quarantines that episode with the message as its reason.
"""

from __future__ import annotations

import re
from pathlib import Path

import msgspec

from curate.episode import Episode


def episode_id_of(path: Path) -> str:
    """A recording's id: its file stem (VPT) or folder name (MineStudio), with characters outside
    `A-Za-z0-9._-` replaced by `_`."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", path.name if path.is_dir() else path.stem)


# Why a recording cannot become an episode, for tools (a release's quarantine list names it).
CODES = (
    "not_a_recording",  # no such file, or neither a VPT .jsonl nor a MineStudio folder
    "unreadable",  # the file cannot be read (permissions, I/O error)
    "bad_line",  # a jsonl line that is not valid: JSON, UTF-8, a field missing, a type or range
    "no_ticks",  # nothing to build: no line, or one MineStudio step
    "missing_files",  # a MineStudio rollout without one of its three files
    "length_mismatch",  # the video and the actions (or MineStudio's files) differ in length
    "missing_video",  # a VPT .jsonl without its .mp4 where the build needs frames
    "bad_video",  # a video that cannot be opened, or fails or ends early while decoding
    "bad_frame",  # a MineStudio frame that is not a readable PNG
    "download_failed",  # an index entry that could not be fetched
    "duplicate_episode",  # a second recording with an episode id already built
    "changed",  # a file of the recording changed between the build's plan and its episode
    "too_large",  # larger than the recipe's max_recording_bytes: refused before it is read
)


# What to do about a fault, where its reason does not say it already.
ADVICE = {
    "unreadable": "check the file's permissions and the disk",
    "bad_line": "fix or delete that line, or export the recording again",
    "no_ticks": "remove the recording from the source",
    "missing_files": "copy the rollout's three files together, or remove the folder",
    "length_mismatch": "pair each .jsonl with the video recorded with it, or download both again",
    "bad_video": "download or encode the video again",
    "bad_frame": "export the rollout's frames again",
    "download_failed": "rerun the build to try again (what was fetched is kept), or remove the "
    "entry from the index",
}


# What a JSON decode of a recording's line raises: msgspec's error, or, for bytes that are not
# UTF-8 inside a string, Python's.
BAD_JSON = (msgspec.DecodeError, UnicodeDecodeError)


class RecordingError(ValueError):
    """A recording that cannot become an episode; the message says where and what to fix, and
    `code` (one of CODES) says which kind of fault it is."""

    def __init__(
        self, path: Path | str, reason: str, line: int | None = None, *, code: str
    ) -> None:
        assert code in CODES, code
        if code in ADVICE:
            reason = f"{reason}; {ADVICE[code]}"
        self.path, self.reason, self.line, self.code = Path(path), reason, line, code
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
        raise RecordingError(source, "no such file or folder", code="not_a_recording")
    raise RecordingError(
        source,
        "not a recording: expected a VPT .jsonl or a MineStudio folder with action.jsonl",
        code="not_a_recording",
    )
