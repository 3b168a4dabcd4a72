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

Decisions where the contract is silent (each is tested in tests/labelers/test_motion.py):

- GUI state. A tick's `gui_open` is the state the player saw on its frame, so it decides whether
  the tick's mouse motion turned the view or moved the cursor. (OpenHA reads the state *after*
  the action.)
- Ties (forward+back, left+right, sprint+sneak, attack+use in a GUI). A tied tick continues the
  direction of the tick before it when that tick had one (OpenHA does the same for movement: a
  held key keeps its run going). A run of tied ticks with nothing before it takes one draw for the
  whole run, from `episode_rng(seed, episode_id)`: one uniform per tick and tie channel, drawn up
  front, so the draws do not depend on the content and a rebuild is identical. OpenHA draws per
  tick for sprint+sneak and attack+use; one draw per run keeps a held pair from flickering.
- Thresholds. `min_run`: runs shorter than this many ticks get no phrase (all run channels).
  `min_turn_deg`: a camera or cursor run whose summed degrees stay below this gets no phrase
  (OpenHA compares the pose angle at the run's ends, and the cursor distance; summed deltas need
  no pose).
- The last tick is labelled like any other (OpenHA's run bookkeeping leaves the final tick empty).
- Inventory key. Only a press edge (key down on a tick, up on the tick before; held on tick 0
  counts) toggles the inventory; every tick of the held key carries the phrase decided at its
  press, as OpenHA labels every tick the key is down. The toggle starts from the GUI state seen at
  the press (an `ESC` or a container closing the inventory would leave a pure toggle inverted for
  the rest of the episode); only a press within `INVENTORY_LAG_TICKS` of the previous one, which
  the GUI state may not show yet, toggles blindly. With a GUI already open the key closes it:
  `close inventory`.
- `open gui` / `close gui` sit on the tick whose action changed the state: the last tick before
  the `gui_open` edge. An edge while the inventory key is held, or within `INVENTORY_LAG_TICKS`
  after a press, belongs to the key and gives no GUI phrase.
- `swap` comes from the `swapHands` key; several hotbar keys name the highest; `drop` counts with
  a GUI open too (OpenHA: drop and hotbar regardless of GUI).
- No trailing space after the last phrase (OpenHA's strings end with one), as for text actions.

Chunks (`chunk_motions`): a chunk of several ticks is labelled with its first tick's label. That
is OpenHA's choice (a chunk's prompt is its first motion; the other frames carry none), the first
frame is the one a policy sees when it emits the chunk, and every chunk label stays a label of
the per-tick vocabulary (a union of phrases could say `turn left and right`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
import pyarrow as pa

from curate.contract import HOTBAR_ACTIONS
from curate.episode import Episode, episode_rng
from curate.labelers.base import Labeler

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


def _inventory_phrases(inventory: np.ndarray, gui: np.ndarray) -> np.ndarray:
    """The GUI-slot phrase code per tick: inventory presses through the open/close toggle, then
    `gui_open` edges that no inventory press explains."""
    n = len(gui)
    ticks = np.arange(n)
    press = inventory & ~_previous(inventory)
    presses = np.flatnonzero(press)
    press_code = np.empty(len(presses), dtype=np.int8)
    is_open, last = False, -(INVENTORY_LAG_TICKS + 1)
    for i, p in enumerate(presses.tolist()):  # a loop over press edges only
        if p - last > INVENTORY_LAG_TICKS:
            is_open = bool(gui[p])
        press_code[i] = _CLOSE_INV if is_open else _OPEN_INV
        is_open, last = not is_open, p
    code = np.zeros(n, dtype=np.int8)
    if len(presses):
        code[inventory] = press_code[(np.cumsum(press) - 1)[inventory]]

    last_press = np.maximum.accumulate(np.where(press, ticks, -(INVENTORY_LAG_TICKS + 1)))
    explained = inventory | (ticks - last_press <= INVENTORY_LAG_TICKS)
    after = np.zeros(n, dtype=bool)
    after[:-1] = gui[1:]
    edge = (after != gui) & ~explained
    edge[-1:] = False  # no tick after the last one: no edge
    code[edge & after] = _OPEN_GUI
    code[edge & ~after] = _CLOSE_GUI
    return code


def _highest_hotbar(ticks: pa.Table) -> np.ndarray:
    """0 where no hotbar key is down, else the highest key's number 1..9."""
    keys = np.stack([ticks.column(k).to_numpy() for k in HOTBAR_ACTIONS], axis=1).astype(bool)
    highest = len(HOTBAR_ACTIONS) - np.argmax(keys[:, ::-1], axis=1)
    return np.where(keys.any(axis=1), highest, 0)


def motion_labels(
    ticks: pa.Table, rng: np.random.Generator, min_run: int = 0, min_turn_deg: float = 0.0
) -> pl.DataFrame:
    """Motion label columns for a tick table: `motion_text` and one column per slot.

    >>> from curate.episode import TICK_SCHEMA
    >>> row = {f.name: 0 for f in TICK_SCHEMA}
    >>> row.update(null=False, gui_open=False, events=[], forward=1, camera_yaw=-1.5)
    >>> table = pa.Table.from_pylist([row], schema=TICK_SCHEMA)
    >>> motion_labels(table, np.random.default_rng(0))["motion_text"].to_list()
    ['Motion: move forward, turn left']
    """
    n = ticks.num_rows

    def on(name: str) -> np.ndarray:
        return ticks.column(name).to_numpy().astype(bool)

    gui = on("gui_open")
    view = ~gui
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
            "gui": _lookup(_GUI_PHRASES, _inventory_phrases(on("inventory"), gui)),
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


def chunk_motions(
    labels: pl.DataFrame,
    chunk: int = 1,
    stride: int = 1,
    merge: bool = False,
    keep_noop: float = 1.0,
    rng: np.random.Generator | None = None,
) -> pl.DataFrame:
    """Motion chunks: windows of `chunk` ticks every `stride` ticks (the last ones may be shorter),
    each labelled with its first tick's `motion_text`; a no-op chunk is kept with probability
    `keep_noop` (one draw of `rng` per window); with `merge`, consecutive kept chunks with the same
    text that touch or overlap become one. Columns `start`, `end` (ticks, inclusive) and `text`.

    >>> labels = pl.DataFrame({"motion_text": ["Motion: jump"] * 3 + [NO_OP]})
    >>> chunk_motions(labels, chunk=2, stride=2, merge=True).rows()
    [(0, 3, 'Motion: jump')]
    """
    _check_chunking(chunk, stride, keep_noop)
    n = labels.height
    starts = np.arange(0, n, stride, dtype=np.int64)
    rows = pl.DataFrame(
        {"row": starts, "end_row": np.minimum(starts + chunk, n) - 1},
        schema={"row": pl.Int64, "end_row": pl.Int64},
    ).with_columns(text=labels["motion_text"].gather(starts))
    if keep_noop < 1.0:
        if rng is None:
            raise ValueError("keep_noop < 1 needs an rng (use episode_rng(seed, episode_id))")
        kept = pl.Series(rng.random(len(starts)) < keep_noop)
        rows = rows.filter((pl.col("text") != NO_OP) | pl.lit(kept))
    if merge:
        new = (pl.col("text") != pl.col("text").shift(1)) | (
            pl.col("row") > pl.col("end_row").cum_max().shift(1) + 1
        )
        rows = (
            rows.with_columns(group=new.fill_null(True).cum_sum())
            .group_by("group", maintain_order=True)
            .agg(pl.col("row").first(), pl.col("end_row").max(), pl.col("text").first())
            .drop("group")
        )
    tick = labels["tick"] if "tick" in labels.columns else pl.Series(np.arange(n))
    return pl.DataFrame(
        {
            "start": tick.gather(rows["row"]).cast(pl.Int64),
            "end": tick.gather(rows["end_row"]).cast(pl.Int64),
            "text": rows["text"],
        }
    )


def _check_chunking(chunk: int, stride: int, keep_noop: float) -> None:
    if chunk < 1 or stride < 1:
        raise ValueError(f"chunk and stride must be >= 1 (got chunk={chunk}, stride={stride})")
    if not 0.0 <= keep_noop <= 1.0:
        raise ValueError(f"keep_noop must lie in [0, 1] (got {keep_noop})")


class MotionLabeler(Labeler):
    """OpenHA motion phrases per tick; ties drawn from `episode_rng(seed, episode_id)`."""

    space = "motion"
    version = "1"

    def __init__(
        self,
        seed: int = 0,
        min_run: int = 0,
        min_turn_deg: float = 0.0,
        chunk: int = 1,
        stride: int = 1,
        merge: bool = False,
        keep_noop: float = 1.0,
    ) -> None:
        if min_run < 0 or min_turn_deg < 0:
            raise ValueError(f"min_run, min_turn_deg must be >= 0 (got {min_run}, {min_turn_deg})")
        _check_chunking(chunk, stride, keep_noop)
        self.seed, self.min_run, self.min_turn_deg = seed, min_run, min_turn_deg
        self.chunk, self.stride, self.merge, self.keep_noop = chunk, stride, merge, keep_noop

    def label(self, episode: Episode) -> pl.DataFrame:
        rng = episode_rng(self.seed, episode.episode_id)
        return motion_labels(episode.ticks, rng, self.min_run, self.min_turn_deg)

    def fields(self, labels: pl.DataFrame) -> pl.DataFrame:
        return labels.select(pl.col("motion_text").alias("text"))

    def chunks(self, labels: pl.DataFrame, episode_id: str) -> pl.DataFrame:
        """The episode's motion chunks with this labeler's chunking parameters; the no-op draws
        use their own stream so they never shift the tie draws."""
        rng = episode_rng(self.seed, f"{episode_id}:motion-chunks")
        return chunk_motions(labels, self.chunk, self.stride, self.merge, self.keep_noop, rng)
