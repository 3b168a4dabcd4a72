"""Block and item types of the gameplay world, with their looks and how long they take to mine.

Textures are 16x16 like Minecraft's, drawn procedurally from a fixed seed so that every machine
renders the same pixels and the repository holds no image files.
"""

from __future__ import annotations

import numpy as np

# Block ids index the voxel array (uint8); 0 is air. Names are Minecraft ids without `minecraft.`.
AIR, GRASS, DIRT, STONE, OAK_LOG, LEAVES, IRON_ORE, CRAFTING_TABLE = range(8)
BLOCK_NAMES: tuple[str, ...] = (
    "air",
    "grass_block",
    "dirt",
    "stone",
    "oak_log",
    "oak_leaves",
    "iron_ore",
    "crafting_table",
)
BLOCK_IDS: dict[str, int] = {name: i for i, name in enumerate(BLOCK_NAMES)}

TEXTURE_SIZE = 16
TOP, SIDE, BOTTOM = range(3)  # face kinds, the second index of TEXTURES

# Ticks of held attack that break a block by hand / with the right wooden tool: Minecraft's
# hardness x 1.5 s (x 5 when the block needs a tool), divided by 2 for a wooden tool. Iron ore
# needs a stone pickaxe in Minecraft; here the wooden one does, at stone-pickaxe-like speed.
BREAK_TICKS_HAND: dict[int, int] = {
    GRASS: 18,
    DIRT: 15,
    STONE: 150,
    OAK_LOG: 60,
    LEAVES: 6,
    IRON_ORE: 300,
    CRAFTING_TABLE: 75,
}
TOOL_FOR_BLOCK: dict[int, str] = {
    STONE: "wooden_pickaxe",
    IRON_ORE: "wooden_pickaxe",
    OAK_LOG: "wooden_axe",
    CRAFTING_TABLE: "wooden_axe",
}
BREAK_TICKS_TOOL: dict[int, int] = {STONE: 23, IRON_ORE: 45, OAK_LOG: 30, CRAFTING_TABLE: 38}

# What a broken block drops (Minecraft: grass drops dirt, stone drops cobblestone).
DROP_OF_BLOCK: dict[int, str] = {GRASS: "dirt", STONE: "cobblestone", LEAVES: ""} | {
    b: BLOCK_NAMES[b] for b in (DIRT, OAK_LOG, IRON_ORE, CRAFTING_TABLE)
}

# Flat colours of items: the drop entity in the world and the hotbar icon.
ITEM_COLOURS: dict[str, tuple[int, int, int]] = {
    "dirt": (134, 96, 67),
    "cobblestone": (110, 110, 110),
    "oak_log": (109, 85, 50),
    "iron_ore": (200, 160, 130),
    "crafting_table": (160, 110, 60),
    "porkchop": (235, 130, 130),
    "wooden_sword": (190, 150, 90),
    "wooden_pickaxe": (170, 130, 75),
    "wooden_axe": (150, 115, 65),
    "oak_planks": (180, 144, 90),
    "stick": (120, 90, 50),
}


def break_ticks(block: int, held_item: str | None) -> int:
    """Ticks of held attack that break `block`; the right tool in hand makes it faster."""
    if held_item is not None and TOOL_FOR_BLOCK.get(block) == held_item:
        return BREAK_TICKS_TOOL[block]
    return BREAK_TICKS_HAND[block]


def _noisy(rng: np.random.Generator, colour: tuple[int, int, int], spread: float) -> np.ndarray:
    """A 16x16 patch of `colour` with per-texel brightness noise, Minecraft's grainy look."""
    shade = 1.0 + spread * rng.uniform(-1.0, 1.0, (TEXTURE_SIZE, TEXTURE_SIZE, 1))
    return np.asarray(colour, np.float64) * shade


def _speckle(
    rng: np.random.Generator, base: np.ndarray, colour: tuple[int, int, int], fraction: float
) -> np.ndarray:
    """Sprinkle 2x2 spots of `colour` (ore in stone, holes in leaves)."""
    out = base.copy()
    n = int(fraction * TEXTURE_SIZE * TEXTURE_SIZE / 4)
    for v, u in rng.integers(0, TEXTURE_SIZE - 1, (n, 2)):
        out[v : v + 2, u : u + 2] = np.asarray(colour) * rng.uniform(0.85, 1.1)
    return out


def _build_textures() -> np.ndarray:
    """TEXTURES[block, face_kind, v, u] as uint8 RGB; v = 0 is the top row of a side face."""
    rng = np.random.default_rng(1234)
    tex = np.zeros((len(BLOCK_NAMES), 3, TEXTURE_SIZE, TEXTURE_SIZE, 3))
    dirt = _noisy(rng, (134, 96, 67), 0.18)
    grass_top = _noisy(rng, (95, 159, 53), 0.16)
    grass_side = dirt.copy()
    fringe = 3 + rng.integers(0, 2, TEXTURE_SIZE)  # ragged grass edge hanging over the dirt
    for u in range(TEXTURE_SIZE):
        grass_side[: fringe[u], u] = grass_top[: fringe[u], u]
    stone = _noisy(rng, (125, 125, 125), 0.12)
    bark = _noisy(rng, (102, 81, 49), 0.10)
    bark[:, ::4] *= 0.7  # vertical bark furrows
    rings = np.hypot(*np.meshgrid(np.arange(16) - 7.5, np.arange(16) - 7.5))[..., None]
    wood = _noisy(rng, (176, 143, 88), 0.06) * (0.85 + 0.15 * np.cos(rings * 1.6))
    log_top = np.where(rings > 6.5, bark, wood)  # year rings inside a rim of bark
    leaves = _speckle(rng, _noisy(rng, (58, 115, 38), 0.25), (30, 62, 20), 0.35)
    iron = _speckle(rng, stone, (216, 175, 147), 0.18)
    planks = _noisy(rng, (168, 128, 78), 0.08)
    planks[::4] *= 0.75  # plank seams
    table_top = planks.copy()
    table_top[[0, 7, 8, 15]] *= 0.6  # the 3x3 crafting grid
    table_top[:, [0, 7, 8, 15]] *= 0.6
    table_side = planks.copy()
    table_side[:3] = bark[:3] * 0.9  # dark rim, and a saw and hammer as two tool silhouettes
    table_side[5:13, 3:5] = (90, 90, 95)
    table_side[5:8, 9:14] = (90, 90, 95)
    table_side[8:13, 11:12] = (110, 80, 45)
    for block, faces in {
        GRASS: (grass_top, grass_side, dirt),
        DIRT: (dirt, dirt, dirt),
        STONE: (stone, stone, stone),
        OAK_LOG: (log_top, bark, log_top),
        LEAVES: (leaves, leaves, leaves),
        IRON_ORE: (iron, iron, iron),
        CRAFTING_TABLE: (table_top, table_side, planks),
    }.items():
        tex[block] = faces
    return np.clip(tex, 0, 255).astype(np.uint8)


TEXTURES: np.ndarray = _build_textures()
