"""A tiny release the reference model trains on in seconds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curate.release.build import build
from curate.world.record import synthesize


@pytest.fixture(scope="session")
def tiny(tmp_path_factory) -> Path:
    """Four 3-second episodes of the built-in world, two of them in validation."""
    folder = tmp_path_factory.mktemp("tiny")
    synthesize(folder / "raw", episodes=4, seconds=3, seed=1)
    recipe = {
        "name": "tiny",
        "version": "0.1.0",
        "sources": [{"format": "vpt", "path": "raw"}],
        "configs": ["text_action", "motion_coa", "all_in_one"],
        "history": 1,
        "images": {"width": 64, "height": 36, "stride": 4, "quality": 80},
        "validation": 0.5,
        "validate": {"steps": 4, "batch_size": 8, "seeds": [0, 1], "gate": {"beat": []}},
    }
    (folder / "recipe.yaml").write_text(json.dumps(recipe))
    return build(folder / "recipe.yaml", folder / "release").folder


@pytest.fixture
def cache(tmp_path) -> Path:
    return tmp_path / "hf-cache"
