"""A scripted player that plays the way a person does, producing raw mouse and keyboard input.

The script is a generator per behaviour (mine a block, kill a pig, craft in a GUI screen, look
around, idle, switch slots): each `yield` is one tick of input, and the generator reads the
world again when it resumes, so a behaviour reads top to bottom like what the player means to
do. Turns are human-like: a fraction of the remaining angle per tick with noise, sometimes
overshooting the target and correcting; the mouse rests between moves, giving no-op stretches.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from curate.camera import camera_basis
from curate.contract import BINARY_ACTIONS, CAMERA_SCALE, MOUSE_BUTTON_TO_ACTION, SCREEN_SCALE
from curate.world.blocks import AIR, BLOCK_IDS, CRAFTING_TABLE, TOOL_FOR_BLOCK
from curate.world.gui import RECIPE_OF, needs_table, room_for, slot_centre
from curate.world.sim import PLAY_AREA, Sim

# Tasks and how often the player picks each when no task list is given.
TASK_WEIGHTS: dict[str, float] = {
    "mine_block:oak_log": 3,
    "mine_block:dirt": 2,
    "mine_block:stone": 2,
    "mine_block:iron_ore": 1.5,
    "mine_block:grass_block": 1,
    "mine_block:crafting_table": 1,
    "kill_entity:pig": 2,
}
SEARCH_RADIUS = 20  # blocks; targets farther than this are not pursued
MINE_DISTANCE = 3.2  # from the eye to the block's centre: close enough to start mining
KILL_DISTANCE = 2.2  # horizontal distance to a pig before clicking
MAX_TURN = 25.0  # degrees per tick: a fast flick
STUCK_TICKS = 40  # walking this long without getting half a block further: give up the target
ROUTE_LIMIT = 4000  # cells a route search visits at most
WHEEL_RIGHT = -1.0  # Minecraft: scrolling down selects the next slot to the right


@dataclass(frozen=True)
class Controls:
    """One tick of raw input: mouse counts, held keys (as canonical action names), mouse buttons."""

    dx: float = 0.0
    dy: float = 0.0
    dwheel: float = 0.0
    keys: frozenset[str] = field(default_factory=frozenset)
    buttons: frozenset[int] = field(default_factory=frozenset)


def env_action(inp: Controls, hotbar_before: int) -> dict[str, Any]:
    """The canonical env action of one tick of input: what a reader recovers from the jsonl
    (a scroll that changes the slot counts as that slot's hotbar key)."""
    action: dict[str, Any] = {name: 0 for name in BINARY_ACTIONS}
    for key in inp.keys:
        action[key] = 1
    for button in inp.buttons:
        action[MOUSE_BUTTON_TO_ACTION[button]] = 1
    if inp.dwheel:
        slot = (hotbar_before + (1 if inp.dwheel == WHEEL_RIGHT else -1)) % 9
        action[f"hotbar.{slot + 1}"] = 1
    action["camera"] = [inp.dy * CAMERA_SCALE, inp.dx * CAMERA_SCALE]
    return action


def _wrap(angle: float) -> float:
    return (angle + 180.0) % 360.0 - 180.0


def angles_to(eye: np.ndarray, point: np.ndarray) -> tuple[float, float]:
    """Yaw and pitch (degrees, Minecraft's conventions) that look from eye at point."""
    d = np.asarray(point) - eye
    return math.degrees(math.atan2(-d[0], d[2])), math.degrees(
        math.atan2(-d[1], math.hypot(d[0], d[2]))
    )


class ScriptedPlayer:
    """Plays tasks (`mine_block:<block>`, `kill_entity:pig`, `craft_item:<item>`) with idle and
    look-around breaks.

    `act(sim)` returns the next tick's input; all randomness comes from `rng`.
    """

    def __init__(self, rng: np.random.Generator, tasks: Sequence[str] | None = None):
        self.rng = rng
        self.tasks = list(tasks) if tasks else None
        self._script: Iterator[Controls] | None = None
        self._overshoot = (0.0, 0.0)  # degrees added to the aim until reached, then corrected
        self._gain = 0.35
        self._trail: deque[np.ndarray] = deque(maxlen=STUCK_TICKS)  # positions while walking

    def act(self, sim: Sim) -> Controls:
        if self._script is None:
            self._script = self._play(sim)
        return next(self._script)

    # --- the episode ---

    def _play(self, sim: Sim) -> Iterator[Controls]:
        yield from self._idle(int(self.rng.integers(8, 20)))  # recordings start with hands off
        k = 0
        while True:
            if self.tasks:
                task = self.tasks[k % len(self.tasks)]
            else:
                names = list(TASK_WEIGHTS)
                weights = np.array(list(TASK_WEIGHTS.values()))
                task = names[self.rng.choice(len(names), p=weights / weights.sum())]
            k += 1
            family, obj = task.split(":")
            if family == "mine_block":
                yield from self._mine(sim, BLOCK_IDS[obj])
            elif family == "craft_item":
                yield from self._craft(sim, obj)
            else:
                yield from self._kill(sim)
            yield from self._collect(sim)
            yield from self._interlude(sim)

    def _interlude(self, sim: Sim) -> Iterator[Controls]:
        """What people do between tasks: nothing, glance about, play with the hotbar, stroll."""
        choice = self.rng.choice(4, p=[0.35, 0.3, 0.15, 0.2])
        if choice == 0:
            yield from self._idle(int(self.rng.integers(5, 40)))
        elif choice == 1:
            yield from self._look_around(sim)
        elif choice == 2:
            yield from self._select(sim, int(self.rng.integers(0, 9)))
        else:
            yield from self._stroll(sim, int(self.rng.integers(20, 60)))

    # --- behaviours ---

    def _idle(self, ticks: int) -> Iterator[Controls]:
        for _ in range(ticks):
            yield Controls()

    def _look_around(self, sim: Sim) -> Iterator[Controls]:
        for _ in range(int(self.rng.integers(1, 4))):
            p = sim.player
            yaw = p.yaw + float(self.rng.choice([-1, 1]) * self.rng.uniform(30, 150))
            pitch = float(self.rng.uniform(-25, 30))
            eye = p.eye
            fwd = camera_basis(yaw, pitch)[0]
            yield from self._turn(sim, lambda eye=eye, fwd=fwd: eye + 10 * fwd, 1.0, 60)
            yield from self._idle(int(self.rng.integers(3, 20)))

    def _stroll(self, sim: Sim, ticks: int) -> Iterator[Controls]:
        drift = float(self.rng.normal(0, 8))
        self._trail.clear()
        for _ in range(ticks):
            if self._stuck():
                return
            dx = (drift + self.rng.normal(0, 3)) / 10
            yield Controls(dx=round(dx, 1), keys=self._walk_keys(sim, None))

    def _select(self, sim: Sim, slot: int) -> Iterator[Controls]:
        """Select a hotbar slot by its number key or by scrolling there, one notch a tick."""
        p = sim.player
        if slot == p.hotbar:
            return
        if self.rng.random() < 0.5:
            key = frozenset({f"hotbar.{slot + 1}"})
            for _ in range(int(self.rng.integers(1, 4))):
                yield Controls(keys=key)
            return
        right = (slot - p.hotbar) % 9
        wheel = WHEEL_RIGHT if right <= 4 else -WHEEL_RIGHT
        while p.hotbar != slot:
            yield Controls(dwheel=wheel)
            yield from self._idle(int(self.rng.integers(0, 3)))

    def _turn(self, sim: Sim, point, tolerance: float, max_ticks: int) -> Iterator[Controls]:
        """Turn toward a (possibly moving) point until within `tolerance` degrees."""
        self._start_turn(sim, point())
        for _ in range(max_ticks):
            dx, dy, error = self._mouse_toward(sim, point())
            if error < tolerance:
                return
            yield Controls(dx=dx, dy=dy)

    def _mine(self, sim: Sim, block: int) -> Iterator[Controls]:
        """Pick the nearest open block of a type, take the right tool, walk up and hold attack."""
        found = self._way_to(sim, block)
        if found is None:
            return
        target, centre, path = found
        tool = TOOL_FOR_BLOCK.get(block)
        if tool is not None:
            yield from self._select(sim, sim.hotbar_items().index(tool))
        self._start_turn(sim, _face_point(sim.voxels, target, sim.player.eye))
        self._trail.clear()
        for _ in range(400):
            if sim.voxels[target] != block:
                break
            if self._stuck():
                return
            if path and np.linalg.norm(centre - sim.player.eye) > MINE_DISTANCE:
                yield self._follow(sim, path, centre)
                continue
            dx, dy, error = self._mouse_toward(sim, _face_point(sim.voxels, target, sim.player.eye))
            hit = sim.pick(sim.boxes())
            if hit is not None and hit.block is not None and (hit.block == target or error < 3):
                # on the target, or aimed at it through a block in the way: dig
                yield Controls(dx=dx, dy=dy, buttons=frozenset({0}))
            else:
                yield Controls(dx=dx, dy=dy)
        else:
            return  # gave up: out of reach or hidden
        for _ in range(int(self.rng.integers(0, 3))):  # people release the button a bit late
            yield Controls(buttons=frozenset({0}))

    def _kill(self, sim: Sim) -> Iterator[Controls]:
        """Take the sword, chase the nearest pig and click it until it dies."""
        pigs = [m for m in sim.mobs if _horizontal(m.pos - sim.player.pos) < SEARCH_RADIUS]
        if not pigs:
            return
        pig = min(pigs, key=lambda m: _horizontal(m.pos - sim.player.pos))
        yield from self._select(sim, sim.hotbar_items().index("wooden_sword"))
        self._start_turn(sim, pig.centre)
        self._trail.clear()
        path: list[np.ndarray] | None = []
        goal = pig.pos.copy()
        click, press, length = 0, 0, 0  # ticks into a click; pressed ticks; whole click
        for _ in range(600):
            if pig not in sim.mobs or self._stuck():
                return
            far = _horizontal(pig.pos - sim.player.pos) > KILL_DISTANCE
            if far and (not path or _horizontal(pig.pos - goal) > 1.5):
                path, goal = (
                    route(sim.voxels, sim.player.pos, pig.pos, KILL_DISTANCE - 0.5),
                    pig.pos.copy(),
                )
                if path is None:
                    return
            if far and path and _horizontal(pig.pos - sim.player.pos) > 4:
                yield self._follow(sim, path, pig.centre)
                continue
            dx, dy, _ = self._mouse_toward(sim, pig.centre)
            hit = sim.pick(sim.boxes())
            if click == 0 and hit is not None and hit.owner == pig.id:
                press, length = int(self.rng.integers(1, 3)), int(self.rng.integers(4, 8))
            if length:
                click += 1
            if click == length:
                click, length = 0, 0
            yield Controls(
                dx=dx,
                dy=dy,
                keys=self._walk_keys(sim, path) if far else frozenset(),
                buttons=frozenset({0}) if 0 < click <= press else frozenset(),
            )

    def _craft(self, sim: Sim, item: str) -> Iterator[Controls]:
        """Open the inventory (or walk to a crafting table and use it, for a 3x3 recipe), craft
        what the item needs first and then the item, one recipe at a time: pick up a stack, put
        one item in each of its cells, put the rest back, take the result, store it; close."""
        chain = crafting_chain(item, sim.player.slots)
        if chain is None:
            return  # the inventory lacks the materials
        if any(needs_table(made) for made in chain):
            yield from self._open_table(sim)
        else:
            yield Controls(keys=frozenset({"inventory"}))
            yield from self._idle(int(self.rng.integers(2, 6)))
        screen = sim.screen
        if screen is None:
            return
        for made in chain:
            pattern = RECIPE_OF[made][0]
            cells: dict[str, list[int]] = {}
            for r, row in enumerate(pattern):
                for c, ingredient in enumerate(row):
                    if ingredient is not None:
                        cells.setdefault(ingredient, []).append(r * screen.side + c)
            for ingredient, where in cells.items():
                slots = sim.player.slots
                source = next((i for i, s in enumerate(slots) if s and s[0] == ingredient), None)
                if source is None:
                    break  # not there after all: the grid goes back when the screen closes
                yield from self._click_slot(sim, ("inventory", source), 0)  # the whole stack
                for cell in where:
                    yield from self._click_slot(sim, ("grid", cell), 1)  # one item each
                if screen.hand is not None:
                    yield from self._click_slot(sim, ("inventory", source), 0)  # the rest back
            yield from self._click_slot(sim, ("result", 0), 0)
            store_at = room_for(sim.player.slots, made)
            if screen.hand is not None and store_at is not None:
                yield from self._click_slot(sim, ("inventory", store_at), 0)
        yield from self._idle(int(self.rng.integers(2, 10)))
        # people close their inventory with its key, a crafting table with either
        escape = screen.kind == "crafting_table" and self.rng.random() < 0.5
        yield Controls(keys=frozenset({"ESC" if escape else "inventory"}))

    def _open_table(self, sim: Sim) -> Iterator[Controls]:
        """Walk up to the nearest crafting table, aim at it and use it."""
        found = self._way_to(sim, CRAFTING_TABLE)
        if found is None:
            return
        target, centre, path = found
        self._start_turn(sim, _face_point(sim.voxels, target, sim.player.eye))
        self._trail.clear()
        for _ in range(400):
            if sim.screen is not None or self._stuck():
                return
            if path and np.linalg.norm(centre - sim.player.eye) > MINE_DISTANCE:
                yield self._follow(sim, path, centre)
                continue
            dx, dy, _ = self._mouse_toward(sim, _face_point(sim.voxels, target, sim.player.eye))
            hit = sim.pick(sim.boxes())
            on_table = hit is not None and hit.block == target
            yield Controls(dx=dx, dy=dy, buttons=frozenset({1}) if on_table else frozenset())
            if on_table:
                yield Controls()  # release: the screen is open from the next frame on

    def _click_slot(self, sim: Sim, slot: tuple[str, int], button: int) -> Iterator[Controls]:
        """Move the cursor onto a slot, as a hand does (a fraction of the way a tick, with
        noise), and click it: the button down a tick or two, then up."""
        screen = sim.screen
        if screen is None:
            return
        fx, fy = slot_centre(screen.kind, slot)
        tx = fx * SCREEN_SCALE + self.rng.uniform(-5, 5)
        ty = fy * SCREEN_SCALE + self.rng.uniform(-5, 5)
        for _ in range(60):
            ex, ey = tx - screen.cursor[0], ty - screen.cursor[1]
            if math.hypot(ex, ey) < 4:
                break
            gain = float(self.rng.uniform(0.35, 0.65))
            dx = round(ex * gain + self.rng.normal(0, 1.5))
            dy = round(ey * gain + self.rng.normal(0, 1.5))
            yield Controls(dx=float(dx), dy=float(dy))
        for _ in range(int(self.rng.integers(1, 3))):
            yield Controls(buttons=frozenset({button}))
        yield from self._idle(int(self.rng.integers(1, 4)))

    def _collect(self, sim: Sim) -> Iterator[Controls]:
        """Walk onto the nearest dropped item until it is picked up."""
        drops = [d for d in sim.drops if _horizontal(d.pos - sim.player.pos) < 6]
        if not drops:
            return
        drop = min(drops, key=lambda d: _horizontal(d.pos - sim.player.pos))
        path = route(sim.voxels, sim.player.pos, drop.pos, 0.8)
        if path is None:
            return
        self._start_turn(sim, drop.centre)
        self._trail.clear()
        for _ in range(100):
            if drop not in sim.drops or self._stuck():
                return
            if path:
                yield self._follow(sim, path, drop.centre)
            else:
                dx, dy, _ = self._mouse_toward(sim, drop.centre)
                yield Controls(dx=dx, dy=dy)

    # --- mouse and legs ---

    def _follow(self, sim: Sim, path: list[np.ndarray], target: np.ndarray) -> Controls:
        """One tick of walking along a route: face the next cell, looking ahead at the target's
        height; drop cells once reached."""
        p = sim.player
        while path and _horizontal(path[0] - p.pos) < 0.35:
            path.pop(0)
        if not path:
            return Controls()
        heading = path[0] - p.pos
        heading[1] = 0.0
        look = p.eye + 4 * heading / max(np.linalg.norm(heading), 1e-6)
        look[1] = p.eye[1] + 0.5 * (target[1] - p.eye[1])
        dx, dy, _ = self._mouse_toward(sim, look)
        return Controls(dx=dx, dy=dy, keys=self._walk_keys(sim, path))

    def _start_turn(self, sim: Sim, point: np.ndarray) -> None:
        """A new target: pick this turn's speed and, on wide turns, an overshoot to correct."""
        yaw, pitch = angles_to(sim.player.eye, point)
        ey, ep = _wrap(yaw - sim.player.yaw), pitch - sim.player.pitch
        self._gain = float(self.rng.uniform(0.25, 0.5))
        self._overshoot = (0.0, 0.0)
        if math.hypot(ey, ep) > 20 and self.rng.random() < 0.4:
            extra = float(self.rng.uniform(0.06, 0.18))
            self._overshoot = (ey * extra, ep * extra)

    def _mouse_toward(self, sim: Sim, point: np.ndarray) -> tuple[float, float, float]:
        """Mouse counts (dx, dy) for one tick toward point, and the remaining error in degrees."""
        p = sim.player
        yaw, pitch = angles_to(p.eye, point)
        ey, ep = _wrap(yaw - p.yaw), pitch - p.pitch
        error = math.hypot(ey, ep)
        ay, ap = ey + self._overshoot[0], ep + self._overshoot[1]
        if math.hypot(ay, ap) < 1.0:
            self._overshoot = (0.0, 0.0)  # reached the overshoot: now correct back
            ay, ap = ey, ep
        if math.hypot(ay, ap) < 0.4:
            if self.rng.random() < 0.15:  # a resting hand still twitches now and then
                return float(round(self.rng.normal(0, 1.5), 1)), 0.0, error
            return 0.0, 0.0, error
        gain = self._gain * float(self.rng.uniform(0.8, 1.2))
        turn_yaw = max(-MAX_TURN, min(MAX_TURN, ay * gain)) + self.rng.normal(0, 0.1)
        turn_pitch = max(-MAX_TURN, min(MAX_TURN, ap * gain)) + self.rng.normal(0, 0.1)
        return round(turn_yaw / CAMERA_SCALE, 1), round(turn_pitch / CAMERA_SCALE, 1), error

    def _walk_keys(self, sim: Sim, path: list[np.ndarray] | None) -> frozenset[str]:
        """Forward, plus jump when the route climbs or a block stands in the way at the feet."""
        p = sim.player
        self._trail.append(p.pos.copy())
        fwd = camera_basis(p.yaw, 0.0)[0]
        ahead = p.pos + 0.7 * fwd
        x, y, z = int(math.floor(ahead[0])), int(math.floor(p.pos[1])), int(math.floor(ahead[2]))
        step = path[0] if path else None
        climb = step is not None and step[1] > p.pos[1] + 0.5 and _horizontal(step - p.pos) < 1.2
        if p.on_ground and (climb or sim.voxels[x, y, z] != AIR):
            return frozenset({"forward", "jump"})
        return frozenset({"forward"})

    def _stuck(self) -> bool:
        trail = self._trail
        return len(trail) == STUCK_TICKS and _horizontal(trail[-1] - trail[0]) < 0.5

    def _way_to(
        self, sim: Sim, block: int
    ) -> tuple[tuple[int, int, int], np.ndarray, list[np.ndarray]] | None:
        """The nearest open block of a type, its centre and a route to within reach of it."""
        target = self._find_block(sim, block)
        if target is None:
            return None
        centre = np.array(target) + 0.5
        path = route(sim.voxels, sim.player.pos, centre, MINE_DISTANCE - 1.0)
        return None if path is None else (target, centre, path)

    def _find_block(self, sim: Sim, block: int) -> tuple[int, int, int] | None:
        """The nearest block of a type with an open face, in walking range and near eye level."""
        p = sim.player
        x0, z0 = int(p.pos[0]), int(p.pos[2])
        lo = np.array([x0 - SEARCH_RADIUS, int(p.pos[1]) - 3, z0 - SEARCH_RADIUS]).clip(1)
        hi = np.array([x0 + SEARCH_RADIUS, int(p.pos[1]) + 3, z0 + SEARCH_RADIUS])
        region = sim.voxels[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]
        found = np.argwhere(region == block) + lo
        if not len(found):
            return None
        vox = sim.voxels
        open_face = np.zeros(len(found), bool)
        for axis in range(3):
            for step in (-1, 1):
                n = found.copy()
                n[:, axis] += step
                open_face |= vox[n[:, 0], n[:, 1], n[:, 2]] == AIR
        distance = np.hypot(found[:, 0] + 0.5 - p.pos[0], found[:, 2] + 0.5 - p.pos[2])
        ok = open_face & (distance > 1.5)
        if not ok.any():
            return None
        best = np.argmin(np.where(ok, distance + 2 * np.abs(found[:, 1] - p.pos[1]), np.inf))
        x, y, z = (int(v) for v in found[best])
        return x, y, z


def crafting_chain(item: str, slots: list) -> list[str] | None:
    """The recipes to craft, in order, to make `item` from the inventory `slots` (what its
    ingredients need first: planks from logs, sticks from planks); None when it lacks what the
    chain starts from."""
    have: Counter[str] = Counter()
    for stack in slots:
        if stack is not None:
            have[stack[0]] += stack[1]
    chain: list[str] = []

    def make(wanted: str) -> bool:
        if wanted not in RECIPE_OF:
            return False
        pattern, made = RECIPE_OF[wanted]
        need = Counter(i for row in pattern for i in row if i is not None)
        for ingredient, n in need.items():
            while have[ingredient] < n:
                if not make(ingredient):
                    return False
            have[ingredient] -= n  # set aside now: what the next ingredient needs cannot take it
        have[wanted] += made
        chain.append(wanted)
        return True

    return chain if make(item) else None


def _horizontal(v: np.ndarray) -> float:
    return math.hypot(v[0], v[2])


def _face_point(vox: np.ndarray, block: tuple[int, int, int], eye: np.ndarray) -> np.ndarray:
    """The centre of the block's open face that looks most toward the eye."""
    centre = np.array(block) + 0.5
    best, best_facing = centre, -np.inf
    for axis in range(3):
        for step in (-1, 1):
            n = list(block)
            n[axis] += step
            if vox[tuple(n)] != AIR:
                continue
            normal = np.zeros(3)
            normal[axis] = step
            facing = float(normal @ (eye - centre))
            if facing > best_facing:
                best, best_facing = centre + 0.45 * normal, facing
    return best


def _standing(vox: np.ndarray, x: int, z: int, y: int, climb: bool) -> int | None:
    """Where the feet rest in column (x, z) coming from height y: one block up (if there is head
    room to jump), level, or a drop of up to three (if the body fits where it steps off); None
    if no such spot has room to stand."""
    for ny in (y + 1, y, y - 1, y - 2, y - 3) if climb else (y, y - 1, y - 2, y - 3):
        if (
            1 <= ny < vox.shape[1] - 2
            and vox[x, ny - 1, z]
            and not vox[x, ny : max(ny, y) + 2, z].any()
        ):
            return ny
    return None


def route(
    vox: np.ndarray, start: np.ndarray, goal: np.ndarray, near: float
) -> list[np.ndarray] | None:
    """Feet positions at cell centres leading from start to within `near` blocks (horizontally)
    of goal: a breadth-first search over the cells a player can stand in, 8 ways, diagonals only
    where both sides are open. [] when already near; None when there is no way."""
    lo, hi = PLAY_AREA
    first = (int(start[0]), int(math.floor(start[1] + 0.01)), int(start[2]))
    previous: dict[tuple[int, int, int], tuple[int, int, int] | None] = {first: None}
    queue = deque([first])
    while queue and len(previous) < ROUTE_LIMIT:
        cell = queue.popleft()
        x, y, z = cell
        if math.hypot(x + 0.5 - goal[0], z + 0.5 - goal[2]) <= near:
            path = []
            back: tuple[int, int, int] | None = cell
            while back is not None and previous[back] is not None:
                path.append(np.array([back[0] + 0.5, back[1], back[2] + 0.5]))
                back = previous[back]
            return path[::-1]
        climb = not vox[x, y + 2, z]
        for dx, dz in ((1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (1, -1), (-1, 1), (-1, -1)):
            nx, nz = x + dx, z + dz
            if not (lo <= nx < hi and lo <= nz < hi):
                continue
            ny = _standing(vox, nx, nz, y, climb)
            if ny is None or (nx, ny, nz) in previous:
                continue
            if (
                dx
                and dz
                and not (
                    _standing(vox, x + dx, z, y, climb) == ny == _standing(vox, x, z + dz, y, climb)
                )
            ):
                continue
            previous[(nx, ny, nz)] = cell
            queue.append((nx, ny, nz))
    return None
