"""Sources of a recipe -> the recordings they hold, each named by a relative name and a sha256.

The name and hash are what a release records of its inputs: never the builder's absolute paths,
so the same inputs in another folder give the same fingerprint.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from curate.readers import RecordingError
from curate.readers.minestudio import FILES as MINESTUDIO_FILES


@dataclass(frozen=True)
class Recording:
    """One raw episode on disk."""

    name: str  # relative name, e.g. `synth/synth-0-000.jsonl` or `minestudio/<folder>`
    format: str  # "vpt" | "minestudio"
    path: Path  # the `.jsonl` of a VPT recording, or a MineStudio folder
    sha256: str  # of the recording's files, in a fixed order

    @property
    def files(self) -> list[Path]:
        return recording_files(self.format, self.path)


def recording_files(fmt: str, path: Path) -> list[Path]:
    """The files a recording is made of: jsonl (+ mp4), or the three MineStudio files."""
    if fmt == "minestudio":
        return [path / name for name in MINESTUDIO_FILES]
    return [p for p in (path, path.with_suffix(".mp4")) if p.exists()]


def sha256_of(files: list[Path]) -> str:
    """One hash over several files: each file's name and bytes, in the order given."""
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.name.encode() + b"\0")
        with file.open("rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def folder_recordings(fmt: str, folder: Path, prefix: str) -> list[Recording]:
    """Every recording under `folder`: `*.jsonl` files (VPT) or rollout folders (MineStudio)."""
    if not folder.is_dir():
        raise RecordingError(folder, f"{fmt} source folder does not exist")
    if fmt == "minestudio":
        found = sorted(p.parent for p in folder.rglob("action.jsonl"))
    else:
        found = sorted(folder.rglob("*.jsonl"))
    return [
        Recording(
            f"{prefix}/{p.relative_to(folder).as_posix()}",
            fmt,
            p,
            sha256_of(recording_files(fmt, p)),
        )
        for p in found
    ]


def synth_recordings(
    cache: Path,
    episodes: int,
    seconds: float,
    seed: int,
    progress: Callable[[int], None] | None = None,
) -> list[Recording]:
    """Recordings of curate's own world, generated into `cache` once and reused after.

    A `done.json` marker makes a half-written cache (an interrupted run) regenerate.
    """
    folder = cache / f"seed{seed}-n{episodes}-s{seconds:g}"
    marker = folder / "done.json"
    if not marker.exists():
        from curate.world.record import synthesize

        synthesize(folder, episodes=episodes, seconds=seconds, seed=seed, progress=progress)
        marker.write_text(json.dumps({"episodes": episodes, "seconds": seconds, "seed": seed}))
    return folder_recordings("vpt", folder, "synth")
