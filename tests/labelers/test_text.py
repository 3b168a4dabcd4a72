"""OpenHA text actions: golden strings, both modes, the parser and its round trips (section 4)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from curate.contract import BINARY_ACTIONS, CAMERA_SCALE
from curate.episode import Episode
from curate.labelers.text import (
    TextActionError,
    TextLabeler,
    TextParams,
    encode_text_action,
    mouse_units,
    parse_text_action,
    parse_text_actions,
)
from curate.testing import tick_table


@pytest.mark.parametrize(
    "action, compact, reserved",
    [
        ({}, "Action: no_op", "Action: move(0, 0) and press()"),
        ({"camera": [0.3, -1.5]}, "Action: move(-10, 2)", "Action: move(-10, 2) and press()"),
        ({"attack": 1}, "Action: click(left)", "Action: move(0, 0) and press() and click(left)"),
        (
            {"attack": 1, "use": 1},
            "Action: click(left) and click(right)",
            "Action: move(0, 0) and press() and click(left) and click(right)",
        ),
        (
            {"forward": 1, "jump": 1, "sprint": 1, "camera": [0.0, 0.15]},
            "Action: move(1, 0) and press(w, space, left.control)",
            "Action: move(1, 0) and press(w, space, left.control)",
        ),
        # the fixed key order: escape s q w 1..9 e space a d left.shift left.control f
        (
            {name: 1 for name in BINARY_ACTIONS if name not in ("attack", "use", "pickItem")},
            "Action: press(escape, s, q, w, 1, 2, 3, 4, 5, 6, 7, 8, 9, e, space, a, d, left.shift, "
            "left.control, f)",
            "Action: move(0, 0) and press(escape, s, q, w, 1, 2, 3, 4, 5, 6, 7, 8, 9, e, space, a, "
            "d, left.shift, left.control, f)",
        ),
        ({"pickItem": 1}, "Action: no_op", "Action: move(0, 0) and press()"),  # no text form
    ],
)
def test_golden(action, compact, reserved):
    assert encode_text_action(action, "compact") == compact
    assert encode_text_action(action, "reserved") == reserved
    assert encode_text_action(action) == reserved  # the default mode


@pytest.mark.parametrize("units, expected", [(2.5, 2), (3.5, 4), (-2.5, -2), (0.5, 0), (2.4, 2)])
def test_rounding_is_half_to_even(units, expected):
    # a recorded dx of 2.5 is 0.375 degrees, which divides back to 2.5000000000000004
    assert encode_text_action({"camera": [0.0, units * CAMERA_SCALE]}, "compact") == (
        f"Action: move({expected}, 0)" if expected else "Action: no_op"
    )


@pytest.mark.parametrize(
    "degrees, expected",
    [
        # 87.49974 units: 87.5 at 3 decimals, then half to even (6 decimals would give 87)
        (13.124961, 88),
        (-13.124961, -88),
        (13.1249, 87),  # 87.49933: 87.499
        # the quotient times 1000 is exactly 3499.5 in floats, yet the quotient lies below
        # 3.4995: Python's round gives 3.499 (numpy's would give 3.5, then 4)
        (0.524925, 3),
        (1.275075, 9),  # likewise above 8.5005: 8.501
    ],
)
def test_mouse_units_round_the_quotient_to_3_decimals(degrees, expected):
    assert mouse_units(np.array([degrees])).tolist() == [expected]
    assert (
        parse_text_action(encode_text_action({"camera": [degrees, degrees]}))["camera"]
        == [expected * CAMERA_SCALE] * 2
    )


@given(
    st.lists(st.floats(-720, 720), max_size=30) | st.lists(st.integers(-9999, 9999), max_size=30)
)
def test_mouse_units_are_the_contract_formula(values):
    # near-half quotients are where a shortcut goes wrong: try k + 0.4995 and k + 0.5005 too
    degrees = [v / 1000 * CAMERA_SCALE if isinstance(v, int) else v for v in values]
    degrees += [(k + f) * CAMERA_SCALE for k in (3, -8, 87) for f in (0.4995, 0.5005)]
    assert mouse_units(np.array(degrees, np.float64)).tolist() == [
        round(round(d / CAMERA_SCALE, 3)) for d in degrees
    ]


def test_legacy_form():
    action = parse_text_action(
        "Action: move(dx='4.0', dy='-1.0') and keyDown(keys=(keyboard.left.control, keyboard.w))"
    )
    assert action["sprint"] == action["forward"] == 1
    assert action["camera"] == pytest.approx([-0.15, 0.6])


def test_chunk_of_several_ticks():
    text = "Action: move(1, 0) Action: no_op Action: press(w) and click(right)"
    actions = parse_text_actions(text)
    assert [a["forward"] for a in actions] == [0, 0, 1] and actions[2]["use"] == 1
    assert " ".join(encode_text_action(a, "compact") for a in actions) == text


def test_click_middle_is_ignored():
    assert parse_text_action("Action: click(middle)")["pickItem"] == 0


@pytest.mark.parametrize("bad", ["Action: jump", "Action: press(w) and fly()", "Action: press(z)"])
def test_bad_text_is_refused(bad):
    with pytest.raises(TextActionError):
        parse_text_action(bad)


TEXT_BINARIES = [name for name in BINARY_ACTIONS if name != "pickItem"]
actions = st.fixed_dictionaries(
    {name: st.integers(0, 1) for name in BINARY_ACTIONS}
    | {"camera": st.tuples(st.floats(-180, 180), st.floats(-180, 180)).map(list)}
)


@given(actions, st.sampled_from(["compact", "reserved"]))
def test_env_text_env(action, mode):
    back = parse_text_action(encode_text_action(action, mode))
    assert {k: back[k] for k in TEXT_BINARIES} == {k: action[k] for k in TEXT_BINARIES}
    assert back["pickItem"] == 0
    for got, want in zip(back["camera"], action["camera"], strict=True):
        # the rule of the module: round(round(degrees / 0.15, 3)), half to even; so within half
        # a unit of the 3-decimal quotient (2.5004 units is 2.5, then 2)
        quotient = round(want / CAMERA_SCALE, 3)
        assert got == pytest.approx(round(quotient) * CAMERA_SCALE, abs=1e-9)
        assert abs(got / CAMERA_SCALE - quotient) <= 0.5 + 1e-9


@given(actions, st.sampled_from(["compact", "reserved"]))
def test_text_env_text(action, mode):
    text = encode_text_action(action, mode)
    assert encode_text_action(parse_text_action(text), mode) == text


def label_texts(labeler: TextLabeler, **columns) -> tuple[list[str], dict[str, int]]:
    n = len(next(iter(columns.values())))
    episode = Episode("e", "vpt", tick_table(n, **columns))
    labels = labeler.label(episode)
    return labeler.output(labels)["text"].to_list(), labeler.stats(episode, labels)


TICKS = {
    "forward": [0, 1, 0, 0, 0],
    "attack": [0, 0, 1, 0, 1],
    "use": [0, 0, 0, 0, 1],
    "camera_yaw": [0.0, 0.0, 0.0, 0.3, 0.01],  # 0.01 degrees rounds to move(0, 0)
}


def test_labeler_modes_and_output():
    texts, _ = label_texts(TextLabeler(), **TICKS)  # reserved by default
    assert texts == [
        "Action: move(0, 0) and press()",
        "Action: move(0, 0) and press(w)",
        "Action: move(0, 0) and press() and click(left)",
        "Action: move(2, 0) and press()",
        "Action: move(0, 0) and press() and click(left) and click(right)",
    ]
    texts, _ = label_texts(TextLabeler(TextParams(mode="compact")), **TICKS)
    assert texts == [
        "Action: no_op",
        "Action: press(w)",
        "Action: click(left)",
        "Action: move(2, 0)",
        "Action: click(left) and click(right)",
    ]


def test_stats_count_parts_that_do_something():
    # Reserved mode writes move(0, 0) and press() on every tick: a null tick counts as no_op only.
    expected = {"move(": 1, "press(": 1, "click(left)": 2, "click(right)": 1, "no_op": 1}
    assert label_texts(TextLabeler(), **TICKS)[1] == expected
    assert label_texts(TextLabeler(TextParams(mode="compact")), **TICKS)[1] == expected


def test_stats_of_a_move_with_a_zero_axis():
    # move(10, 0) and move(0, -3) are moves; only move(0, 0) is none
    _, stats = label_texts(TextLabeler(), camera_yaw=[1.5, 0.0], camera_pitch=[0.0, -0.45])
    assert stats == {"move(": 2, "press(": 0, "click(left)": 0, "click(right)": 0, "no_op": 0}


@pytest.mark.parametrize("bad", [{"mode": "verbose"}, {"mode": None}, {"compact": True}])
def test_bad_parameters_are_refused(bad):
    with pytest.raises(ValidationError):
        TextParams(**bad)


@given(st.text())
def test_any_text_parses_or_is_a_text_action_error(text):
    try:
        action = parse_text_action(text)
    except TextActionError:
        return
    assert set(action) == {*BINARY_ACTIONS, "camera"}
