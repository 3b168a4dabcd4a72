"""The world itself: mining, jumping, Minecraft's camera, and pictures that tell blocks apart."""

from __future__ import annotations

import numpy as np
import pytest

from curate.camera import project
from curate.contract import BINARY_ACTIONS
from curate.world.blocks import (
    AIR,
    BLOCK_NAMES,
    CRAFTING_TABLE,
    DIRT,
    GRASS,
    IRON_ORE,
    LEAVES,
    OAK_LOG,
    STONE,
    TEXTURES,
)
from curate.world.render import render_view
from curate.world.sim import JUMP_VELOCITY, Mob, Sim

BLOCKS = (GRASS, DIRT, STONE, OAK_LOG, LEAVES, IRON_ORE, CRAFTING_TABLE)


def _action(**on: object) -> dict:
    return {name: 0 for name in BINARY_ACTIONS} | {"camera": [0.0, 0.0]} | on


@pytest.fixture
def sim() -> Sim:
    """A player standing on a flat stone floor, facing +z (yaw 0) at a stone block."""
    world = Sim.generate(np.random.default_rng(3))
    world.voxels[:] = AIR
    world.voxels[:, :10, :] = STONE
    world.player.pos = np.array([48.5, 10.0, 48.5])
    world.player.yaw, world.player.pitch = 0.0, 0.0
    world.voxels[48, 11, 50] = STONE
    world.mobs.clear()
    return world


def test_mining_needs_attack_held_to_the_last_tick(sim: Sim) -> None:
    sim.player.hotbar = 1  # the wooden pickaxe: stone breaks in 23 ticks
    for _ in range(22):
        assert not sim.step(_action(attack=1))
    sim.step(_action())  # letting go loses the progress
    for _ in range(22):
        assert not sim.step(_action(attack=1))
    assert sim.voxels[48, 11, 50] == STONE
    [done] = sim.step(_action(attack=1))
    assert (done.stat, done.block) == ("mine_block:stone", (48, 11, 50))
    assert sim.voxels[48, 11, 50] == AIR and sim.stats["mine_block:stone"] == 1


def test_jump_clears_one_block_but_not_two(sim: Sim) -> None:
    heights = []
    sim.step(_action(jump=1))
    for _ in range(12):
        heights.append(sim.player.pos[1])
        sim.step(_action())
    assert 11.2 < max(heights) < 11.3  # Minecraft's 1.25 blocks from 0.42 initial speed
    assert JUMP_VELOCITY == 0.42 and sim.stats["custom:jump"] == 1


def test_camera_turns_by_the_action_and_walking_counts_centimetres(sim: Sim) -> None:
    sim.step(_action(camera=[3.0, 90.0]))
    assert (sim.player.yaw, sim.player.pitch) == (90.0, 3.0)
    x = sim.player.pos[0]
    sim.step(_action(forward=1))  # yaw 90 faces west, toward -x
    assert sim.player.pos[0] < x and sim.stats["custom:walk_one_cm"] == 22


def test_projection_puts_what_is_ahead_at_the_centre() -> None:
    eye = np.zeros(3)
    assert project(np.array([0.0, 0.0, 5.0]), eye, 0.0, 0.0) == pytest.approx((320, 180))
    right, _ = project(np.array([-1.0, 0.0, 5.0]), eye, 0.0, 0.0)  # yaw 0: west is right
    _, below = project(np.array([0.0, -1.0, 5.0]), eye, 0.0, 0.0)
    assert right > 320 and below > 180
    _, looking_down = project(np.array([0.0, -1.0, 5.0]), eye, 0.0, 11.3)
    assert looking_down == pytest.approx(180, abs=1)  # positive pitch looks down


def test_every_block_type_looks_different() -> None:
    means = {BLOCK_NAMES[b]: TEXTURES[b].reshape(-1, 3).mean(0) for b in BLOCKS}
    names = list(means)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert np.abs(means[a] - means[b]).max() > 8 or a in ("stone", "iron_ore"), (a, b)
    assert np.abs(TEXTURES[IRON_ORE].astype(int) - TEXTURES[STONE]).max() > 60  # ore spots


def test_a_pig_is_drawn_pink_where_it_stands(sim: Sim) -> None:
    sim.voxels[48, 11, 50] = AIR
    pig = Mob(99, "pig", np.array([48.5, 10.0, 51.5]), yaw=180.0)  # facing the player
    sim.mobs.append(pig)
    p = sim.player
    frame = render_view(sim.voxels, sim.boxes(), p.eye, p.yaw, 20.0)
    x, y = project(pig.centre, p.eye, p.yaw, 20.0)
    r, g, b = frame[int(y), int(x)].astype(int)  # a face of the pink body, shaded
    assert r > 1.3 * g and abs(g - b) < 10


def test_the_inventory_key_toggles_on_its_press_and_escape_closes():
    sim = Sim.generate(np.random.default_rng(0))
    for _ in range(5):  # held: opens once, does not flicker
        sim.step({"inventory": 1})
        assert sim.screen is not None and sim.screen.kind == "inventory"
    sim.step({})
    sim.step({"inventory": 1})
    assert sim.screen is None
    sim.step({})
    sim.step({"inventory": 1})
    sim.step({"ESC": 1})
    assert sim.screen is None


def test_with_a_screen_open_the_mouse_moves_the_cursor_not_the_view():
    sim = Sim.generate(np.random.default_rng(0))
    yaw, pos = sim.player.yaw, sim.player.pos.copy()
    sim.step({"inventory": 1})
    sim.step({"camera": [-5 * 0.15, 10 * 0.15], "forward": 1})  # 10 counts right, 5 up
    assert sim.screen is not None and sim.screen.cursor == pytest.approx([650.0, 355.0])
    assert sim.player.yaw == yaw and np.allclose(sim.player.pos[[0, 2]], pos[[0, 2]])
