"""The tasks of the world, named as in the public benchmark (`family:object`), and what a task
starts with: a crafting task starts with the materials it needs, as the benchmark's
`init_inventory` gives them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from curate.world.blocks import BLOCK_NAMES
from curate.world.gui import RECIPES, store
from curate.world.player import ScriptedPlayer
from curate.world.sim import Sim

MINEABLE = tuple(b for b in BLOCK_NAMES if b not in ("air", "oak_leaves"))
TASKS: tuple[str, ...] = (
    *(f"mine_block:{b}" for b in MINEABLE),
    "kill_entity:pig",
    *(f"craft_item:{item}" for _, item, _ in RECIPES),
)
# What a crafting task starts with (besides the sword, pickaxe and axe every player holds).
INIT_INVENTORY: dict[str, dict[str, int]] = {
    "craft_item:oak_planks": {"oak_log": 1},
    "craft_item:stick": {"oak_planks": 2},
    "craft_item:crafting_table": {"oak_log": 1},  # planks first, then the table
    "craft_item:wooden_pickaxe": {"oak_planks": 5},  # sticks first, at a crafting table
}


def start(seed: Sequence[int], tasks: Sequence[str] | None = None) -> tuple[Sim, ScriptedPlayer]:
    """The world and the scripted player of an episode: `seed` seeds both (world first); the
    player starts with what the tasks need. Recordings and the environment start episodes
    alike, so one seed gives one episode whichever plays it."""
    world_seed, player_seed = np.random.SeedSequence(list(seed)).spawn(2)
    sim = Sim.generate(np.random.default_rng(world_seed))
    equip(sim.player.slots, tasks or ())
    return sim, ScriptedPlayer(np.random.default_rng(player_seed), tasks)


def equip(slots: list, tasks: Iterable[str]) -> None:
    """Give the inventory what the tasks start with."""
    for task in dict.fromkeys(tasks):
        for item, count in INIT_INVENTORY.get(task, {}).items():
            store(slots, item, count)


def check_tasks(tasks: Iterable[str]) -> list[str]:
    """The tasks, or a ValueError that names the first unknown one and the ones there are."""
    tasks = list(tasks)
    for task in tasks:
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}; the world has: {', '.join(TASKS)}")
    return tasks
