"""What a build may touch: only `--out` and the recipe's caches, nothing in the user's home or
temp folders, never its inputs; and a full disk stops it with a message, then a rerun after
freeing space finishes the same release."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from curate.world.record import synthesize

RECIPE = """\
name: s
version: 0.1.0
sources:
  - {format: vpt, path: raw}
  - {format: synth, episodes: 1, seconds: 1}
configs: [ticks, text_action]
images: {width: 64, height: 36}
validation: 0.5
"""


def files_under(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.relative_to(folder).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file()}  # fmt: skip


def curate(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", "from curate.cli import app; app()", *args]
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_a_build_writes_only_under_out_and_its_caches(tmp_path):
    project = tmp_path / "project"
    synthesize(project / "raw", episodes=2, seconds=1, seed=5)
    (project / "recipe.yaml").write_text(RECIPE)
    elsewhere = {name: tmp_path / name for name in ("home", "tmp", "xdg_cache", "hf_home")}
    for folder in elsewhere.values():
        folder.mkdir()
    names = {"home": "HOME", "tmp": "TMPDIR", "xdg_cache": "XDG_CACHE_HOME", "hf_home": "HF_HOME"}
    env = {**os.environ, **{names[name]: str(folder) for name, folder in elsewhere.items()}}
    inputs = files_under(project / "raw")

    run = curate("build", "recipe.yaml", "--out", "out", env=env, cwd=project)
    assert run.returncode == 0, run.stderr
    run = curate("verify", "out", env=env, cwd=project)  # verifying writes nothing either
    assert run.returncode == 0, run.stderr

    assert files_under(project / "raw") == inputs
    written = {p.split("/")[0] for p in files_under(project)} - {"raw", "recipe.yaml"}
    assert written == {"out", "cache"}, written
    # matplotlib (the card's figures) keeps its font list in the user's cache, as for any plot
    outside = {f"{name}/{p}" for name, folder in elsewhere.items() for p in files_under(folder)}
    assert {p for p in outside if not p.startswith("xdg_cache/matplotlib/")} == set()


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB tmpfs (root only): what a full disk looks like to a build."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)],
                             capture_output=True, text=True)  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_full_disk_stops_the_build_and_a_rerun_finishes(small_disk, tmp_path):
    project = tmp_path / "project"
    synthesize(project / "raw", episodes=4, seconds=3, seed=5)
    (project / "recipe.yaml").write_text(RECIPE.replace("64, height: 36", "320, height: 180"))
    out = small_disk / "out"

    full = curate("build", "recipe.yaml", "--out", str(out), env=dict(os.environ), cwd=project)
    assert full.returncode == 2, full.stderr
    last = full.stderr.strip().splitlines()[-1]
    assert "no space left" in last.lower() and "free space" in last and "rerun" in last, last
    assert "Traceback" not in full.stderr
    assert not out.exists()  # complete or absent

    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
    again = curate("build", "recipe.yaml", "--out", str(out), env=dict(os.environ), cwd=project)
    assert again.returncode == 0, again.stderr
    assert "resumed" in again.stderr and " 0 quarantined" in again.stderr  # nothing lost
    checked = curate("verify", str(out), env=dict(os.environ), cwd=project)
    assert checked.returncode == 0, checked.stderr
