"""Recordings of a folder source: hashed in parallel, and each file hashed once across builds
while its size, modification time and inode stay the same."""

from __future__ import annotations

import os

import curate.sources as sources
from curate.sources import HashCache, folder_recordings
from curate.testing import vpt_line, write_vpt


def test_hashes_are_cached_until_a_file_changes(tmp_path, monkeypatch):
    for k in range(12):
        write_vpt(tmp_path / "raw" / f"ep-{k:02d}.jsonl", [vpt_line(dx=float(k))])
    hashed: list[str] = []
    real = sources.sha256_file
    monkeypatch.setattr(sources, "sha256_file", lambda p: hashed.append(p.name) or real(p))

    def scan():
        with_cache = HashCache(tmp_path / "cache" / "hashes.sqlite")
        try:
            return folder_recordings("vpt", tmp_path / "raw", "vpt0", cache=with_cache)
        finally:
            with_cache.close()

    first = scan()
    assert sorted(hashed) == [f"ep-{k:02d}.jsonl" for k in range(12)]
    assert [r.name for r in first] == [f"vpt0/ep-{k:02d}.jsonl" for k in range(12)]  # in order
    hashed.clear()
    assert scan() == first and hashed == []  # nothing changed: nothing rehashed

    changed = tmp_path / "raw" / "ep-03.jsonl"
    write_vpt(changed, [vpt_line(dx=99.0)])
    stat = changed.stat()
    os.utime(changed, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))  # even within one tick
    again = scan()
    assert hashed == ["ep-03.jsonl"]
    assert again[3].sha256 != first[3].sha256
    assert [r.sha256 for i, r in enumerate(again) if i != 3] == [
        r.sha256 for i, r in enumerate(first) if i != 3
    ]
    # without a cache, the same hashes
    assert [r.sha256 for r in folder_recordings("vpt", tmp_path / "raw", "vpt0")] == [
        r.sha256 for r in again
    ]
