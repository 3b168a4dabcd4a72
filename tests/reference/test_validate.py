"""`curate validate`: figures into meta and card, `curate verify` still passes, the gate decides
the exit status."""

from __future__ import annotations

import json
import shutil

import datasets
from typer.testing import CliRunner

from curate.cli import app
from curate.reference.play import NO_WORLD
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
    assert validation["closed_loop"] == {"skipped": NO_WORLD}  # VPT-format recordings
    assert "### Closed loop" in section and "Not played: no source" in section
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


def test_the_recipe_s_validate_section_can_be_taken_after_the_build(tiny, tmp_path, monkeypatch):
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf")
    release = tmp_path / "release"
    shutil.copytree(tiny, release)
    recipe = json.loads((tiny.parent / "recipe.yaml").read_text())
    recipe["validate"] = {
        "steps": 2,
        "seeds": [3],
        "configs": ["text_action"],
        "gate": {"beat": []},
    }
    (tmp_path / "recipe.yaml").write_text(json.dumps(recipe))
    result = runner.invoke(
        app, ["validate", str(release), "--recipe", str(tmp_path / "recipe.yaml")]
    )
    assert result.exit_code == 0, result.output
    meta = ReleaseMeta.read(release)
    assert meta.validation["protocol"]["steps"] == 2 and meta.validation["protocol"]["seeds"] == [3]
    assert set(meta.validation["configs"]) == {"text_action"}
    assert meta.recipe["validate"]["steps"] == 2 and verify(release) == []


def test_a_release_without_sft_rows_is_refused(tmp_path):
    from curate.release.build import build
    from curate.world.record import synthesize

    synthesize(tmp_path / "raw", episodes=2, seconds=1, seed=0)
    (tmp_path / "r.yaml").write_text(
        "name: t\nversion: 0.1.0\nsources: [{format: vpt, path: raw}]\n"
    )
    release = build(tmp_path / "r.yaml", tmp_path / "out").folder
    result = runner.invoke(app, ["validate", str(release)])
    assert result.exit_code == 2 and "holds no SFT config" in result.stderr
    assert verify(release) == []
