"""World state and its step function: one canonical env action advances the world by one tick.

`Sim.step` takes the canonical env action of ACTION_SPACES.md section 2 (binaries, camera as
[pitch, yaw] degrees), so the scripted player and the Gymnasium environment drive the same
code. Within a tick the attack resolves against the view shown on the tick's frame (the
crosshair the player saw), then the camera turns, then the player moves, then mobs and drops;
with a GUI screen open, the mouse works the screen instead (see `step`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from curate.camera import camera_basis
from curate.contract import CAMERA_SCALE, HOTBAR_ACTIONS
from curate.world.blocks import (
    AIR,
    BLOCK_NAMES,
    CRAFTING_TABLE,
    DIRT,
    DROP_OF_BLOCK,
    GRASS,
    IRON_ORE,
    ITEM_COLOURS,
    LEAVES,
    OAK_LOG,
    STONE,
    break_ticks,
)
from curate.world.gui import Screen, store
from curate.world.render import Boxes, Hit, cast

WORLD_SIZE = (96, 32, 96)  # x, y, z blocks
PLAY_AREA = (28.0, 68.0)  # x and z bounds the player and mobs keep to: the world edge stays in fog

# Player physics: Minecraft's figures per tick (walk 4.317 m/s, jump 0.42, gravity 0.08, drag 0.98).
EYE_HEIGHT = 1.62
HALF_WIDTH, HEIGHT = 0.3, 1.8
WALK_SPEED = 4.317 / 20
SNEAK_FACTOR, SPRINT_FACTOR = 0.3, 1.3
JUMP_VELOCITY, GRAVITY, DRAG = 0.42, 0.08, 0.98
BLOCK_REACH, ENTITY_REACH = 4.5, 3.0  # survival reach, blocks from the eye
PICKUP_DELAY = 10  # ticks before a dropped item can be collected (Minecraft's default)
# The player's box grown by this much horizontally / vertically collects drops. Minecraft grows
# it by 0.5 vertically; 1.0 lets a player collect a drop from the rim of the hole it fell in.
PICKUP_RANGE = (1.0, 1.0)

PIG_HEALTH, HURT_TICKS = 10, 10  # Minecraft: 10 health points, 10 ticks of invulnerability
DAMAGE = {"wooden_sword": 4}  # anything else hits for 1
PIG_WALK, PIG_PANIC = 0.04, 0.12  # blocks per tick

# A pig as boxes in its own frame (x right, y up from the feet, z forward): centre, half extents.
_PINK, _SNOUT, _EYE = (240, 165, 165), (215, 125, 135), (30, 25, 25)
PIG_PARTS: tuple[tuple[tuple[float, float, float], tuple[float, float, float], tuple], ...] = (
    ((0.0, 0.65, 0.0), (0.3, 0.25, 0.5), _PINK),  # body first: its centre is the mob's centre
    ((0.0, 0.75, 0.62), (0.25, 0.25, 0.2), _PINK),  # head
    ((0.0, 0.68, 0.84), (0.12, 0.08, 0.03), _SNOUT),
    ((-0.13, 0.84, 0.825), (0.05, 0.04, 0.01), _EYE),
    ((0.13, 0.84, 0.825), (0.05, 0.04, 0.01), _EYE),
    *(((sx * 0.17, 0.2, sz * 0.3), (0.09, 0.2, 0.09), _PINK) for sx in (-1, 1) for sz in (-1, 1)),
)
HURT_RED = (255, 40, 40)  # a hurt mob flashes red
DROP_HALF = 0.125


def stat_key(stat: str) -> str:
    """`mine_block:oak_log` -> `minecraft.mine_block:minecraft.oak_log`, the recorder's spelling."""
    family, obj = stat.split(":")
    return f"minecraft.{family}:minecraft.{obj}"


@dataclass
class Player:
    pos: np.ndarray  # feet, like xpos/ypos/zpos
    yaw: float
    pitch: float
    vy: float = 0.0
    on_ground: bool = True
    hotbar: int = 0
    slots: list[list[Any] | None] = field(default_factory=lambda: [None] * 36)  # [item, quantity]
    attack_was_held: bool = False
    mining: tuple[int, int, int] | None = None
    mining_ticks: int = 0

    @property
    def eye(self) -> np.ndarray:
        return self.pos + (0.0, EYE_HEIGHT, 0.0)

    @property
    def held_item(self) -> str | None:
        slot = self.slots[self.hotbar]
        return None if slot is None else slot[0]


@dataclass
class Mob:
    id: int
    kind: str
    pos: np.ndarray  # feet
    yaw: float
    health: int = PIG_HEALTH
    hurt: int = 0  # ticks of invulnerability (and red tint) left
    walk: int = 0  # ticks of walking left
    panic: int = 0
    knock: np.ndarray = field(default_factory=lambda: np.zeros(3))

    @property
    def centre(self) -> np.ndarray:
        return self.pos + PIG_PARTS[0][0][1] * np.array([0.0, 1.0, 0.0])


@dataclass
class Drop:
    id: int
    item: str
    pos: np.ndarray  # bottom centre
    vy: float = 0.1
    age: int = 0

    @property
    def centre(self) -> np.ndarray:
        return self.pos + (0.0, DROP_HALF, 0.0)


@dataclass(frozen=True)
class Interaction:
    """A thing the player did to a target on a tick: its event (`family:object`, a stat's name,
    or `gui_click:<what the slot held>` for a click that moved items) and the target."""

    stat: str
    target_kind: str  # block, mob, item, slot
    block: tuple[int, int, int] | None = None
    entity: int | None = None
    slot: tuple[str, str, int] | None = None  # screen kind, and the slot: ("grid", 3)


def _wave_field(rng: np.random.Generator, n: int, wavelengths: tuple[float, float]) -> np.ndarray:
    """A smooth random field over the x-z plane, in [-1, 1] roughly: a sum of random waves."""
    xs, zs = np.meshgrid(np.arange(WORLD_SIZE[0]), np.arange(WORLD_SIZE[2]), indexing="ij")
    total = np.zeros(xs.shape)
    for _ in range(n):
        angle, phase = rng.uniform(0, 2 * np.pi, 2)
        k = 2 * np.pi / rng.uniform(*wavelengths)
        total += np.cos(k * (xs * np.cos(angle) + zs * np.sin(angle)) + phase)
    return total / math.sqrt(n)


def generate_terrain(rng: np.random.Generator) -> np.ndarray:
    """Rolling grass hills with dirt patches, stone outcrops studded with iron ore, oak trees and
    a few crafting tables: every block type a task needs shows on the surface."""
    nx, ny, nz = WORLD_SIZE
    vox = np.zeros(WORLD_SIZE, np.uint8)
    height = np.round(9 + 1.6 * _wave_field(rng, 6, (14, 40))).astype(int)
    rock = _wave_field(rng, 5, (10, 26)) > 0.9
    height[rock] += 1
    for x in range(nx):
        for z in range(nz):
            h = height[x, z]
            vox[x, : h - 3, z] = STONE
            vox[x, h - 3 : h, z] = DIRT
            vox[x, h, z] = STONE if rock[x, z] else GRASS
    surface = vox[np.arange(nx)[:, None], height, np.arange(nz)[None, :]]  # a copy, written back
    dirt_patch = (_wave_field(rng, 5, (6, 14)) > 1.1) & (surface == GRASS)
    surface[dirt_patch] = DIRT
    ore = (surface == STONE) & (rng.random(surface.shape) < 0.15)
    surface[ore] = IRON_ORE
    vox[np.arange(nx)[:, None], height, np.arange(nz)[None, :]] = surface
    lo, hi = int(PLAY_AREA[0]) - 8, int(PLAY_AREA[1]) + 8
    for _ in range(70):
        x, z = rng.integers(lo, hi, 2)
        if (
            vox[x, height[x, z], z] == GRASS
            and not (vox[x - 2 : x + 3, :, z - 2 : z + 3] == OAK_LOG).any()
        ):
            _grow_tree(vox, x, height[x, z] + 1, z, int(rng.integers(4, 6)))
    for _ in range(4):
        x, z = rng.integers(int(PLAY_AREA[0]), int(PLAY_AREA[1]), 2)
        if vox[x, height[x, z] + 1, z] == AIR:
            vox[x, height[x, z] + 1, z] = CRAFTING_TABLE
    return vox


def _grow_tree(vox: np.ndarray, x: int, y: int, z: int, trunk: int) -> None:
    """An oak as Minecraft grows one: a trunk, two wide layers of leaves, a narrow crown."""
    top = y + trunk
    for dy, r in ((-2, 2), (-1, 2), (0, 1), (1, 1)):
        layer = vox[x - r : x + r + 1, top + dy, z - r : z + r + 1]
        layer[layer == AIR] = LEAVES
    vox[x, y:top, z] = OAK_LOG


def surface_y(vox: np.ndarray, x: float, z: float) -> int:
    """Height of the first air block above the highest solid one in a column."""
    column = vox[int(x), :, int(z)]
    return int(np.nonzero(column)[0].max()) + 1


def _solid(vox: np.ndarray, x: int, y: int, z: int) -> bool:
    nx, ny, nz = vox.shape
    if not (0 <= x < nx and 0 <= z < nz) or y < 0:
        return True
    return y < ny and vox[x, y, z] != AIR


def collides(
    vox: np.ndarray, pos: np.ndarray, half: float = HALF_WIDTH, height: float = HEIGHT
) -> bool:
    """Whether an upright box standing at `pos` (feet) overlaps a solid block."""
    x0, x1 = math.floor(pos[0] - half), math.floor(pos[0] + half - 1e-9)
    y0, y1 = math.floor(pos[1]), math.floor(pos[1] + height - 1e-9)
    z0, z1 = math.floor(pos[2] - half), math.floor(pos[2] + half - 1e-9)
    return any(
        _solid(vox, x, y, z)
        for x in range(x0, x1 + 1)
        for y in range(y0, y1 + 1)
        for z in range(z0, z1 + 1)
    )


class Sim:
    """The gameplay world: voxels, the player, mobs, dropped items, cumulative stats."""

    def __init__(
        self, voxels: np.ndarray, player: Player, mobs: list[Mob], rng: np.random.Generator
    ):
        self.voxels = voxels
        self.player = player
        self.mobs = mobs
        self.drops: list[Drop] = []
        self.rng = rng  # mobs' wandering
        self.tick = 0
        self.stats: dict[str, int] = {}  # `family:object` -> cumulative count, non-zero only
        self.next_id = max((m.id for m in mobs), default=0) + 1
        self.screen: Screen | None = None  # the open GUI screen
        self.held: frozenset[str] = frozenset()  # the binaries on during the tick before

    @staticmethod
    def generate(rng: np.random.Generator, pigs: int = 6) -> Sim:
        """A fresh world: terrain, the player at a grass spot near the centre, pigs around it."""
        vox = generate_terrain(rng)
        centre = WORLD_SIZE[0] / 2
        while True:
            x, z = np.floor(rng.uniform(centre - 6, centre + 6, 2)) + 0.5
            y = surface_y(vox, x, z)
            if vox[int(x), y - 1, int(z)] == GRASS:
                break
        player = Player(np.array([x, float(y), z]), yaw=float(rng.uniform(-180, 180)), pitch=0.0)
        player.slots[:3] = [["wooden_sword", 1], ["wooden_pickaxe", 1], ["wooden_axe", 1]]
        mobs: list[Mob] = []
        while len(mobs) < pigs:
            mx, mz = rng.uniform(x - 14, x + 14), rng.uniform(z - 14, z + 14)
            my = surface_y(vox, mx, mz)
            if vox[int(mx), my - 1, int(mz)] in (GRASS, DIRT) and math.hypot(mx - x, mz - z) > 4:
                mobs.append(
                    Mob(
                        len(mobs) + 1,
                        "pig",
                        np.array([mx, float(my), mz]),
                        float(rng.uniform(0, 360)),
                    )
                )
        return Sim(vox, player, mobs, rng)

    # --- what the player sees ---

    def boxes(self) -> Boxes:
        """Every mob part and dropped item as oriented boxes, for rendering and picking."""
        geom, colour, owner = [], [], []
        for mob in self.mobs:
            c, s = math.cos(math.radians(mob.yaw)), math.sin(math.radians(mob.yaw))
            for (lx, ly, lz), half, rgb in PIG_PARTS:
                centre = mob.pos + (lx * c - lz * s, ly, lx * s + lz * c)
                geom.append([*centre, *half, c, s])
                colour.append(0.5 * (np.array(rgb) + HURT_RED) if mob.hurt else rgb)
                owner.append(mob.id)
        for drop in self.drops:
            angle = drop.age * 0.1  # items spin slowly, as in Minecraft
            geom.append(
                [*drop.centre, DROP_HALF, DROP_HALF, DROP_HALF, math.cos(angle), math.sin(angle)]
            )
            colour.append(ITEM_COLOURS[drop.item])
            owner.append(drop.id)
        if not geom:
            return Boxes.empty()
        return Boxes(np.array(geom, float), np.array(colour, float), np.array(owner, np.int64))

    def pick(self, boxes: Boxes) -> Hit | None:
        """What the crosshair points at within reach: a block (4.5) or a mob (3)."""
        player = self.player
        fwd = camera_basis(player.yaw, player.pitch)[0]
        hit = cast(self.voxels, boxes, player.eye, fwd, BLOCK_REACH)
        if hit is not None and hit.owner is not None and hit.distance > ENTITY_REACH:
            return None
        return hit

    def mining_progress(self) -> tuple[tuple[int, int, int], float] | None:
        """The block being mined and the fraction done, for the crack overlay."""
        p = self.player
        if p.mining is None:
            return None
        block = int(self.voxels[p.mining])
        return p.mining, p.mining_ticks / break_ticks(block, p.held_item)

    def hotbar_items(self) -> list[str | None]:
        return [None if s is None else s[0] for s in self.player.slots[:9]]

    def inventory(self) -> list[dict[str, Any]]:
        """The non-empty slots as the recorder writes them."""
        return [{"type": s[0], "quantity": s[1]} for s in self.player.slots if s is not None]

    # --- one tick ---

    def step(self, action: dict[str, Any]) -> list[Interaction]:
        """Advance one tick under a canonical env action; return what the player did to targets.

        The screen the tick's frame showed decides what the action means: with none, the view
        turns and the player acts in the world; with one open, the camera moves the cursor, the
        buttons click, the player stands still. A screen opens or closes at the end of the tick
        whose action did it (the inventory key's press, ESC's, a use on a crafting table)."""
        p = self.player
        done: list[Interaction] = []

        def pressed(name: str) -> bool:
            return bool(action.get(name)) and name not in self.held

        attack = bool(action.get("attack"))
        pitch_delta, yaw_delta = action.get("camera", (0.0, 0.0))
        if self.screen is None:
            keys = [k for k, name in enumerate(HOTBAR_ACTIONS) if action.get(name)]
            if keys:
                p.hotbar = keys[-1]  # several hotbar keys: the highest, as the readers decide
            hit = self.pick(self.boxes())
            done += self._attack(attack, hit)
            p.pitch = min(90.0, max(-90.0, p.pitch + pitch_delta))
            p.yaw += yaw_delta
            self._move_player(action)
            if pressed("inventory"):
                self.screen = Screen.open("inventory")
            elif pressed("use") and hit is not None and hit.block is not None:
                if self.voxels[hit.block] == CRAFTING_TABLE:  # using a crafting table opens it
                    self.screen = Screen.open("crafting_table")
                    self._count("custom:interact_with_crafting_table")
        else:
            screen = self.screen
            p.mining, p.mining_ticks = None, 0
            screen.move(yaw_delta / CAMERA_SCALE, pitch_delta / CAMERA_SCALE)
            for button, name in ((0, "attack"), (1, "use")):
                clicked = screen.click(button, p.slots) if pressed(name) else None
                if clicked is not None:
                    slot, content, made = clicked
                    event = f"craft_item:{content}" if made else f"gui_click:{content}"
                    if made:
                        self._count(event, made)
                    done.append(Interaction(event, "slot", slot=(screen.kind, *slot)))
            self._move_player({})  # the player stands still (gravity still pulls)
            if pressed("inventory") or pressed("ESC"):
                screen.close(p.slots)
                self.screen = None
        p.attack_was_held = attack
        self.held = frozenset(k for k, v in action.items() if k != "camera" and v)
        for mob in self.mobs:
            self._move_mob(mob)
        done += self._update_drops()
        for counter in ("play_time", "total_world_time", "time_since_death", "time_since_rest"):
            self._count(f"custom:{counter}")
        self.tick += 1
        return done

    def _count(self, stat: str, amount: int = 1) -> None:
        if amount > 0:
            self.stats[stat] = self.stats.get(stat, 0) + amount

    def _attack(self, attack: bool, hit: Hit | None) -> list[Interaction]:
        """Hold attack on a block to mine it; click (press) on a mob to hit it."""
        p = self.player
        if not attack or hit is None or hit.block is None:
            p.mining, p.mining_ticks = None, 0
        if not attack or hit is None:
            return []
        if hit.owner is not None:
            mob = next((m for m in self.mobs if m.id == hit.owner), None)
            if mob is None or p.attack_was_held or mob.hurt:
                return []  # a held button does not hit again; a drop under the crosshair is no mob
            return self._hurt(mob)
        if hit.block != p.mining:
            p.mining, p.mining_ticks = hit.block, 0
        p.mining_ticks += 1
        block = int(self.voxels[hit.block])
        if p.mining_ticks < break_ticks(block, p.held_item):
            return []
        self.voxels[hit.block] = AIR
        p.mining, p.mining_ticks = None, 0
        self._count(f"mine_block:{BLOCK_NAMES[block]}")
        if DROP_OF_BLOCK[block]:
            self._spawn_drop(DROP_OF_BLOCK[block], np.array(hit.block) + (0.5, 0.25, 0.5))
        return [Interaction(f"mine_block:{BLOCK_NAMES[block]}", "block", block=hit.block)]

    def _hurt(self, mob: Mob) -> list[Interaction]:
        p = self.player
        damage = DAMAGE.get(p.held_item or "", 1)
        mob.health -= damage
        mob.hurt, mob.panic = HURT_TICKS, 60
        away = mob.pos - p.pos
        away[1] = 0.0
        mob.knock = 0.4 * away / max(np.linalg.norm(away), 1e-6)
        mob.yaw = math.degrees(math.atan2(-away[0], away[2]))  # flee facing away from the player
        self._count("custom:damage_dealt", damage * 10)  # Minecraft counts tenths of a point
        if mob.health > 0:
            return []
        self.mobs.remove(mob)
        self._count(f"kill_entity:{mob.kind}")
        self._count("custom:mob_kills")
        self._spawn_drop("porkchop", mob.centre.copy())
        return [Interaction(f"kill_entity:{mob.kind}", "mob", entity=mob.id)]

    def _spawn_drop(self, item: str, pos: np.ndarray) -> None:
        self.drops.append(Drop(self.next_id, item, pos))
        self.next_id += 1

    def _move_player(self, action: dict[str, Any]) -> None:
        p = self.player
        forward = action.get("forward", 0) - action.get("back", 0)
        strafe = action.get("right", 0) - action.get("left", 0)
        speed = WALK_SPEED
        if action.get("sneak"):
            speed *= SNEAK_FACTOR
        elif action.get("sprint") and forward > 0:
            speed *= SPRINT_FACTOR
        yaw = math.radians(p.yaw)
        fwd = np.array([-math.sin(yaw), 0.0, math.cos(yaw)])
        right = np.array([-math.cos(yaw), 0.0, -math.sin(yaw)])
        move = forward * fwd + strafe * right
        norm = np.linalg.norm(move)
        if norm > 0:
            move *= speed / norm
        if action.get("jump") and p.on_ground:
            p.vy = JUMP_VELOCITY
            self._count("custom:jump")
        start = p.pos.copy()
        moved = p.pos + (0.0, p.vy, 0.0)  # Minecraft moves first, then applies gravity and drag
        p.on_ground = False
        if collides(self.voxels, moved):
            if p.vy < 0:
                moved[1] = math.floor(moved[1]) + 1.0  # land on the block below
                p.on_ground = not collides(self.voxels, moved)
            if not p.on_ground:
                moved[1] = p.pos[1]  # bumped the head, or no room to land: stay
            p.vy = 0.0
        p.pos = moved
        p.vy = (p.vy - GRAVITY) * DRAG
        for axis in (0, 2):
            trial = p.pos.copy()
            trial[axis] = min(PLAY_AREA[1], max(PLAY_AREA[0], trial[axis] + move[axis]))
            if not collides(self.voxels, trial):
                p.pos = trial
        walked = round(100 * math.hypot(p.pos[0] - start[0], p.pos[2] - start[2]))
        if p.on_ground:
            sprinting = action.get("sprint") and forward > 0 and not action.get("sneak")
            self._count("custom:sprint_one_cm" if sprinting else "custom:walk_one_cm", walked)

    def _move_mob(self, mob: Mob) -> None:
        """Pigs wander: idle, walk a while in a random direction, flee when hit."""
        mob.hurt = max(0, mob.hurt - 1)
        mob.panic = max(0, mob.panic - 1)
        if mob.walk == 0 and self.rng.random() < (0.2 if mob.panic else 0.02):
            mob.walk = int(self.rng.integers(20, 60))
            mob.yaw += float(self.rng.uniform(-90, 90))
        speed = PIG_PANIC if mob.panic else PIG_WALK
        step = mob.knock.copy()
        mob.knock *= 0.5
        if mob.walk:
            mob.walk -= 1
            yaw = math.radians(mob.yaw)
            step += speed * np.array([-math.sin(yaw), 0.0, math.cos(yaw)])
        target = mob.pos + step
        inside = (
            PLAY_AREA[0] <= target[0] <= PLAY_AREA[1] and PLAY_AREA[0] <= target[2] <= PLAY_AREA[1]
        )
        box = dict(half=0.45, height=0.9)
        if inside and not collides(self.voxels, target, **box):
            mob.pos = target
        elif inside and not collides(self.voxels, target + (0.0, 1.0, 0.0), **box):
            mob.pos = target + (0.0, 1.0, 0.0)  # mobs hop up one block
        else:
            mob.yaw += 180.0  # blocked: turn round
        below = mob.pos - (0.0, 0.4, 0.0)
        if collides(self.voxels, below, **box):
            mob.pos[1] = math.floor(mob.pos[1])  # stand on the block under the feet
        else:
            mob.pos = below

    def _update_drops(self) -> list[Interaction]:
        """Drops fall and are collected, one a tick, once the player's reach box touches them."""
        p = self.player
        picked: list[Interaction] = []
        for drop in self.drops:
            drop.age += 1
            drop.vy = (drop.vy - 0.04) * DRAG
            fallen = drop.pos + (0.0, drop.vy, 0.0)
            if collides(self.voxels, fallen, half=DROP_HALF, height=2 * DROP_HALF):
                fallen[1] = math.floor(fallen[1]) + 1.0 if drop.vy < 0 else drop.pos[1]
                drop.vy = 0.0
            drop.pos = fallen
        for drop in self.drops:
            close = (
                abs(drop.pos[0] - p.pos[0]) <= HALF_WIDTH + PICKUP_RANGE[0]
                and abs(drop.pos[2] - p.pos[2]) <= HALF_WIDTH + PICKUP_RANGE[0]
                and p.pos[1] - PICKUP_RANGE[1] <= drop.pos[1] <= p.pos[1] + HEIGHT + PICKUP_RANGE[1]
            )
            if drop.age >= PICKUP_DELAY and close:
                self.drops.remove(drop)
                self._add_item(drop.item)
                self._count(f"pickup:{drop.item}")
                picked.append(Interaction(f"pickup:{drop.item}", "item", entity=drop.id))
                break
        return picked

    def _add_item(self, item: str) -> None:
        store(self.player.slots, item, 1)
