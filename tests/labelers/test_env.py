"""The env labeler writes the canonical action dict of section 2."""

from __future__ import annotations

from curate.contract import BINARY_ACTIONS
from curate.episode import Episode
from curate.labelers.env import EnvLabeler
from curate.testing import tick_table


def test_canonical_dict():
    episode = Episode("e", "vpt", tick_table(2, pickItem=[0, 1], camera_pitch=[0.0, -1.5]))
    labeler = EnvLabeler()
    rows = labeler.fields(labeler.label(episode)).to_dicts()
    assert list(rows[1]["action"]) == [*BINARY_ACTIONS, "camera"]
    assert rows[0] == {
        "action": {**dict.fromkeys(BINARY_ACTIONS, 0), "camera": [0.0, 0.0]},
        "null": True,
    }
    assert rows[1]["action"]["pickItem"] == 1 and rows[1]["action"]["camera"] == [-1.5, 0.0]
    assert rows[1]["null"] is False
