"""Motion labels: OpenHA's `motion_action` vocabulary (ACTION_SPACES.md section 5).

`Motion: <phrase>[, <phrase>]*` or `Motion: no_op`, slots in the order move, move_state, camera,
mouse, keyboard. Facts carried over from OpenHA's `MotionTokenizer` (openagents/agents/utils/
action_mapping.py): each channel (forward/back, left/right, yaw sign, pitch sign, cursor x,
cursor y) is cut into runs of one direction and a run's label covers the whole run; movement,
sprint/sneak, jump and turning only count with no GUI open, cursor moves only with one open; a
camera run's direction is the sign of its deltas (yaw first: `turn left and up`); the thresholds
(minimum run length, minimum turn) default to 0, so by default every tick with a move is
labelled; the keyboard slot lists jump, drop, swap, hotbar, then the inventory / GUI phrase; `/`
is written ` / `.

Decisions where the contract is silent (each is tested in tests/labelers/test_motion.py). Where
curate deliberately differs from OpenHA's code (the recorded GUI state, seeded ties, the last
tick, `swap`, several hotbar keys, the thresholds' measure, no trailing space), the project
README's "Deliberate deviations from the public code" lists it.

- GUI state. A tick's `gui_open` is the state the player saw on its frame, so it decides whether
  the tick's mouse motion turned the view or moved the cursor (ACTION_SPACES.md section 2).
- Ties (forward+back, left+right, sprint+sneak, attack+use in a GUI). A tied tick continues the
  direction of the tick before it when that tick had one (OpenHA does the same for movement: a
  held key keeps its run going). A run of tied ticks with nothing before it takes one draw for the
  whole run, from `episode_rng(seed, episode_id)`: one uniform per tick and tie channel, drawn up
  front, so the draws do not depend on the content and a rebuild is identical; one draw per run
  keeps a held pair from flickering.
- Thresholds. `min_run`: runs shorter than this many ticks get no phrase (all run channels).
  `min_turn_deg`: a camera or cursor run whose summed degrees stay below this gets no phrase.
- Inventory key. Only a press edge (key down on a tick, up on the tick before; held on tick 0
  counts) toggles the inventory; every tick of the held key carries the phrase decided at its
  press, as OpenHA labels every tick the key is down. The toggle starts from the GUI state seen at
  the press; only a press within `INVENTORY_LAG_TICKS` of the previous one, which the GUI state
  may not show yet, toggles blindly (the previous press opened the inventory, or closed a GUI).
- Which GUI the key closes: `close inventory` when the open GUI is the inventory, `close gui` when
  it is another (a container, a crafting table). The tick's `gui_inventory` says which; where it is
  null (MineStudio rollouts) the way the GUI was opened in the episode decides: by an inventory
  press, the inventory; by an `open gui` edge, another GUI; open since the first tick, the
  inventory (nothing tells, and the inventory is the GUI a player opens most).
- `open gui` / `close gui` sit on the tick whose action changed the state: the last tick before
  the `gui_open` edge. An edge while the inventory key is held, or within `INVENTORY_LAG_TICKS`
  after a press, belongs to the key and gives no GUI phrase.
- `drop` and hotbar keys count with a GUI open too, as in OpenHA.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from curate.contract import HOTBAR_ACTIONS
from curate.episode import Episode, episode_rng
from curate.labelers.base import Chart, FrameReader, Labeler, Params, counts

MOTION_PREFIX = "Motion: "
NO_OP = "Motion: no_op"
SLOTS: tuple[str, ...] = ("move", "move_state", "camera", "mouse", "keyboard")

# A GUI edge this many ticks after an inventory press still belongs to the press. Real MineStudio
# rollouts show a GUI three steps after the click that opened it (OpenHA's craft_item:arrow).
INVENTORY_LAG_TICKS = 3

# Phrases of the two-direction channels: code +1 is the first word, -1 the second.
_MOVE_FB = {1: "move forward", -1: "move back"}
_MOVE_LR = {1: "move left", -1: "move right"}
_YAW = {1: "right", -1: "left"}  # positive yaw turns right
_PITCH = {1: "down", -1: "up"}  # positive pitch looks down
_MOUSE_PHRASES = (
    None,
    "operate gui",
    "choose",
    "attack / mine and use / place",
    "attack / mine",
    "use / place",
)
_GUI_PHRASES = (None, "open inventory", "close inventory", "open gui", "close gui")
_OPEN_INV, _CLOSE_INV, _OPEN_GUI, _CLOSE_GUI = 1, 2, 3, 4
_TIE_CHANNELS = ("fore_back", "left_right", "sprint_sneak", "gui_click")


def _pair_table(
    first: dict[int, str], second: dict[int, str], join: str, head: str = ""
) -> list[str | None]:
    """Phrases for every (first, second) pair of directions, in the order of `_pair`."""
    table: list[str | None] = []
    for a in (-1, 0, 1):
        for b in (-1, 0, 1):
            words = [w for w in (first.get(a), second.get(b)) if w]
            table.append(head + join.join(words) if words else None)
    return table


def _pair(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Index of a pair of direction codes (their signs) in a `_pair_table`."""
    return 3 * (np.sign(first).astype(np.int64) + 1) + np.sign(second) + 1


_MOVE_TABLE = _pair_table(_MOVE_FB, _MOVE_LR, " and ")
_TURN_TABLE = _pair_table(_YAW, _PITCH, " and ", "turn ")
_CURSOR_TABLE = _pair_table(_YAW, _PITCH, " and ", "cursor move ")


def _lookup(table: Sequence[str | None], index: np.ndarray) -> pl.Series:
    """Vectorised phrase lookup: `table[index]` as a string Series with nulls for no phrase."""
    return pl.Series(list(table), dtype=pl.String).gather(pl.Series(index, dtype=pl.UInt32))


def _previous(flags: np.ndarray) -> np.ndarray:
    """The flag of the tick before, False before tick 0."""
    out = np.zeros_like(flags)
    out[1:] = flags[:-1]
    return out


def _resolve(first: np.ndarray, second: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """+1 where only `first` is on, -1 where only `second` is; tied ticks continue the code of the
    tick before their run of ties, or take the run's first draw when that tick had none."""
    code = first.astype(np.int8) - second.astype(np.int8)
    tie = first & second
    if tie.any():
        start = tie & ~_previous(tie)
        starts = np.flatnonzero(start)
        before = np.where(starts > 0, code[np.maximum(starts - 1, 0)], 0)
        drawn = np.where(draws[starts] < 0.5, 1, -1).astype(np.int8)
        value = np.where(before != 0, before, drawn).astype(np.int8)
        code[tie] = value[(np.cumsum(start) - 1)[tie]]
    return code


def _runs(code: np.ndarray, min_run: int, degrees: np.ndarray | None = None, min_deg: float = 0.0):
    """Run-length segmentation: the code of every run shorter than `min_run` ticks (or, with
    `degrees`, whose summed degrees stay under `min_deg`) is set to 0 over the whole run."""
    if len(code) == 0 or (min_run <= 1 and (degrees is None or min_deg <= 0.0)):
        return code
    change = np.ones(len(code), dtype=bool)
    change[1:] = code[1:] != code[:-1]
    run = np.cumsum(change) - 1
    keep = np.bincount(run) >= min_run
    if degrees is not None:
        keep &= np.abs(np.bincount(run, weights=degrees)) >= min_deg
    return np.where(keep[run], code, 0).astype(code.dtype)


def _inventory_phrases(
    inventory: np.ndarray, gui: np.ndarray, gui_inventory: np.ndarray, known: np.ndarray
) -> np.ndarray:
    """The GUI-slot phrase code per tick: inventory presses through the open/close toggle, then
    `gui_open` edges that no inventory press explains.

    `gui_inventory` says whether the open GUI is the inventory where `known`; elsewhere the way
    the open GUI was opened decides (see `_opened_by_key`)."""
    n = len(gui)
    ticks = np.arange(n)
    press = inventory & ~_previous(inventory)
    last_press = np.maximum.accumulate(np.where(press, ticks, -(INVENTORY_LAG_TICKS + 1)))
    explained = inventory | (ticks - last_press <= INVENTORY_LAG_TICKS)
    is_inventory = np.where(known, gui_inventory, _opened_by_key(gui, explained))

    presses = np.flatnonzero(press)
    press_code = np.empty(len(presses), dtype=np.int8)
    is_open, last = False, -(INVENTORY_LAG_TICKS + 1)
    for i, p in enumerate(presses.tolist()):  # a loop over press edges only
        if p - last > INVENTORY_LAG_TICKS:
            is_open = bool(gui[p])
            closes = _CLOSE_INV if is_inventory[p] else _CLOSE_GUI
        else:  # too soon for the GUI state: the previous press opened (the inventory) or closed
            closes = _CLOSE_INV
        press_code[i] = closes if is_open else _OPEN_INV
        is_open, last = not is_open, p
    code = np.zeros(n, dtype=np.int8)
    if len(presses):
        code[inventory] = press_code[(np.cumsum(press) - 1)[inventory]]

    after = np.zeros(n, dtype=bool)
    after[:-1] = gui[1:]
    edge = (after != gui) & ~explained
    edge[-1:] = False  # no tick after the last one: no edge
    code[edge & after] = _OPEN_GUI
    code[edge & ~after] = _CLOSE_GUI
    return code


def _opened_by_key(gui: np.ndarray, explained: np.ndarray) -> np.ndarray:
    """Per tick with a GUI open: it is the inventory, judged by how it opened. The edge before
    its first open tick belongs to the key (`explained`): the inventory; else an `open gui` edge:
    another GUI; open since tick 0: the inventory (the module docstring says why)."""
    opened = gui & ~_previous(gui)
    start = np.maximum.accumulate(np.where(opened, np.arange(len(gui)), 0))
    return np.where(start > 0, explained[np.maximum(start - 1, 0)], True)


def _highest_hotbar(ticks: pa.Table) -> np.ndarray:
    """0 where no hotbar key is down, else the highest key's number 1..9."""
    keys = np.stack([ticks.column(k).to_numpy() for k in HOTBAR_ACTIONS], axis=1).astype(bool)
    highest = len(HOTBAR_ACTIONS) - np.argmax(keys[:, ::-1], axis=1)
    return np.where(keys.any(axis=1), highest, 0)


def motion_labels(
    ticks: pa.Table, rng: np.random.Generator, min_run: int = 0, min_turn_deg: float = 0.0
) -> pl.DataFrame:
    """Motion label columns for a tick table: `motion_text` and one column per slot.

    >>> from curate.testing import tick_table
    >>> table = tick_table(1, forward=[1], camera_yaw=[-1.5])
    >>> motion_labels(table, np.random.default_rng(0))["motion_text"].to_list()
    ['Motion: move forward, turn left']
    """
    n = ticks.num_rows

    def on(name: str) -> np.ndarray:
        return ticks.column(name).to_numpy().astype(bool)

    gui = on("gui_open")
    view = ~gui
    kind = ticks.column("gui_inventory")
    gui_kind = (pc.fill_null(kind, False).to_numpy(), pc.is_valid(kind).to_numpy())
    draws = dict(zip(_TIE_CHANNELS, rng.random((len(_TIE_CHANNELS), n)), strict=True))

    fore_back = _resolve(on("forward") & view, on("back") & view, draws["fore_back"])
    left_right = _resolve(on("left") & view, on("right") & view, draws["left_right"])
    move = _lookup(_MOVE_TABLE, _pair(_runs(fore_back, min_run), _runs(left_right, min_run)))

    state = _resolve(on("sprint") & view, on("sneak") & view, draws["sprint_sneak"])
    move_state = _lookup([None, "sneak", "sprint"], np.where(state == 0, 0, (state + 3) // 2))

    # Runs of one sign, cut where the GUI opens or closes (code +-2 = cursor, +-1 = view).
    surface = np.where(gui, 2, 1).astype(np.int8)
    yaw_deg = ticks.column("camera_yaw").to_numpy()
    pitch_deg = ticks.column("camera_pitch").to_numpy()
    yaw = _runs(np.sign(yaw_deg).astype(np.int8) * surface, min_run, yaw_deg, min_turn_deg)
    pitch = _runs(np.sign(pitch_deg).astype(np.int8) * surface, min_run, pitch_deg, min_turn_deg)
    camera = _lookup(_TURN_TABLE + _CURSOR_TABLE, _pair(yaw, pitch) + 9 * gui)

    attack, use = on("attack"), on("use")
    click = _resolve(attack & gui, use & gui, draws["gui_click"])
    mouse_code = np.select(
        [click == 1, click == -1, view & attack & use, view & attack, view & use], [1, 2, 3, 4, 5]
    )
    mouse = _lookup(_MOUSE_PHRASES, mouse_code)

    keyboard = pl.DataFrame(
        {
            "jump": _lookup([None, "jump"], (on("jump") & view).astype(np.int8)),
            "drop": _lookup([None, "drop"], on("drop").astype(np.int8)),
            "swap": _lookup([None, "swap"], on("swapHands").astype(np.int8)),
            "hotbar": _lookup(
                [None, *(f"switch to hotbar {i}" for i in range(1, 10))], _highest_hotbar(ticks)
            ),
            "gui": _lookup(_GUI_PHRASES, _inventory_phrases(on("inventory"), gui, *gui_kind)),
        }
    ).select(_joined(pl.all()).alias("keyboard"))["keyboard"]

    slots = pl.DataFrame(
        {"move": move, "move_state": move_state, "camera": camera, "mouse": mouse}
    ).with_columns(keyboard=keyboard)
    text = (MOTION_PREFIX + _joined(pl.col(SLOTS))).fill_null(NO_OP)
    return slots.select(
        text.alias("motion_text"),
        *(pl.col(slot).alias(f"motion_{slot}") for slot in SLOTS),
    )


def _joined(columns: pl.Expr) -> pl.Expr:
    """The non-null phrases of `columns` joined by `, `; null when there are none."""
    joined = pl.concat_str(columns, separator=", ", ignore_nulls=True)
    return pl.when(joined == "").then(None).otherwise(joined)


class MotionParams(Params):
    min_run: Annotated[int, Field(ge=0)] = 0  # ticks; OpenHA's behaviour is 0
    min_turn_deg: Annotated[float, Field(ge=0)] = 0.0


class MotionLabeler(Labeler[MotionParams]):
    """OpenHA motion phrases per tick; ties drawn from `episode_rng(seed, episode_id)`."""

    space = "motion"
    version = "2"  # 2: `close gui` for a container closed by the inventory key
    Params = MotionParams
    fields = (pa.field("motion_text", pa.string()),)
    chart = Chart("most frequent motion phrases (share of ticks)")

    def label(self, episode: Episode, frames: FrameReader | None = None) -> pl.DataFrame:
        rng = episode_rng(self.seed, episode.episode_id)
        return motion_labels(episode.ticks, rng, self.params.min_run, self.params.min_turn_deg)

    def output(self, labels: pl.DataFrame) -> pl.DataFrame:
        return labels.select(pl.col("motion_text").alias("text"))

    def stats(self, episode: Episode, labels: pl.DataFrame) -> dict[str, int]:
        return counts(
            labels["motion_text"].str.strip_prefix(MOTION_PREFIX).str.split(", ").explode()
        )
