"""Offline evaluation: what counts as the same action, the baselines, intervals over episodes,
and rows the model saw are refused."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from curate.reference.data import Example
from curate.reference.evaluate import (
    KEYS,
    Scores,
    action_key,
    baseline_answers,
    evaluate,
    figures,
    grounding_key,
    headline,
    parts,
    score,
)
from curate.reference.train import TrainOptions, train


def example(episode: str, answer: str, previous: str | None = None) -> Example:
    return Example(episode, [], [], np.zeros((1, 2, 2, 3), np.uint8), answer, previous)


def test_parts_of_a_chain_of_action_answer():
    assert parts("Motion: turn left\n, Action: move(-3, 0) and press()") == {
        "Motion": "Motion: turn left",
        "Action": "Action: move(-3, 0) and press()",
    }


def test_actions_are_the_same_when_keys_and_camera_bins_are():
    same = action_key("Action: move(20, 0) and press(w)")
    assert same == action_key("Action: move(21, 1) and press(w)")  # 3.0 and 3.15 deg: one bin
    assert same != action_key("Action: move(20, 0) and press(w, space)")
    assert same != action_key("Action: move(40, 0) and press(w)")
    assert action_key("Action: fly(3)") is None


def test_scores_count_hits_of_each_predictor():
    examples = [
        example("a", "Motion: move forward\n, Action: move(0, 0) and press(w)"),
        example("a", "Action: move(0, 0) and press()"),
        example("b", "Action: move(30, 0) and press() and click(left)"),
    ]
    answers = {
        "model": [
            "Motion: move forward\n, Action: move(0, 0) and press(w)",
            "gibberish",
            "Action: move(30, 0) and press()",
        ],  # fmt: skip
    }
    scores = score(answers, examples)
    got = figures(scores)
    assert got["exact_action"]["model"][0] == pytest.approx(1 / 3, abs=1e-4)
    assert got["parse_rate"]["model"][0] == pytest.approx(2 / 3, abs=1e-4)
    assert got["camera_bins"]["model"][0] == pytest.approx(2 / 3, abs=1e-4)
    assert got["motion_exact"]["model"][0] == 1.0
    # forward: one true positive; attack: one false negative
    assert got["key_f1"]["model"][0] == pytest.approx((1.0 + 0.0) / 2)
    assert got["episodes"] == 2 and not got["reliable"]


def test_intervals_come_from_resampled_episodes():
    counts = np.array([[1.0, 1.0]] * 10 + [[0.0, 1.0]] * 10)
    scores = Scores([f"e{i}" for i in range(20)], {"exact_action": {"model": counts}})
    value, lo, hi = figures(scores)["exact_action"]["model"]
    assert value == 0.5 and 0.25 < lo < 0.5 < hi < 0.75


def test_baselines():
    examples = [example("a", "Action: move(1, 0) and press()", "Action: move(5, 5) and press(w)")]
    # three strings, one action as exact_action compares them (the same camera bins): it wins
    train = ["Action: move(0, 0) and press(w)"] * 2 + [
        f"Action: move({dx}, 0) and press()" for dx in (40, 41, 42)
    ]
    answers = baseline_answers(examples, train)
    assert parts(answers["noop"][0])["Action"] == "Action: move(0, 0) and press()"
    assert parts(answers["majority"][0])["Action"] == "Action: move(40, 0) and press()"
    assert parts(answers["previous"][0])["Action"] == "Action: move(5, 5) and press(w)"


def test_rows_without_an_action_are_judged_by_their_motion():
    examples = [example("a", "Motion: jump", "Motion: jump"), example("b", "Motion: no_op")]
    answers = {"model": ["Motion: jump", "Motion: no_op"], **baseline_answers(examples, [])}
    got = figures(score(answers, examples))
    assert set(got) == {"episodes", "reliable", "motion_exact"}  # no `Action:` line to score
    assert got["motion_exact"]["model"][0] == 1.0 and got["motion_exact"]["previous"][0] == 1.0


def test_chain_of_action_history_gives_no_previous_motion():
    examples = [example("a", "Motion: jump\n, Action: move(0, 0) and press(space)",
                        "Action: move(0, 0) and press(space)")]  # fmt: skip
    answers = {"model": [examples[0].answer], **baseline_answers(examples, [])}
    got = figures(score(answers, examples))
    assert "previous" not in got["motion_exact"] and "previous" in got["exact_action"]


def _grounding(verb: str, point: tuple[int, int] | None = None) -> str:
    ref = f"Grounding: {verb} <|object_ref_start|>pig<|object_ref_end|>"
    return ref if point is None else ref + f"<|point_start|>({point[0]},{point[1]})<|point_end|>"


def test_grounding_rows_score_the_verb_and_the_point_error():
    assert grounding_key(_grounding("Kill", (10, 20))) == ("Kill", (10, 20))
    assert grounding_key(_grounding("Explore")) == ("Explore", None)
    assert grounding_key("Grounding: nonsense") is None
    examples = [
        example("a", _grounding("Kill", (500, 500))),
        example("a", _grounding("Approach", (100, 100))),
        example("b", _grounding("Explore")),
    ]
    answers = {
        "model": [_grounding("Kill", (503, 504)), _grounding("Kill", (100, 100)), "x"],
        **baseline_answers(examples, [_grounding("Approach", (0, 0))] * 2),
    }
    got = figures(score(answers, examples))
    assert headline(got) == "grounding_verb"
    assert got["grounding_verb"]["model"][0] == pytest.approx(1 / 3, abs=1e-4)
    assert got["grounding_point"]["model"][0] == pytest.approx((5.0 + 0.0) / 2)  # both pointed
    assert got["grounding_verb"]["majority"][0] == pytest.approx(1 / 3, abs=1e-4)
    assert "noop" not in got["grounding_verb"]  # it never answers with a grounding line


def test_a_model_that_never_grounds_scores_zero_not_nothing():
    examples = [example("a", _grounding("Kill", (500, 500)))]
    got = figures(score({"model": ["Grounding: ?"], **baseline_answers(examples, [])}, examples))
    assert got["grounding_verb"]["model"][0] == 0.0 and headline(got) == "grounding_verb"
    with pytest.raises(ValueError, match="no `Action:`"):
        headline({"episodes": 1})


def test_the_model_answers_every_validation_row(tiny, cache):
    options = TrainOptions(steps=2, batch_size=4, d_model=32, layers=1, heads=2)
    checkpoint = train(tiny, "motion_coa", options, device="cpu", cache_dir=cache)
    result = evaluate(checkpoint, tiny, cache)
    assert len(result.answers["model"]) == len(result.answers["noop"]) > 0
    assert set(result.figures) >= {"exact_action", "key_f1", "camera_bins", "parse_rate"}
    assert set(result.figures["exact_action"]) == {"model", "noop", "majority", "previous"}


def test_rows_the_model_trained_on_are_refused(tiny, cache):
    options = TrainOptions(steps=1, batch_size=4, d_model=32, layers=1, heads=2)
    checkpoint = train(tiny, "text_action", options, device="cpu", cache_dir=cache)
    checkpoint.episodes.append(checkpoint.episodes[0])
    from curate.release.meta import ReleaseMeta

    checkpoint.episodes.append(ReleaseMeta.read(tiny).episodes["validation"][0])
    with pytest.raises(ValueError, match="trained on episode"):
        evaluate(checkpoint, tiny, cache)


@given(st.text(alphabet=st.characters(), max_size=200) | st.sampled_from([
    "Action: move(3, -2) and press(w)", "Grounding: Mine <|object_ref_start|>log"
    "<|object_ref_end|><|point_start|>(1, 999)<|point_end|>", "Motion: go, Action: noop",
]))  # fmt: skip
def test_a_model_s_answer_never_breaks_the_scoring(answer):
    """Whatever a model writes is scored (None where a line does not parse), never an error."""
    found = parts(answer)
    assert set(found) <= {"Action", "Motion", "Grounding"}
    key = action_key(found.get("Action"))
    assert key is None or len(key) == len(KEYS) + 2
    grounding = grounding_key(found.get("Grounding"))
    assert grounding is None or isinstance(grounding[0], str)
