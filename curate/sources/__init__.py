"""Sources of a recipe -> the recordings they hold, each named by a relative name and a sha256.

The name and hash are what a release records of its inputs: never the builder's absolute paths,
so the same inputs in another folder give the same fingerprint.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from curate.hashing import sha256_file, sha256_json
from curate.readers import RecordingError
from curate.readers.minestudio import FILES as MINESTUDIO_FILES


@dataclass(frozen=True)
class Recording:
    """One raw episode on disk, named relative to the storage root of its source."""

    name: str  # relative name in the release, e.g. `synth0/synth-0-000.jsonl`
    format: str  # "vpt" | "minestudio"
    root: Path  # the source's storage root (its folder, download cache or synth cache)
    rel: str  # the `.jsonl` of a VPT recording, or a MineStudio folder, relative to `root`
    sha256: str  # of the recording's files: their names and sha256s, in a fixed order

    @property
    def path(self) -> Path:
        return self.root / self.rel


def recording_files(fmt: str, path: Path) -> list[Path]:
    """The files a recording is made of that exist: jsonl (+ mp4), or the MineStudio files (a
    missing one is the reader's to report, as a quarantine reason)."""
    if fmt == "minestudio":
        return [path / name for name in MINESTUDIO_FILES if (path / name).is_file()]
    return [p for p in (path, path.with_suffix(".mp4")) if p.exists()]


def recording_sha256(files: list[Path], known: dict[Path, str] | None = None) -> str:
    """One hash for a recording: each file's name and sha256 (taken from `known` when a download
    already hashed it while streaming)."""
    known = known or {}
    return sha256_json([[f.name, known.get(f) or sha256_file(f)] for f in files])


def folder_recordings(
    fmt: str, folder: Path, prefix: str, progress: Callable[[int], None] | None = None
) -> list[Recording]:
    """Every recording under `folder`: `*.jsonl` files (VPT) or rollout folders (MineStudio)."""
    if not folder.is_dir():
        raise RecordingError(folder, f"{fmt} source folder does not exist")
    if fmt == "minestudio":
        found = sorted(p.parent for p in folder.rglob("action.jsonl"))
    else:
        found = sorted(folder.rglob("*.jsonl"))
    recordings = []
    for done, p in enumerate(found, start=1):
        rel = p.relative_to(folder).as_posix()
        sha = recording_sha256(recording_files(fmt, p))
        recordings.append(Recording(f"{prefix}/{rel}", fmt, folder, rel, sha))
        if progress:
            progress(done)  # hashing hundreds of GB of video takes a while: say so
    return recordings


def synth_recordings(
    cache: Path,
    episodes: int,
    seconds: float,
    seed: int,
    prefix: str = "synth",
    progress: Callable[[int], None] | None = None,
    tasks: list[str] | None = None,
) -> list[Recording]:
    """Recordings of curate's own world, generated into `cache` once and reused after.

    A `done.json` marker makes a half-written cache (an interrupted run) regenerate.
    """
    name = f"seed{seed}-n{episodes}-s{seconds:g}"
    if tasks:
        name += "-" + sha256_json(tasks)[:8]
    folder = cache / name
    marker = folder / "done.json"
    if not marker.exists():
        from curate.world.record import synthesize

        synthesize(folder, episodes, seconds, seed, progress, tasks)
        asked = {"episodes": episodes, "seconds": seconds, "seed": seed, "tasks": tasks}
        marker.write_text(json.dumps(asked))
    return folder_recordings("vpt", folder, prefix)
