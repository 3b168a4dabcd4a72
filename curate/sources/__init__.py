"""Sources of a recipe -> the recordings they hold, each named by a relative name and a sha256.

The name and hash are what a release records of its inputs: never the builder's absolute paths,
so the same inputs in another folder give the same fingerprint.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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
    stamp: Stamp = ()  # the files as they were hashed, to see a change before they are read

    @property
    def path(self) -> Path:
        return self.root / self.rel


Stamp = tuple[tuple[str, int, int], ...]  # (file name, size, modification time in ns) each


def stamp_of(files: list[Path]) -> Stamp:
    """What says that a recording's files are still those that were hashed, without reading
    them again (the hash cache keys on these, and on the path and inode)."""
    return tuple((f.name, (st := f.stat()).st_size, st.st_mtime_ns) for f in files)


def recording_files(fmt: str, path: Path) -> list[Path]:
    """The files a recording is made of that exist: jsonl (+ mp4), or the MineStudio files (a
    missing one is the reader's to report, as a quarantine reason)."""
    if fmt == "minestudio":
        return [path / name for name in MINESTUDIO_FILES if (path / name).is_file()]
    return [p for p in (path, path.with_suffix(".mp4")) if p.exists()]


HASH_THREADS = 8  # files hashed at once: hashlib releases the GIL, and storage may be remote


class HashCache:
    """sha256s of files already hashed, keyed by path, size, modification time (ns) and inode,
    in an SQLite file of the recipe's cache folder: a rebuild over hundreds of GB rehashes only
    the files that changed. Safe to share between threads and between builds; where the file
    cannot be written (a read-only folder), every file is hashed, as without a cache."""

    def __init__(self, path: Path) -> None:
        self.lock = threading.Lock()
        self.db: sqlite3.Connection | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, check_same_thread=False, timeout=60)
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS hashes (path TEXT PRIMARY KEY, size INT,"
                " mtime_ns INT, inode INT, sha256 TEXT)"
            )
        except (OSError, sqlite3.Error):
            self.close()

    def sha256(self, path: Path) -> str:
        st = path.stat()
        key = (str(path.absolute()), st.st_size, st.st_mtime_ns, st.st_ino)
        query = "SELECT sha256 FROM hashes WHERE path=? AND size=? AND mtime_ns=? AND inode=?"
        with self.lock:
            row = self.db.execute(query, key).fetchone() if self.db else None
        if row:
            return row[0]
        sha = sha256_file(path)
        st = path.stat()
        if self.db and key[1:] == (st.st_size, st.st_mtime_ns, st.st_ino):  # not changed since
            try:
                with self.lock, self.db:
                    self.db.execute("INSERT OR REPLACE INTO hashes VALUES (?, ?, ?, ?, ?)",
                                    (*key, sha))  # fmt: skip
            except sqlite3.Error:
                pass  # a cache that cannot be written only costs hashing again next time
        return sha

    def close(self) -> None:
        if self.db:
            self.db.close()
        self.db = None


def recording_sha256(
    files: list[Path], known: dict[Path, str] | None = None, cache: HashCache | None = None
) -> str:
    """One hash for a recording: each file's name and sha256 (taken from `known` when a download
    already hashed it while streaming, or from `cache` when the file has not changed)."""
    known = known or {}
    hash_of = cache.sha256 if cache else sha256_file
    return sha256_json([[f.name, known.get(f) or hash_of(f)] for f in files])


def folder_recordings(
    fmt: str,
    folder: Path,
    prefix: str,
    progress: Callable[[int], None] | None = None,
    cache: HashCache | None = None,
) -> list[Recording]:
    """Every recording under `folder`: `*.jsonl` files (VPT) or rollout folders (MineStudio),
    hashed HASH_THREADS at a time."""
    if not folder.is_dir():
        raise RecordingError(folder, f"{fmt} source folder does not exist", code="not_a_recording")
    if fmt == "minestudio":
        found = sorted(p.parent for p in folder.rglob("action.jsonl"))
    else:
        found = sorted(folder.rglob("*.jsonl"))

    def hashed(p: Path) -> Recording:
        rel, files = p.relative_to(folder).as_posix(), recording_files(fmt, p)
        stamp = stamp_of(files)  # before hashing: a change while hashing shows in the step
        sha = recording_sha256(files, cache=cache)
        return Recording(f"{prefix}/{rel}", fmt, folder, rel, sha, stamp)

    with ThreadPoolExecutor(min(HASH_THREADS, len(found)) or 1) as pool:
        recordings = []
        for done, recording in enumerate(pool.map(hashed, found), start=1):
            recordings.append(recording)
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
    hashes: HashCache | None = None,
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
    return folder_recordings("vpt", folder, prefix, cache=hashes)
