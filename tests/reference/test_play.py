"""Closed-loop evaluation: the protocol of a release, a decision replayed over its ticks, the
intervals, and a tiny model playing the world end to end beside the baselines."""

from __future__ import annotations

import json

import pytest

from curate.reference.evaluate import train_answers
from curate.reference.play import (
    NO_WORLD,
    SEED_BASE,
    as_action,
    play_release,
    protocol_of,
    replay,
    wilson,
)
from curate.reference.train import TrainOptions, train
from curate.release.build import build
from curate.release.meta import ReleaseMeta


def test_a_decision_is_replayed_as_section_2a_says():
    action = as_action("Action: move(40, -20) and press(w, e, 2) and click(left)")
    ticks = replay(action, 4)
    assert len(ticks) == 4
    assert all(t["camera"] == pytest.approx([-0.75, 1.5]) for t in ticks)  # split evenly
    assert [t["forward"] for t in ticks] == [1] * 4 and [t["attack"] for t in ticks] == [1] * 4
    assert [t["inventory"] for t in ticks] == [1, 0, 0, 0]  # one-shot keys: the first tick only
    assert [t["hotbar.2"] for t in ticks] == [1, 0, 0, 0]
    assert as_action("Action: fly()") == as_action(None)  # an answer that does not parse: no-op


def test_wilson_intervals():
    assert wilson(0, 10) == [0.0, 0.0, pytest.approx(0.2775, abs=1e-4)]
    value, lo, hi = wilson(9, 10)
    assert value == 0.9 and 0.59 < lo < 0.6 and 0.98 < hi < 0.99
    assert wilson(0, 0) == [0.0, 0.0, 0.0]


def test_the_protocol_plays_the_world_sources_tasks_on_unused_seeds():
    recipe = {
        "sources": [
            {"format": "synth", "seed": SEED_BASE + 1, "tasks": ["mine_block:dirt"]},
            {"format": "synth", "seed": 0, "tasks": ["kill_entity:pig", "mine_block:dirt"]},
        ],
        "images": {"width": 64, "height": 36, "quality": 80, "stride": 4},
        "history": 2,
    }
    protocol = protocol_of(recipe, episodes=3, max_steps=100)
    assert protocol is not None
    assert protocol.tasks == ("mine_block:dirt", "kill_entity:pig")
    assert protocol.seeds == (SEED_BASE, SEED_BASE + 2, SEED_BASE + 3)  # skips a source's seed
    assert (protocol.stride, protocol.history, protocol.images) == (4, 2, (64, 36, 80))
    recipe["sources"] = [{"format": "vpt"}]
    assert protocol_of(recipe, 3, 100) is None


@pytest.fixture(scope="module")
def world_release(tmp_path_factory):
    folder = tmp_path_factory.mktemp("world")
    recipe = {
        "name": "w",
        "version": "0.1.0",
        "sources": [
            {
                "format": "synth",
                "episodes": 4,
                "seconds": 3,
                "seed": 1,
                "tasks": ["mine_block:dirt"],
            }
        ],  # fmt: skip
        "configs": ["text_action", "all_in_one"],
        "history": 1,
        "images": {"width": 64, "height": 36, "stride": 4, "quality": 80},
        "mixture": {"text_action": 1, "motion_coa": 1},
        "validation": 0.5,
    }
    (folder / "recipe.yaml").write_text(json.dumps(recipe))
    return build(folder / "recipe.yaml", folder / "release").folder


def test_a_tiny_model_plays_the_world_end_to_end(world_release, tmp_path):
    meta = ReleaseMeta.read(world_release)
    options = TrainOptions(steps=4, batch_size=8, seed=0)
    checkpoint = train(world_release, "all_in_one", options, cache_dir=tmp_path)
    said: list[str] = []
    answers = train_answers(world_release, "all_in_one", tmp_path)
    got = play_release(checkpoint, meta.recipe, answers, episodes=2, max_steps=12,
                       say=said.append)  # fmt: skip
    protocol = got["protocol"]
    assert protocol["tasks"] == ["mine_block:dirt"] and protocol["episodes_per_task"] == 2
    assert protocol["forms"] == ["text_action", "motion_coa"]
    assert protocol["model_form"] in protocol["forms"] and len(said) == 2
    overall = got["overall"]
    assert set(overall) == {"model", "random", "scripted", "steps", "forms"}
    for policy in ("model", "random", "scripted"):
        value, lo, hi = overall[policy]
        assert 0 <= lo <= value <= hi <= 1
    assert got["tasks"]["mine_block:dirt"]["model"] == overall["model"]  # one task
    assert got["decisions_per_second"] > 0
    # the same protocol, the same play: every policy is seeded
    again = play_release(checkpoint, meta.recipe, answers, 2, 12)
    assert again["overall"] == got["overall"]
    # a text_action model plays its own form only
    single = train(world_release, "text_action", options, cache_dir=tmp_path)
    own = train_answers(world_release, "text_action", tmp_path)
    alone = play_release(single, meta.recipe, own, 1, 8)
    assert alone["protocol"]["forms"] == ["text_action"] and "forms" not in alone["overall"]


def test_recordings_without_a_world_are_offline_only(tiny, tmp_path):
    meta = ReleaseMeta.read(tiny)
    checkpoint = train(tiny, "text_action", TrainOptions(steps=2, batch_size=8), cache_dir=tmp_path)
    answers = train_answers(tiny, "text_action", tmp_path)
    assert play_release(checkpoint, meta.recipe, answers, 2, 10) == {"skipped": NO_WORLD}


def test_validate_plays_the_world_and_the_card_shows_it(world_release, tmp_path):
    import shutil

    import yaml

    from curate.reference.validate import validate

    release = tmp_path / "release"
    shutil.copytree(world_release, release)
    recipe = yaml.safe_load((world_release.parent / "recipe.yaml").read_text())
    recipe["validate"] = {"steps": 4, "batch_size": 8, "seeds": [3], "gate": {"beat": []},
                          "closed_loop": {"episodes": 1, "max_steps": 8}}  # fmt: skip
    (tmp_path / "recipe.yaml").write_text(yaml.safe_dump(recipe))
    meta = validate(release, recipe=tmp_path / "recipe.yaml", cache_dir=tmp_path / "hf").meta
    closed = meta.validation["closed_loop"]  # type: ignore[index]
    assert closed["protocol"]["config"] == "all_in_one" and closed["protocol"]["model_seed"] == 3
    assert closed["protocol"]["step_limit"] == 8 and closed["protocol"]["episodes_per_task"] == 1
    card = (release / "README.md").read_text().split("### Closed loop")[1]
    assert "| mine_block:dirt |" in card and "| **overall** |" in card
    assert "best form's on these episodes" in card
    # 8 ticks are too few for the scripted player: the protocol is wrong, and the gate says so
    assert not meta.validation["gate"]["passed"]  # type: ignore[index]
    assert "raise validate.closed_loop.max_steps" in meta.validation["gate"]["failures"][0]  # type: ignore[index]


def test_curate_evaluate_plays_after_the_offline_figures(world_release, tmp_path):
    from typer.testing import CliRunner

    from curate.cli import app

    checkpoint = train(world_release, "text_action", TrainOptions(steps=2, batch_size=8),
                       cache_dir=tmp_path / "hf")  # fmt: skip
    checkpoint.save(tmp_path / "ckpt")
    args = ["evaluate", str(tmp_path / "ckpt"), str(world_release), "--max-steps", "8"]
    result = CliRunner().invoke(app, [*args, "--episodes", "1"])
    assert result.exit_code == 0, result.output
    assert "exact_action" in result.stdout and "closed loop: 1 episodes per task" in result.stdout
    assert "mine_block:dirt" in result.stdout and "overall" in result.stdout
    offline = CliRunner().invoke(app, [*args, "--episodes", "0"])
    assert offline.exit_code == 0 and "closed loop" not in offline.stdout
