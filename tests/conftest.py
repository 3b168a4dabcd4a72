"""Shared fixtures: the real public material beside the repository, when it is there."""

from __future__ import annotations

from pathlib import Path

import pytest

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "real"


@pytest.fixture
def real() -> Path:
    """`../shared/real` (a user's machine has none: the test is skipped there)."""
    if not REAL.is_dir():
        pytest.skip("../shared/real is not present")
    return REAL


@pytest.fixture
def slices(real: Path) -> Path:
    """Hand-written VPT edge-case slices of another project, with its expected encodings."""
    return real / "solaris-wm__solaris" / "vpt_action_slices_SYNTHETIC"


@pytest.fixture
def rollouts(real: Path) -> list[Path]:
    """Real MineStudio rollout folders recorded by the OpenHA agent."""
    folders = sorted(p for p in (real / "CraftJarvis__OpenHA").iterdir() if p.is_dir())
    if not folders:
        pytest.skip("no MineStudio rollouts in ../shared/real")
    return folders
