"""OpenHA text actions: golden strings, both modes, the parser and its round trips (section 4)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from curate.contract import BINARY_ACTIONS, CAMERA_SCALE
from curate.labelers.text import (
    TextActionError,
    encode_text_action,
    parse_text_action,
    parse_text_actions,
)


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
            None,
        ),
        ({"pickItem": 1}, "Action: no_op", "Action: move(0, 0) and press()"),  # no text form
    ],
)
def test_golden(action, compact, reserved):
    assert encode_text_action(action) == compact
    if reserved:
        assert encode_text_action(action, "reserved") == reserved


@pytest.mark.parametrize("units, expected", [(2.5, 2), (3.5, 4), (-2.5, -2), (0.5, 0), (2.4, 2)])
def test_rounding_is_half_to_even(units, expected):
    # a recorded dx of 2.5 is 0.375 degrees, which divides back to 2.5000000000000004
    assert encode_text_action({"camera": [0.0, units * CAMERA_SCALE]}) == (
        f"Action: move({expected}, 0)" if expected else "Action: no_op"
    )


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
    assert " ".join(encode_text_action(a) for a in actions) == text


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
        assert abs(got - want) <= CAMERA_SCALE / 2 + 1e-9


@given(actions, st.sampled_from(["compact", "reserved"]))
def test_text_env_text(action, mode):
    text = encode_text_action(action, mode)
    assert encode_text_action(parse_text_action(text), mode) == text
