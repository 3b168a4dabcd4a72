"""GUI screens: slots where the textures put them, recipes, clicks that move and craft items."""

from __future__ import annotations

import pytest

from curate.world.gui import (
    GRIDS,
    PANEL_LEFT,
    PANEL_TOP,
    SCREEN_SCALE,
    Screen,
    crafted,
    slot_at,
    slot_centre,
    slots_of,
    store,
)


@pytest.mark.parametrize("kind", list(GRIDS))
def test_every_slot_is_under_its_own_centre_and_cells_do_not_overlap(kind):
    for slot in slots_of(kind):
        x, y = slot_centre(kind, slot)
        assert slot_at(kind, (x * SCREEN_SCALE, y * SCREEN_SCALE)) == slot
    assert slot_at(kind, ((PANEL_LEFT - 5) * SCREEN_SCALE, PANEL_TOP * SCREEN_SCALE)) is None


def test_inventory_rows_as_the_game_has_them():
    assert slot_centre("inventory", ("inventory", 0)) == (PANEL_LEFT + 16, PANEL_TOP + 150)
    assert slot_centre("inventory", ("inventory", 9)) == (PANEL_LEFT + 16, PANEL_TOP + 92)
    assert slot_centre("crafting_table", ("result", 0)) == (PANEL_LEFT + 132, PANEL_TOP + 43)


def grid(side: int, cells: dict[int, str]) -> list:
    return [[cells[i], 1] if i in cells else None for i in range(side * side)]


@pytest.mark.parametrize(
    "side, cells, made",
    [
        (2, {3: "oak_log"}, ("oak_planks", 4)),
        (2, {1: "oak_planks", 3: "oak_planks"}, ("stick", 4)),  # a column anywhere
        (3, {4: "oak_planks", 7: "oak_planks"}, ("stick", 4)),
        (2, {0: "oak_planks", 1: "oak_planks", 2: "oak_planks", 3: "oak_planks"},
         ("crafting_table", 1)),
        (3, {0: "oak_planks", 1: "oak_planks", 2: "oak_planks", 4: "stick", 7: "stick"},
         ("wooden_pickaxe", 1)),
        (2, {0: "oak_planks", 3: "oak_planks"}, None),  # a diagonal is no stick
        (3, {0: "oak_planks", 1: "oak_planks", 2: "oak_planks", 4: "stick"}, None),
    ],
)  # fmt: skip
def test_recipes_match_the_filled_area_of_the_grid(side, cells, made):
    assert crafted(grid(side, cells), side) == made


def click_on(screen: Screen, slot, button: int, inventory: list):
    x, y = slot_centre(screen.kind, slot)
    screen.cursor = [x * SCREEN_SCALE, y * SCREEN_SCALE]
    return screen.click(button, inventory)


def test_clicks_pick_up_put_down_split_and_swap():
    inventory: list = [None] * 36
    inventory[0], inventory[1] = ["oak_planks", 5], ["stick", 2]
    screen = Screen.open("inventory")
    assert click_on(screen, ("inventory", 0), 0, inventory) == (("inventory", 0), "oak_planks", 0)
    assert screen.hand == ["oak_planks", 5] and inventory[0] is None
    click_on(screen, ("grid", 0), 1, inventory)  # right: one
    assert screen.grid[0] == ["oak_planks", 1] and screen.hand == ["oak_planks", 4]
    click_on(screen, ("inventory", 1), 0, inventory)  # left on another item: swap
    assert inventory[1] == ["oak_planks", 4] and screen.hand == ["stick", 2]
    click_on(screen, ("inventory", 5), 0, inventory)
    assert inventory[5] == ["stick", 2] and screen.hand is None
    click_on(screen, ("inventory", 1), 1, inventory)  # right on a stack: half, rounded up
    assert screen.hand == ["oak_planks", 2] and inventory[1] == ["oak_planks", 2]
    assert click_on(screen, ("inventory", 20), 1, [None] * 36) is not None
    assert click_on(screen, ("inventory", 30), 0, inventory) is not None  # rest put down
    assert click_on(screen, ("inventory", 31), 0, inventory) is None  # nothing to move


def test_taking_the_result_uses_one_of_each_ingredient():
    inventory: list = [None] * 36
    screen = Screen.open("inventory")
    screen.grid = [["oak_log", 2], None, None, None]
    assert click_on(screen, ("result", 0), 0, inventory) == (("result", 0), "oak_planks", 4)
    assert screen.hand == ["oak_planks", 4] and screen.grid[0] == ["oak_log", 1]
    click_on(screen, ("result", 0), 0, inventory)
    assert screen.hand == ["oak_planks", 8] and screen.grid[0] is None
    assert click_on(screen, ("result", 0), 0, inventory) is None  # nothing left to craft
    screen.close(inventory)
    assert inventory[0] == ["oak_planks", 8] and screen.hand is None


def test_closing_puts_the_grid_back_into_the_inventory():
    inventory: list = [["oak_planks", 63]] + [None] * 35
    screen = Screen.open("crafting_table")
    screen.grid[4] = ["oak_planks", 3]
    screen.close(inventory)
    assert inventory[:2] == [["oak_planks", 64], ["oak_planks", 2]]
    store(inventory, "stick", 1)
    assert inventory[2] == ["stick", 1]


def test_a_tool_takes_a_slot_of_its_own():
    inventory: list = [["wooden_pickaxe", 1]] + [None] * 35
    store(inventory, "wooden_pickaxe", 1)
    assert inventory[:2] == [["wooden_pickaxe", 1], ["wooden_pickaxe", 1]]
    screen = Screen.open("inventory")
    click_on(screen, ("inventory", 1), 0, inventory)
    click_on(screen, ("inventory", 0), 0, inventory)  # onto the other: they swap, never stack
    assert inventory[0] == ["wooden_pickaxe", 1] and screen.hand == ["wooden_pickaxe", 1]


def test_a_right_click_on_another_item_swaps_and_a_full_hand_takes_no_result():
    inventory: list = [["stick", 3], None] + [None] * 34
    screen = Screen.open("inventory")
    screen.hand = ["oak_planks", 2]
    click_on(screen, ("inventory", 0), 1, inventory)
    assert inventory[0] == ["oak_planks", 2] and screen.hand == ["stick", 3]
    screen.grid = [["oak_log", 1], None, None, None]
    assert click_on(screen, ("result", 0), 1, inventory) is None  # holding sticks: no planks
    screen.hand = None
    assert click_on(screen, ("result", 0), 1, inventory) == (("result", 0), "oak_planks", 4)
