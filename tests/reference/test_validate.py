"""`curate validate`: figures into meta and card, `curate verify` still passes, the gate decides
the exit status."""

from __future__ import annotations

import json
import shutil

import datasets
from typer.testing import CliRunner

from curate.cli import app
from curate.release.meta import META_PATH, ReleaseMeta
from curate.release.verify import verify

runner = CliRunner()


def test_validate_writes_figures_into_meta_and_card(tiny, tmp_path, monkeypatch):
    release = tmp_path / "release"
    shutil.copytree(tiny, release)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf")
    result = runner.invoke(app, ["validate", str(release)])
    assert result.exit_code == 0, result.output
    meta = ReleaseMeta.read(release)
    validation = meta.validation
    assert validation is not None and set(validation["configs"]) == {"all_in_one"}
    figures = validation["configs"]["all_in_one"]
    for predictor in ("model", "noop", "majority", "previous"):
        value, lo, hi = figures["exact_action"][predictor]
        assert lo <= value <= hi
    assert validation["protocol"]["seeds"] == [0, 1] and validation["protocol"]["steps"] == 4
    card = (release / "README.md").read_text()
    section = card.split("## Validation")[1]
    assert "### `all_in_one`" in section and "exact action match" in section
    assert "not reliable" in section  # two validation episodes
    assert (release / "meta" / "plots" / "validation-loss.png").exists()
    assert meta.content_hash == ReleaseMeta.read(tiny).content_hash  # the data is untouched
    assert verify(release) == []


def test_a_failing_gate_exits_non_zero(tiny, tmp_path, monkeypatch):
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf")
    release = tmp_path / "release"
    shutil.copytree(tiny, release)
    meta_path = release / META_PATH
    meta = json.loads(meta_path.read_text())
    meta["recipe"]["validate"]["gate"] = {"beat": ["noop"], "min": {"exact_action": 1.0}}
    meta["recipe"]["validate"]["seeds"] = [0]
    meta_path.write_text(json.dumps(meta))
    result = runner.invoke(app, ["validate", str(release)])
    assert result.exit_code == 1
    assert "gate:" in result.stderr and "below the minimum 1.0" in result.stderr
    assert ReleaseMeta.read(release).validation["gate"]["passed"] is False  # written all the same
