"""Grounding labels: OpenHA's `grounding_action` (ACTION_SPACES.md section 6), by backward
relabelling from each interaction event.

At an interaction event the target is under the crosshair (under the cursor in a GUI). From the
event the point is carried back to earlier ticks, as a tracker would follow it, until a horizon,
the previous interaction or a GUI open/close edge. curate needs no segmentation model for this:

1. **Geometry.** A tick's camera rotation is recorded, so the event's point is turned back into a
   world direction and projected into each earlier frame (pinhole camera, 70 degrees vertical
   field of view on 640x360, `curate.camera`). This is exact for a camera that turns in place.
   Minecraft widens the field of view while sprinting (the speed modifier: 15% wider, reached by
   halving the gap every tick); the carry models it (`sprint_fov`). curate's world renders a fixed
   field of view, and its recordings never sprint, so they are carried unchanged.
2. **Refinement on the image** (`refine`, OpenCV). At the event, the target's centre is where the
   frame changes when it goes (a mined block, a killed mob vanish on the next frame): the centroid
   of the changed region around the crosshair, the next frame turned back by the recorded
   rotation first. Before it, wherever rotation does not explain the motion (the player moved, or
   the target is a mob), the point is followed frame to frame by template matching around the
   rotation's prediction.

Verbs: the run of attack (use, for `right click`) ticks that ends at the event gets the event's
verb with the point; earlier ticks `Approach` with the point while it is in view, `Explore`
without one while it is not; in a GUI, every tick from its opening (or the previous GUI click) to
the click gets `move_camera` with the cursor's point at the click. Ticks outside every stretch
have no grounding.

Decisions where the contract is silent (each tested in tests/labelers/test_grounding.py):

- Interaction events are the tick's `kill_entity`, `mine_block` and `use_item` events (one tick
  with several: in that order, so a pickaxe's `use_item` on the tick it mines is a `Mine`; a
  `use_item` counts only with the use button held on its tick or the one before, as Minecraft
  also counts a sword's or a tool's hits as uses), and
  GUI clicks: a press of attack or use on a tick whose GUI is open, at a known cursor. A click
  that crafts is named by what it made (`craft_item`); any other click by `slot`, as a recording
  does not say what a slot held. MineStudio rollouts record no cursor: their GUI ticks get none.
- A point that leaves the frame in the event's own run turns the tick to `Explore`.
- `horizon` counts ticks before the event (the event's own tick is always labelled).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import numpy as np
import polars as pl
import pyarrow as pa
from pydantic import Field

from curate.camera import bases, focal_of, pixels_of, ray
from curate.contract import FOV_VERTICAL_DEG, FRAME_HEIGHT, FRAME_WIDTH
from curate.episode import Episode
from curate.labelers.base import Chart, FrameReader, Labeler, Params, counts
from curate.labelers.instruction import object_words
from curate.labelers.refine import Tracker

PREFIX = "Grounding: "
REF = "<|object_ref_start|>{}<|object_ref_end|>"
POINT = "<|point_start|>({},{})<|point_end|>"
APPROACH, EXPLORE, MOVE_CAMERA = "Approach", "Explore", "move_camera"
# Event family -> (verb, the button whose run ends at the event), in precedence order.
VERBS: dict[str, tuple[str, str]] = {
    "kill_entity": ("Kill", "attack"),
    "mine_block": ("Mine", "attack"),
    "use_item": ("right click", "use"),
}
NONE = "no grounding"  # the stats' count of ticks outside every stretch
SLOT = "slot"  # the label of a GUI click that crafted nothing: what the slot held is not recorded
SPRINT_FOV = 1.15  # Minecraft's field of view while sprinting, as a factor of the setting
FOV_EASE = 0.5  # the share of the gap to the target field of view closed every tick


def point_text(px: float, py: float) -> tuple[int, int]:
    """A frame pixel as OpenHA's 0..999 integers (x horizontal).

    >>> point_text(639.9, 0.0), point_text(320.0, 180.0)
    ((999, 0), (500, 500))
    """
    return min(999, int(1000 * px / FRAME_WIDTH)), min(999, int(1000 * py / FRAME_HEIGHT))


def grounding_text(verb: str, label: str, point: tuple[int, int] | None) -> str:
    """The `Grounding: ...` string.

    >>> grounding_text("Mine", "oak log", (615, 505)).removeprefix("Grounding: Mine ")
    '<|object_ref_start|>oak log<|object_ref_end|><|point_start|>(615,505)<|point_end|>'
    >>> grounding_text("Explore", "pig", None)
    'Grounding: Explore <|object_ref_start|>pig<|object_ref_end|>'
    """
    text = f"{PREFIX}{verb} {REF.format(label)}"
    return text if point is None else text + POINT.format(*point)


@dataclass(frozen=True)
class Target:
    """An interaction event: what the carry starts from."""

    tick: int
    verb: str
    label: str
    button: str  # "attack" or "use": the held button whose run ends at the event
    point: tuple[float, float]  # frame pixels at the event: the crosshair, or the cursor in a GUI
    gui: bool
    moving: bool  # the target itself may move (a mob): rotation alone cannot carry it


@dataclass(frozen=True)
class Stretch:
    """The ticks a target labels: `start` to `target.tick`, the button's run from `run`."""

    target: Target
    start: int
    run: int


def interactions(ticks: pa.Table) -> list[Target]:
    """Every interaction event of a tick table, in tick order."""
    events = ticks.column("events").to_pylist()
    gui = ticks.column("gui_open").to_numpy(zero_copy_only=False)
    cursor_x = ticks.column("cursor_x").to_pylist()
    cursor_y = ticks.column("cursor_y").to_pylist()
    held = {b: ticks.column(b).to_numpy(zero_copy_only=False).astype(bool)
            for b in ("attack", "use")}  # fmt: skip
    centre = (FRAME_WIDTH / 2, FRAME_HEIGHT / 2)
    found = []
    for t, names in enumerate(events):
        if gui[t]:
            pressed = [b for b in ("attack", "use") if held[b][t] and not (t and held[b][t - 1])]
            if pressed and cursor_x[t] is not None and cursor_y[t] is not None:
                made = [e.partition(":")[2] for e in names if e.startswith("craft_item:")]
                label = object_words(made[0]) if made else SLOT
                point = (float(cursor_x[t]), float(cursor_y[t]))
                found.append(Target(t, MOVE_CAMERA, label, pressed[0], point, True, False))
            continue
        families = {e.partition(":")[0]: e.partition(":")[2] for e in reversed(names)}
        used = held["use"][t] or (t > 0 and held["use"][t - 1])
        for family, (verb, button) in VERBS.items():
            if family in families and (family != "use_item" or used):
                label = object_words(families[family])
                found.append(Target(t, verb, label, button, centre, False, verb == "Kill"))
                break
    return found


def stretches(ticks: pa.Table, targets: list[Target], horizon: int) -> list[Stretch]:
    """The ticks each target labels (ACTION_SPACES.md section 6)."""
    gui = ticks.column("gui_open").to_numpy(zero_copy_only=False).astype(bool)
    edge = np.flatnonzero(gui[1:] != gui[:-1]) + 1  # ticks whose GUI state differs from before
    held = {b: ticks.column(b).to_numpy(zero_copy_only=False).astype(bool)
            for b in ("attack", "use")}  # fmt: skip
    out = []
    previous = -1
    for target in targets:
        t = target.tick
        since_edge = edge[edge <= t]
        start = max(previous + 1, since_edge[-1] if len(since_edge) else 0)
        if not target.gui:
            start = max(start, t - horizon)
        pressed = held[target.button][: t + 1]
        off = np.flatnonzero(~pressed)
        run = max(start, int(off[-1]) + 1 if len(off) else 0) if pressed[t] else t
        out.append(Stretch(target, start, min(run, t)))
        previous = t
    return out


def poses(ticks: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """Yaw and pitch of every tick's frame: recorded where the source has them, else the camera
    deltas summed (a delta shows from the next frame; only relative rotation matters here)."""
    yaw = ticks.column("yaw").to_numpy(zero_copy_only=False)
    pitch = ticks.column("pitch").to_numpy(zero_copy_only=False)
    if not (np.isnan(yaw.astype(float)).any() or np.isnan(pitch.astype(float)).any()):
        return yaw.astype(np.float64), pitch.astype(np.float64)

    def summed(column: str) -> np.ndarray:
        delta = ticks.column(column).to_numpy(zero_copy_only=False)
        return np.concatenate([[0.0], np.cumsum(delta)[:-1]])

    return summed("camera_yaw"), np.clip(summed("camera_pitch"), -90.0, 90.0)


def focal_lengths(ticks: pa.Table, sprint_fov: float) -> np.ndarray:
    """The focal length of every tick's frame, the field of view widened while sprinting: a
    press of the sprint key keeps the player sprinting while forward stays held (and no sneak, no
    GUI), as in Minecraft."""
    col = {c: ticks.column(c).to_numpy(zero_copy_only=False).astype(bool)
           for c in ("sprint", "forward", "sneak", "gui_open")}  # fmt: skip
    n = len(col["sprint"])
    factor = np.ones(n)
    if sprint_fov != 1.0 and col["sprint"].any():
        sprinting = False
        for t in range(1, n):  # the action of tick t-1 shows on frame t
            moving = col["forward"][t - 1] and not (col["sneak"][t - 1] or col["gui_open"][t - 1])
            sprinting = moving and (sprinting or col["sprint"][t - 1])
            goal = sprint_fov if sprinting else 1.0
            factor[t] = factor[t - 1] + (goal - factor[t - 1]) * FOV_EASE
    return focal_of(FOV_VERTICAL_DEG * factor)


class GroundingParams(Params):
    # ticks carried back before a world event (a GUI click's stretch runs from the GUI opening)
    horizon: Annotated[int, Field(ge=0, le=1200)] = 40
    refine: bool = True  # refine the carried points on the frames (else geometry alone)
    # the field of view while sprinting, as a factor (Minecraft: 1.15; 1 turns the model off)
    sprint_fov: Annotated[float, Field(ge=1.0, le=2.0)] = SPRINT_FOV


class GroundingLabeler(Labeler[GroundingParams]):
    """Points on the interaction target, carried back from each event (module docstring)."""

    space = "grounding"
    version = "1"
    Params = GroundingParams
    needs_frames = True
    fields = (
        pa.field("grounding_text", pa.string()),
        pa.field("grounding_verb", pa.string()),
        pa.field("grounding_label", pa.string()),
        pa.field("grounding_point", pa.list_(pa.int16())),
    )
    chart = Chart("grounding verbs (share of ticks)")

    def frame_reader(self, episode: Episode) -> FrameReader | None:
        if not self.params.refine or episode.frames is None:
            return None  # geometry alone
        return Tracker(self.carried(episode))

    def carried(self, episode: Episode) -> Carried:
        """The stretches of `episode` and their points by the camera geometry alone."""
        ticks = episode.ticks
        spans = stretches(ticks, interactions(ticks), self.params.horizon)
        yaw, pitch = poses(ticks)
        return Carried(spans, bases(yaw, pitch), focal_lengths(ticks, self.params.sprint_fov),
                       _moved(ticks), len(episode))  # fmt: skip

    def label(self, episode: Episode, frames: FrameReader | None = None) -> pl.DataFrame:
        refined = getattr(frames, "carried", None)  # a reader that refined the carried points
        return (refined if isinstance(refined, Carried) else self.carried(episode)).labels()

    def output(self, labels: pl.DataFrame) -> pl.DataFrame:
        return labels.select(
            pl.col(f"grounding_{c}").alias(c) for c in ("text", "verb", "label", "point")
        )

    def stats(self, episode: Episode, labels: pl.DataFrame) -> dict[str, int]:
        verbs = labels["grounding_verb"]
        return counts(verbs) | {NONE: verbs.null_count()}


def _moved(ticks: pa.Table) -> np.ndarray:
    """Per tick: the player's position differs from the tick before (True where unknown)."""
    xyz = np.stack([ticks.column(c).to_numpy(zero_copy_only=False).astype(float)
                    for c in ("x", "y", "z")], 1)  # fmt: skip
    moved = np.ones(len(xyz), bool)
    moved[1:] = ~(np.abs(np.diff(xyz, axis=0)) < 1e-6).all(1)
    return moved


class Carried:
    """The stretches of one episode and the point of every tick in them: geometry first, image
    refinement (`curate.labelers.refine.Tracker`) replaces points where it runs."""

    def __init__(self, spans: list[Stretch], basis: np.ndarray, focal: np.ndarray,
                 moved: np.ndarray, n: int) -> None:  # fmt: skip
        self.spans, self.basis, self.focal, self.moved, self.n = spans, basis, focal, moved, n
        self.points = [self.geometric(s) for s in spans]

    def geometric(self, span: Stretch, point: tuple[float, float] | None = None) -> np.ndarray:
        """[ticks of the stretch, 2] pixels: the event's point (or `point`) turned back."""
        t = span.target.tick
        point = point or span.target.point
        if span.target.gui:
            return np.tile(np.array(point, np.float64), (t - span.start + 1, 1))
        direction = ray(point, self.basis[t], float(self.focal[t]))
        window = slice(span.start, t + 1)
        return pixels_of(direction, self.basis[window], self.focal[window])

    def labels(self) -> pl.DataFrame:
        verb: list[str | None] = [None] * self.n
        label: list[str | None] = [None] * self.n
        point: list[list[int] | None] = [None] * self.n
        for span, points in zip(self.spans, self.points, strict=True):
            target = span.target
            for i, (px, py) in enumerate(points):
                tick = span.start + i
                seen = bool(0 <= px < FRAME_WIDTH and 0 <= py < FRAME_HEIGHT)  # NaN: False
                if not seen:
                    verb[tick] = EXPLORE
                elif target.gui or tick >= span.run:
                    verb[tick] = target.verb
                else:
                    verb[tick] = APPROACH
                label[tick] = target.label
                point[tick] = list(point_text(px, py)) if seen else None
        text = [None if v is None else grounding_text(v, lab, tuple(p) if p else None)  # type: ignore[arg-type]
                for v, lab, p in zip(verb, label, point, strict=True)]  # fmt: skip
        return pl.DataFrame(
            {
                "grounding_text": pl.Series(text, dtype=pl.String),
                "grounding_verb": pl.Series(verb, dtype=pl.String),
                "grounding_label": pl.Series(label, dtype=pl.String),
                "grounding_point": pl.Series(point, dtype=pl.List(pl.Int16)),
            }
        )
