"""The env labeler writes the canonical action dict of section 2."""

from __future__ import annotations

from curate.contract import BINARY_ACTIONS
from curate.episode import Episode
from curate.labelers.env import EnvLabeler
from curate.testing import tick_table


def test_canonical_dict():
    episode = Episode("e", "vpt", tick_table(2, pickItem=[0, 1], camera_pitch=[0.0, -1.5]))
    labeler = EnvLabeler()
    rows = labeler.output(labeler.label(episode)).to_dicts()
    assert list(rows[1]["action"]) == [*BINARY_ACTIONS, "camera"]
    assert rows[0] == {
        "action": {**dict.fromkeys(BINARY_ACTIONS, 0), "camera": [0.0, 0.0]},
        "null": True,
    }
    assert rows[1]["action"]["pickItem"] == 1 and rows[1]["action"]["camera"] == [-1.5, 0.0]
    assert rows[1]["null"] is False


def test_stats_count_ticks_with_each_action_on():
    episode = Episode(
        "e",
        "vpt",
        tick_table(4, forward=[1, 1, 0, 0], attack=[0, 1, 0, 0], camera_yaw=[0.0, 0.0, -0.15, 0.0]),
    )
    labeler = EnvLabeler()
    stats = labeler.stats(episode, labeler.label(episode))
    assert stats == {
        **dict.fromkeys(BINARY_ACTIONS, 0),
        "forward": 2,
        "attack": 1,
        "camera": 1,
        "null": 1,
    }
