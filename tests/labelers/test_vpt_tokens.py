"""VPT policy tokens: camera mu-law bins, the joint button class, inventory, 21-bin variant."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from pydantic import ValidationError

from curate.episode import Episode
from curate.labelers.vpt_tokens import (
    VptParams,
    VptTokenLabeler,
    bin_centres,
    camera_bins,
    vpt_tokens,
)
from curate.testing import tick_table


def tokens(n_bins=11, **columns):
    n = len(next(iter(columns.values())))
    return vpt_tokens(pl.from_arrow(tick_table(n, **columns)), n_bins)


def test_bin_centres_match_vpt():
    np.testing.assert_allclose(
        bin_centres(11),
        [-10, -5.810, -3.215, -1.610, -0.615, 0, 0.615, 1.610, 3.215, 5.810, 10],
        atol=1e-3,
    )


def test_centres_quantise_to_their_own_bin():
    for n in (11, 21):
        assert camera_bins(bin_centres(n), n).tolist() == list(range(n))


def test_camera_clip_and_null():
    assert camera_bins(np.array([-90.0, -10.0, 0.0, 0.15, 10.0, 45.0])).tolist() == [
        0,
        0,
        5,
        5,
        10,
        10,
    ]


def test_small_move_that_rounds_to_null_is_not_a_move():
    buttons, camera = tokens(camera_yaw=[0.15, 0.5])
    assert buttons.tolist() == [0, 1] and camera.tolist() == [60, 61]


@pytest.mark.parametrize(
    "columns, expected",
    [
        ({"forward": [1]}, 288),
        ({"back": [1]}, 576),
        ({"forward": [1], "back": [1]}, 0),  # both cancel
        ({"left": [1], "right": [1]}, 0),
        ({"sprint": [1]}, 32),
        ({"sprint": [1], "sneak": [1]}, 64),  # the later option wins
        ({"use": [1]}, 16),
        ({"drop": [1]}, 8),
        ({"attack": [1]}, 4),
        ({"jump": [1]}, 2),
        ({"hotbar.1": [1]}, 864),
        ({"hotbar.2": [1], "hotbar.9": [1]}, 9 * 864),  # several hotbar keys: the highest
        ({"ESC": [1], "swapHands": [1], "pickItem": [1]}, 0),  # dropped by the token space
        (
            {
                "hotbar.9": [1],
                "back": [1],
                "right": [1],
                "sneak": [1],
                "use": [1],
                "drop": [1],
                "attack": [1],
                "jump": [1],
                "camera_pitch": [5.0],
            },
            8639,
        ),
    ],
)
def test_joint_button_class(columns, expected):
    assert tokens(**columns)[0].tolist() == [expected]


def test_inventory_is_exclusive_and_nulls_the_camera():
    buttons, camera = tokens(inventory=[1], forward=[1], camera_yaw=[8.0])
    assert buttons.tolist() == [8640] and camera.tolist() == [60]


def test_21_bins():
    buttons, camera = tokens(21, camera_pitch=[0.0, 10.0], camera_yaw=[0.0, -10.0])
    assert camera.tolist() == [220, 20 * 21 + 0] and buttons.tolist() == [0, 1]


def test_labeler_output():
    episode = Episode("e", "vpt", tick_table(2, forward=[0, 1]))
    labeler = VptTokenLabeler(VptParams(bins=21))
    assert labeler.output(labeler.label(episode)).to_dicts() == [
        {"buttons": 0, "camera": 220},
        {"buttons": 288, "camera": 220},
    ]
    assert VptTokenLabeler().params.bins == 11


@pytest.mark.parametrize(
    "bad", [{"bins": 7}, {"n_bins": 21}]
)  # a value off the list, an unknown key
def test_bad_parameters_are_refused(bad):
    with pytest.raises(ValidationError):
        VptParams(**bad)


def test_stats_count_button_classes():
    episode = Episode("e", "vpt", tick_table(4, forward=[0, 1, 1, 0], inventory=[0, 0, 0, 1]))
    labeler = VptTokenLabeler()
    assert labeler.stats(episode, labeler.label(episode)) == {"0": 1, "288": 2, "8640": 1}
