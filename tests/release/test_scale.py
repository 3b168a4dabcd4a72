"""Builds at scale, on real `curate build` processes: one killed with SIGKILL (no handler, no
cleanup) early, between episodes or while assembling, then run again, ends with the bytes and
fingerprint of a build that was never interrupted; and a build's memory follows the work in
flight, not the number of episodes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from curate.release.build import build, staging_folder
from curate.testing import vpt_line, write_vpt

EPISODES = 4


def recipe(folder: Path) -> Path:
    """A recipe whose synthetic recordings are generated into its own folder on first use."""
    folder.mkdir(parents=True)
    path = folder / "recipe.yaml"
    path.write_text(json.dumps({
        "name": "t", "version": "0.1.0", "seed": 0,
        "sources": [{"format": "synth", "episodes": EPISODES, "seconds": 3, "seed": 9}],
        "configs": ["ticks", "text_action", "motion_coa", "all_in_one"],
        "validation": 0.25,
        "images": {"width": 96, "height": 54, "stride": 2, "quality": 80},
    }))  # fmt: skip
    return path


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}  # fmt: skip


def markers(out: Path) -> int:
    return len(list((staging_folder(out) / "work").glob("*/done.json")))


def curate_build(path: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", "from curate.cli import app; app()", "build", str(path),
         "--out", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip


def kill_when(path: Path, out: Path, ready: Callable[[], bool]) -> None:
    """Start `curate build`, SIGKILL it the moment `ready()` holds, and check it was cut short."""
    build_process = curate_build(path, out)
    deadline = time.monotonic() + 300
    while not ready():
        if build_process.poll() is not None or time.monotonic() > deadline:
            build_process.kill()
            pytest.fail(f"the build ended before the kill point: {build_process.stderr.read()}")
        time.sleep(0.002)
    os.kill(build_process.pid, signal.SIGKILL)
    build_process.wait()
    assert build_process.returncode == -signal.SIGKILL
    assert not out.exists(), "killed too late: the release was already complete"


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("whole")
    return files(build(recipe(folder / "r"), folder / "out").folder)


@pytest.mark.parametrize("point", ["early", "between episodes", "assembling"])
def test_a_killed_build_resumes_to_the_same_bytes(point, uninterrupted, tmp_path):
    path, out = recipe(tmp_path / "r"), tmp_path / "out"
    staging = staging_folder(out)
    ready = {
        # while the synthetic recordings are being written, before any episode
        "early": lambda: (tmp_path / "r" / "cache" / "synth").exists(),
        "between episodes": lambda: markers(out) >= 1,
        "assembling": lambda: (staging / "data").exists(),
    }[point]
    kill_when(path, out, ready)
    finished = markers(out)
    if point == "between episodes":
        assert 1 <= finished < EPISODES  # some episodes left to resume
    resumed = build(path, out)
    assert files(resumed.folder) == uninterrupted
    assert not staging.exists()
    assert resumed.run and resumed.run.resumed == finished  # finished work is not redone


def peak_rss_of_a_build(folder: Path, episodes: int) -> int:
    """Peak resident memory (bytes) of a `curate build` of `episodes` action-only recordings of
    2,400 ticks each (two minutes), with the `ticks` config."""
    raw = folder / "raw"
    first = write_vpt(raw / "ep-000.jsonl", [vpt_line(keys=["w"] if i % 3 else [], dx=i % 7 - 3.0)
                                              for i in range(2400)])  # fmt: skip
    text = first.read_text()
    for k in range(1, episodes):
        (raw / f"ep-{k:03d}.jsonl").write_text(text)
    path = folder / "recipe.yaml"
    path.write_text(json.dumps({
        "name": "m", "version": "0.1.0",
        "sources": [{"format": "vpt", "path": "raw", "video": False}],
        "configs": ["ticks"],
    }))  # fmt: skip
    process = curate_build(path, folder / "out")
    _, status, usage = os.wait4(process.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, process.stderr.read()  # type: ignore[union-attr]
    return usage.ru_maxrss * 1024


def test_memory_does_not_grow_with_the_number_of_episodes(tmp_path):
    few = peak_rss_of_a_build(tmp_path / "few", 5)
    many = peak_rss_of_a_build(tmp_path / "many", 50)
    # ten times the episodes: the same work in flight, so the same peak (up to allocator noise)
    assert many - few < 40 * 2**20, (few, many)
