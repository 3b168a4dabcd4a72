"""SFT rows: TRL's vision chat format, CoA strings, history turns that keep only `Action:`."""

from __future__ import annotations

import numpy as np
import pytest

from curate.formats.chat import Turn, chat_table, messages, mixture_forms, schema, target
from curate.formats.prompts import NO_TASK, PROMPTS


def turns(n: int) -> list[Turn]:
    return [Turn(4 * i, f"Action: move({i}, 0)", f"Motion: turn right {i}", None,
                 "Mine an oak log." if i < 2 else None) for i in range(n)]  # fmt: skip


def test_coa_separator_and_forms():
    turn = turns(1)[0]
    assert target("text_action", turn) == "Action: move(0, 0)"
    assert target("motion_action", turn) == "Motion: turn right 0"
    assert target("motion_coa", turn) == "Motion: turn right 0\n, Action: move(0, 0)"
    with pytest.raises(ValueError, match="grounding_coa needs labels"):
        target("grounding_coa", turn)


def test_history_keeps_only_the_action_of_earlier_turns():
    chat = messages("motion_coa", turns(3))
    assert [m["role"] for m in chat] == [
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
        "assistant",
    ]
    first = chat[0]["content"]
    assert first[0]["text"] == f"{PROMPTS['motion_coa']}\nTask: {NO_TASK}"  # the target's task
    assert first[1] == {"type": "image", "text": None}
    assert chat[1]["content"][0]["text"] == "Action: move(0, 0)"
    assert chat[3]["content"][0]["text"] == "Action: move(1, 0)"
    assert chat[5]["content"][0]["text"] == "Motion: turn right 2\n, Action: move(2, 0)"


def test_table_rows_images_and_schema():
    jpeg = {t.tick: bytes([t.tick]) for t in turns(4)}
    table = chat_table("text_action", turns(4), [0, 3], jpeg, episode_id="e", source="vpt",
                       history=2)  # fmt: skip
    assert table.schema.equals(schema())
    rows = table.to_pylist()
    assert [r["tick"] for r in rows] == [0, 12]
    assert [len(r["images"]) for r in rows] == [1, 3]  # history 2 before tick 12: ticks 4, 8
    assert [i["bytes"] for i in rows[1]["images"]] == [bytes([4]), bytes([8]), bytes([12])]
    for row in rows:
        parts = [p for m in row["messages"] for p in m["content"] if p["type"] == "image"]
        assert len(parts) == len(row["images"])
    assert rows[0]["instruction"] == "Mine an oak log." and rows[1]["instruction"] is None


def test_mixture_forms_follow_weights_and_seed():
    forms = mixture_forms(4000, {"text_action": 3, "motion_coa": 1}, np.random.default_rng(0))
    assert set(forms) == {"text_action", "motion_coa"}
    assert 0.72 < forms.count("text_action") / 4000 < 0.78
    assert forms == mixture_forms(
        4000, {"text_action": 3, "motion_coa": 1}, np.random.default_rng(0)
    )


def test_single_abstract_forms_keep_their_own_history():
    chat = messages("motion_action", turns(2))
    assert chat[1]["content"][0]["text"] == "Motion: turn right 0"


def test_a_row_of_several_ticks_says_what_its_action_stands_for():
    prompt = messages("text_action", turns(1), stride=4)[0]["content"][0]["text"]
    assert "`Action:` is the raw input for the next 4 ticks (200 ms)" in prompt
    single = messages("text_action", turns(1))[0]["content"][0]["text"]
    assert "`Action:` is the raw input for the next tick:" in single


GROUNDING = (
    "Grounding: Mine <|object_ref_start|>oak log<|object_ref_end|>"
    "<|point_start|>(615,505)<|point_end|>"
)


def test_grounding_forms_and_a_history_tick_without_grounding():
    with_point = Turn(4, "Action: move(1, 0) and press()", None, GROUNDING, None)
    without = Turn(0, "Action: move(0, 0) and press()", None, None, None)
    assert target("grounding_coa", with_point) == f"{GROUNDING}\n, Action: move(1, 0) and press()"
    chat = messages("grounding_action", [without, with_point])
    assert chat[1]["content"][0]["text"] == "Action: move(0, 0) and press()"  # speaks as its action
    assert chat[3]["content"][0]["text"] == GROUNDING


def test_all_in_one_rows_without_grounding_draw_again_among_the_other_forms():
    weights = {"text_action": 1, "motion_coa": 1, "grounding_coa": 2}
    grounded = [i % 2 == 0 for i in range(3000)]
    forms = mixture_forms(3000, weights, np.random.default_rng(0), grounded)
    assert forms == mixture_forms(3000, weights, np.random.default_rng(0), grounded)
    assert all(f != "grounding_coa" for f, g in zip(forms, grounded, strict=True) if not g)
    on_grounded = [f for f, g in zip(forms, grounded, strict=True) if g]
    assert 0.45 < on_grounded.count("grounding_coa") / len(on_grounded) < 0.55
    # the rows that have grounding draw as they would without the redraw
    plain = mixture_forms(3000, weights, np.random.default_rng(0))
    assert on_grounded == [f for f, g in zip(plain, grounded, strict=True) if g]
