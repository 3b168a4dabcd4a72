"""The world's GUI screens: the player's inventory (a 2x2 crafting grid) and the crafting table's
(3x3), drawn over the view while open and worked with a cursor and clicks.

Layout: Minecraft's inventory and crafting-table screens, 176x166 GUI pixels; at GUI scale 2 on
the 1280x720 screen a GUI pixel is one pixel of the 640x360 frame, and the panel is centred on
it. A slot is given by the top-left corner of its 16x16 item area in the panel; the cursor is on
a slot when it is inside the slot's 18x18 cell.

Cursor: kept in screen pixels (1280x720), as the recorder's `mouse.x/y`. A screen opens with the
cursor at the centre of the screen, and each mouse count moves it one screen pixel (half a frame
pixel): `move(dx, dy)` of a text action moves it dx, dy screen pixels. It stays on the screen.

Clicks act on the press of a button. Left: on a slot, pick up its stack, put the held stack
down, add it to a stack of the same item, or swap the two; on the result, take the crafted items
(into an empty hand, or onto held items of the same kind with room), using one of each
ingredient. Right: pick up half a stack (rounded up), put one held item down, or swap with
another item. A slot holds 64 of an item, or one tool. Closing a screen puts what its grid and
the hand hold back into the inventory. Unlike Minecraft, a click outside the panel does nothing
(the game drops the held stack) and items with no room are lost (the game drops them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Literal

import numpy as np

from curate.contract import FRAME_HEIGHT, SCREEN_CENTRE, SCREEN_HEIGHT, SCREEN_SCALE, SCREEN_WIDTH
from curate.world.blocks import ITEM_COLOURS

Kind = Literal["inventory", "crafting_table"]
Stack = list  # [item, quantity]
Slot = tuple[str, int]  # ("inventory", 0..35) | ("grid", 0..n*n-1) | ("result", 0)

PANEL_WIDTH, PANEL_HEIGHT = 176, 166
PANEL_LEFT = (int(SCREEN_WIDTH / SCREEN_SCALE) - PANEL_WIDTH) // 2
PANEL_TOP = (FRAME_HEIGHT - PANEL_HEIGHT) // 2
MAX_STACK = 64
TOOLS = frozenset({"wooden_sword", "wooden_pickaxe", "wooden_axe"})  # one to a slot


def stack_limit(item: str) -> int:
    """How many of an item one slot holds: tools one, anything else 64."""
    return 1 if item in TOOLS else MAX_STACK


# (grid side, grid's top-left slot, result slot), in panel pixels (Minecraft's textures).
GRIDS: dict[str, tuple[int, tuple[int, int], tuple[int, int]]] = {
    "inventory": (2, (98, 18), (154, 28)),
    "crafting_table": (3, (30, 17), (124, 35)),
}


def inventory_slot(i: int) -> tuple[int, int]:
    """Panel position of inventory slot i: 0-8 the hotbar row, 9-35 the three rows above it."""
    if i < 9:
        return 8 + 18 * i, 142
    return 8 + 18 * ((i - 9) % 9), 84 + 18 * ((i - 9) // 9)


def slot_position(kind: str, slot: Slot) -> tuple[int, int]:
    """Panel position (top-left of the item area) of a slot of a screen."""
    side, (gx, gy), result = GRIDS[kind]
    where, i = slot
    if where == "inventory":
        return inventory_slot(i)
    if where == "grid":
        return gx + 18 * (i % side), gy + 18 * (i // side)
    return result


def slot_centre(kind: str, slot: Slot) -> tuple[float, float]:
    """The centre of a slot's item area on the 640x360 frame."""
    x, y = slot_position(kind, slot)
    return PANEL_LEFT + x + 8.0, PANEL_TOP + y + 8.0


def slots_of(kind: str) -> list[Slot]:
    side = GRIDS[kind][0]
    return [("result", 0), *(("grid", i) for i in range(side * side)),
            *(("inventory", i) for i in range(36))]  # fmt: skip


def slot_at(kind: str, cursor: tuple[float, float]) -> Slot | None:
    """The slot under the cursor (screen pixels), if any."""
    fx, fy = cursor[0] / SCREEN_SCALE - PANEL_LEFT, cursor[1] / SCREEN_SCALE - PANEL_TOP
    for slot in slots_of(kind):
        x, y = slot_position(kind, slot)
        if x - 1 <= fx < x + 17 and y - 1 <= fy < y + 17:
            return slot
    return None


# Shaped recipes: rows of the pattern (None = empty), the item made and how many.
RECIPES: tuple[tuple[tuple[tuple[str | None, ...], ...], str, int], ...] = (
    ((("oak_log",),), "oak_planks", 4),
    ((("oak_planks",), ("oak_planks",)), "stick", 4),
    ((("oak_planks", "oak_planks"), ("oak_planks", "oak_planks")), "crafting_table", 1),
    (
        (("oak_planks", "oak_planks", "oak_planks"), (None, "stick", None), (None, "stick", None)),
        "wooden_pickaxe",
        1,
    ),
)


RECIPE_OF = {item: (pattern, made) for pattern, item, made in RECIPES}


def needs_table(item: str) -> bool:
    """An item whose recipe is wider or taller than the inventory's 2x2 grid."""
    pattern = RECIPE_OF[item][0]
    return len(pattern) > 2 or len(pattern[0]) > 2


def crafted(grid: list[Stack | None], side: int) -> tuple[str, int] | None:
    """What a crafting grid makes: the recipe whose pattern equals the grid's filled area."""
    items = [[None if s is None else s[0] for s in grid[r * side : (r + 1) * side]]
             for r in range(side)]  # fmt: skip
    rows = [r for r in range(side) if any(items[r])]
    cols = [c for c in range(side) if any(items[r][c] for r in range(side))]
    if not rows:
        return None
    shape = tuple(tuple(items[r][c] for c in range(cols[0], cols[-1] + 1))
                  for r in range(rows[0], rows[-1] + 1))  # fmt: skip
    return next(((item, n) for pattern, item, n in RECIPES if pattern == shape), None)


@dataclass
class Screen:
    """An open GUI screen: its grid, what the hand holds, where the cursor is."""

    kind: Kind
    grid: list[Stack | None]
    cursor: list[float] = field(default_factory=lambda: list(SCREEN_CENTRE))
    hand: Stack | None = None

    @staticmethod
    def open(kind: Kind) -> Screen:
        side = GRIDS[kind][0]
        return Screen(kind, [None] * (side * side))

    @property
    def side(self) -> int:
        return GRIDS[self.kind][0]

    def move(self, dx: float, dy: float) -> None:
        self.cursor[0] = min(max(self.cursor[0] + dx, 0.0), SCREEN_WIDTH - 1.0)
        self.cursor[1] = min(max(self.cursor[1] + dy, 0.0), SCREEN_HEIGHT - 1.0)

    def hovered(self) -> Slot | None:
        return slot_at(self.kind, (self.cursor[0], self.cursor[1]))

    def click(self, button: int, inventory: list[Stack | None]) -> tuple[Slot, str, int] | None:
        """A press of button 0 (left) or 1 (right) at the cursor: the slot it worked, what the
        slot held before (`empty_slot` when nothing), and how many items were crafted (0 when the
        click crafted nothing); None when it changed nothing."""
        slot = self.hovered()
        if slot is None:
            return None
        if slot[0] == "result":
            made = crafted(self.grid, self.side)
            full = (
                self.hand is not None
                and (self.hand[0] != made[0] or self.hand[1] + made[1] > stack_limit(made[0]))
                if made
                else False
            )
            if made is None or full:
                return None
            self.hand = [made[0], made[1] + (self.hand[1] if self.hand else 0)]
            for i, stack in enumerate(self.grid):
                if stack is not None:
                    stack[1] -= 1
                    self.grid[i] = stack if stack[1] else None
            return slot, made[0], made[1]
        held = self.grid if slot[0] == "grid" else inventory
        before = held[slot[1]]
        after, hand = _click(button, before, self.hand)
        if (after, hand) == (before, self.hand):
            return None
        held[slot[1]], self.hand = after, hand
        return slot, before[0] if before else "empty_slot", 0

    def close(self, inventory: list[Stack | None]) -> None:
        """Put the grid's and the hand's items back into the inventory."""
        for stack in [*self.grid, self.hand]:
            if stack is not None:
                store(inventory, stack[0], stack[1])
        self.grid, self.hand = [None] * len(self.grid), None


def _click(
    button: int, slot: Stack | None, hand: Stack | None
) -> tuple[Stack | None, Stack | None]:
    """(slot, hand) after a left (0) or right (1) click of the hand on a slot."""
    if hand is None:
        if slot is None:
            return None, None
        take = slot[1] if button == 0 else (slot[1] + 1) // 2
        rest = slot[1] - take
        return ([slot[0], rest] if rest else None), [slot[0], take]
    if slot is not None and slot[0] != hand[0]:
        return hand, slot  # another item: the two swap
    have = slot[1] if slot else 0
    put = min(hand[1] if button == 0 else 1, stack_limit(hand[0]) - have)
    rest = hand[1] - put
    return [hand[0], have + put], ([hand[0], rest] if rest else None)


def room_for(inventory: list[Stack | None], item: str) -> int | None:
    """The slot items go to: a stack of the item with room, else the first empty slot (the
    hotbar first, as Minecraft fills it); None when the inventory is full."""
    for i, stack in enumerate(inventory):
        if stack is not None and stack[0] == item and stack[1] < stack_limit(item):
            return i
    return next((i for i, stack in enumerate(inventory) if stack is None), None)


def store(inventory: list[Stack | None], item: str, count: int) -> None:
    """Add items to the inventory where `room_for` finds room; what has none is lost (Minecraft
    would drop it)."""
    while count and (i := room_for(inventory, item)) is not None:
        stack = inventory[i] or [item, 0]
        put = min(count, stack_limit(item) - stack[1])
        inventory[i] = [item, stack[1] + put]
        count -= put


# --- drawing ---

_PANEL, _LIGHT, _DARK, _SLOT = (198, 198, 198), (255, 255, 255), (85, 85, 85), (139, 139, 139)
# 3x5 digits for stack sizes, one string of rows per digit
_DIGITS = ("111101101101111", "010110010010111", "111001111100111", "111001111001111",
           "101101111001001", "111100111001111", "111100111101111", "111001001001001",
           "111101111101111", "111101111001111")  # fmt: skip
_DIGIT_MASKS = [np.array([c == "1" for c in d]).reshape(5, 3) for d in _DIGITS]


def draw_screen(frame: np.ndarray, screen: Screen, inventory: list[Stack | None]) -> None:
    """Draw an open screen in place: the view darkened, the panel, every slot and its items, the
    held stack at the cursor. The cursor itself is not drawn (VPT videos have none)."""
    frame[:] = frame // 2
    top, left = PANEL_TOP, PANEL_LEFT
    frame[top : top + PANEL_HEIGHT, left : left + PANEL_WIDTH] = _PANEL
    frame[top : top + PANEL_HEIGHT, left : left + 2] = _LIGHT
    frame[top : top + 2, left : left + PANEL_WIDTH] = _LIGHT
    frame[top : top + PANEL_HEIGHT, left + PANEL_WIDTH - 2 : left + PANEL_WIDTH] = _DARK
    frame[top + PANEL_HEIGHT - 2 : top + PANEL_HEIGHT, left : left + PANEL_WIDTH] = _DARK
    for slot in slots_of(screen.kind):
        x, y = slot_position(screen.kind, slot)
        x, y = left + x, top + y
        frame[y - 1 : y + 17, x - 1 : x + 17] = _DARK
        frame[y : y + 17, x : x + 17] = _LIGHT
        frame[y : y + 16, x : x + 16] = _SLOT
        if slot[0] == "result":
            made = crafted(screen.grid, screen.side)
            stack = None if made is None else [made[0], made[1]]
        else:
            stack = (screen.grid if slot[0] == "grid" else inventory)[slot[1]]
        if stack is not None:
            _draw_stack(frame, x, y, stack)
    # the arrow between grid and result
    side, (gx, gy), (rx, ry) = GRIDS[screen.kind]
    ay = top + ry + 7
    frame[ay : ay + 2, left + gx + 18 * side + 2 : left + rx - 4] = _DARK
    if screen.hand is not None:
        cx = int(screen.cursor[0] / SCREEN_SCALE) - 8
        cy = int(screen.cursor[1] / SCREEN_SCALE) - 8
        _draw_stack(frame, cx, cy, screen.hand)


@cache
def _icon(item: str) -> tuple[np.ndarray, np.ndarray]:
    """(colours, mask) of an item's 16x16 icon: a shape per kind of item, so items of like
    colour (planks and a wooden sword) still look different. Blocks are squares with a darker
    rim (planks with seams, a log with its rings, a crafting table with its grid); a stick is a
    diagonal; a tool is a stick handle with its head (a blade, a pick's arc, an axe's blade)."""
    colour = np.array(ITEM_COLOURS[item], np.float64)
    icon = np.zeros((16, 16, 3))
    mask = np.zeros((16, 16), bool)
    r, c = np.mgrid[:16, :16]
    diagonal = np.abs((15 - r) - c) <= 1
    if item == "stick" or item in TOOLS:
        handle = diagonal & (c <= (15 if item == "stick" else 9))
        icon[handle], mask[handle] = np.array(ITEM_COLOURS["stick"]), True
        head = {
            "wooden_sword": diagonal & (c > 9),
            "wooden_pickaxe": (np.abs(r + c - 15) > 1)
            & (np.abs((r - 2) - (c - 13) ** 2 / 14) <= 1),
            "wooden_axe": (r >= 1) & (r <= 7) & (c >= 8) & (c <= 13) & (r + c >= 10),
        }.get(item, np.zeros((16, 16), bool))
        icon[head], mask[head] = colour, True
    else:
        mask[:] = True
        icon[:] = colour * 0.6
        icon[2:14, 2:14] = colour
        if item == "oak_planks":
            icon[5::4, 2:14] = colour * 0.75
        elif item == "oak_log":
            icon[5:11, 5:11] = colour * 1.3
            icon[7:9, 7:9] = colour * 0.7
        elif item == "crafting_table":
            icon[2:6, 2:14] = colour * 0.7
            icon[2:6, 5::3] = colour * 0.4
    return np.clip(icon, 0, 255).astype(np.uint8), mask


def _draw_stack(frame: np.ndarray, x: int, y: int, stack: Stack) -> None:
    """An item's icon at (x, y), and its count when above one."""
    icon, mask = _icon(stack[0])
    _paste(frame, x, y, icon, mask)
    if stack[1] > 1:
        digits = str(stack[1])
        for k, d in enumerate(digits):
            mask = _DIGIT_MASKS[int(d)]
            glyph = np.full((5, 3, 3), 255, np.uint8)
            _paste(frame, x + 16 - 4 * (len(digits) - k), y + 11, glyph, mask)


def _paste(frame: np.ndarray, x: int, y: int, image: np.ndarray, mask: np.ndarray) -> None:
    """`image` where `mask` is set, at (x, y), clipped at the frame's borders."""
    h, w = frame.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + image.shape[1], w), min(y + image.shape[0], h)
    if x0 >= x1 or y0 >= y1:
        return
    part = mask[y0 - y : y1 - y, x0 - x : x1 - x]
    frame[y0:y1, x0:x1][part] = image[y0 - y : y1 - y, x0 - x : x1 - x][part]
