"""`curate/World-v0`: a Gymnasium environment that passes the checker, that the scripted player
solves, and that plays exactly the episodes `curate synth` records."""

from __future__ import annotations

import hashlib
import json

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import curate.world  # noqa: F401 - registers curate/World-v0
from curate.world.player import env_action
from curate.world.record import record_episode
from curate.world.sim import stat_key


@pytest.mark.filterwarnings("ignore:.*symmetric and normalized space")  # camera is in degrees
def test_the_environment_passes_the_checker():
    env = gymnasium.make("curate/World-v0", task="craft_item:stick", max_steps=50)
    check_env(env.unwrapped, skip_render_check=False)


def digest(frame: np.ndarray) -> str:
    return hashlib.sha256(frame.tobytes()).hexdigest()


def play(env, limit: int):
    """The scripted player through the environment: (actions, stats, frame hashes, reward)."""
    player = env.unwrapped.scripted_player()
    actions, stats, frames, reward = [], [], [], 0.0
    frames.append(digest(env.unwrapped.frame))
    for _ in range(limit):
        sim = env.unwrapped.sim
        action = env_action(player.act(sim), sim.player.hotbar)
        _, reward, terminated, truncated, info = env.step(action)
        actions.append(action)
        stats.append(info["stats"])
        if terminated or truncated:
            break
        frames.append(digest(env.unwrapped.frame))
    return actions, stats, frames, reward


@pytest.mark.parametrize(
    "task, seed",
    [("mine_block:oak_log", 1), ("kill_entity:pig", 1), ("craft_item:crafting_table", 7)],
)
def test_the_scripted_player_solves_each_kind_of_task(task, seed):
    env = gymnasium.make("curate/World-v0", task=task, max_steps=1200)
    env.reset(seed=seed)
    actions, _, _, reward = play(env, 1200)
    assert reward == 1.0 and len(actions) < 1200


def test_an_episode_played_through_the_environment_is_the_recorded_one(tmp_path):
    task, seed, ticks = "craft_item:wooden_pickaxe", 3, 300
    env = gymnasium.make("curate/World-v0", task=task, max_steps=ticks)
    first, _ = env.reset(seed=seed)
    actions, stats, frames, reward = play(env, ticks)
    assert reward == 1.0  # the pickaxe is made at a crafting table: a 3x3 recipe
    drawn: list[str] = []
    recorded = record_episode(tmp_path, "e", len(actions), (seed, 0), [task],
                              on_frame=lambda f: drawn.append(digest(f)))  # fmt: skip
    assert recorded.actions == actions
    lines = [json.loads(line) for line in recorded.jsonl.read_text().splitlines()]
    assert [line["stats"] for line in lines] == [
        {stat_key(k): v for k, v in s.items()} for s in stats
    ]
    assert drawn[: len(frames)] == frames
    assert any(line["isGuiOpen"] for line in lines)  # the episode crafted in a GUI


def test_observations_show_the_cursor_and_come_in_the_asked_size():
    env = gymnasium.make("curate/World-v0", task="craft_item:oak_planks", size=(160, 90))
    frame, info = env.reset(seed=2)
    assert frame.shape == (90, 160, 3) and info["gui"] == {"open": False, "inventory": False}
    action = {"inventory": 1, "camera": np.zeros(2)}
    _, _, _, _, info = env.step(action)
    assert info["gui"] == {"open": True, "inventory": True} and info["cursor"] == [640.0, 360.0]
    full = gymnasium.make("curate/World-v0", task="craft_item:oak_planks")
    full.reset(seed=2)
    observed, *_ = full.step(action)
    drawn = full.unwrapped.frame
    assert (observed != drawn).any() and (
        observed[180:196, 320:336] != drawn[180:196, 320:336]
    ).any()
