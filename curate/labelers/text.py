"""OpenHA's text action (ACTION_SPACES.md section 4), its encoder and its parser.

    Action: move(DX, DY) and press(K, ...) and click(left)

DX/DY are integer mouse units (camera degrees / 0.15, rounded to 3 decimals, then half to even).
Reserved mode (the default) always writes move and press; compact mode omits empty parts
(`Action: no_op` for nothing). The encoder works on whole tick tables; the parser is per string,
as parsing model output is.

>>> action = parse_text_action("Action: move(10, -4) and press(w, space) and click(left)")
>>> action["camera"], action["forward"], action["jump"], action["attack"]
([-0.6, 1.5], 1, 1, 1)
>>> encode_text_action(action)
'Action: move(10, -4) and press(w, space) and click(left)'
"""

from __future__ import annotations

import re
from typing import Literal

import numpy as np
import polars as pl
import pyarrow as pa

from curate.contract import BINARY_ACTIONS, CAMERA_SCALE, TEXT_CLICKS, TEXT_KEY_ORDER
from curate.episode import Episode, as_frame
from curate.labelers.base import Chart, FrameReader, Labeler, Params

Mode = Literal["compact", "reserved"]
MODES: tuple[Mode, ...] = ("compact", "reserved")
NO_OP = {"compact": "Action: no_op", "reserved": "Action: move(0, 0) and press()"}


def mouse_units(degrees: np.ndarray) -> np.ndarray:
    """Camera degrees -> integer mouse units: `round(round(degrees / 0.15, 3))`, half to even.

    The quotient is first rounded to 3 decimals, as OpenHA's converter does, so that a recorded
    half unit (dx = 2.5, i.e. 0.375 degrees, which divides back to 2.5000000000000004) rounds as
    the half it is, and every string equals OpenHA's (13.124961 degrees: 87.49974 -> 87.5 -> 88).

    The 3-decimal step is Python's `round`, which rounds the exact binary value; numpy's scales
    by 1000 first, and where that product lands exactly on a half (0.524925 degrees: 3499.5) it
    can round the other way, so those few are redone with Python's `round`.

    >>> mouse_units(np.array([13.124961, 0.375, 0.524925])).tolist()
    [88, 2, 3]
    """
    quotient = np.asarray(degrees, np.float64) / CAMERA_SCALE
    thousandths = quotient * 1000
    units = np.round(np.round(thousandths) / 1000)
    half = np.abs(thousandths - np.trunc(thousandths)) == 0.5
    if half.any():
        units[half] = [round(round(q, 3)) for q in quotient[half].tolist()]
    return units.astype(np.int64)


def text_actions(ticks: pl.DataFrame, mode: Mode = "reserved") -> pl.Series:
    """The `Action:` string of every row of a tick table.

    A player's ticks repeat few distinct moves and few distinct key/click combinations, so each
    distinct part is written once, in Python, gathered, and joined by polars.
    """
    if mode not in MODES:
        raise ValueError(f"text mode must be one of {MODES}, got {mode!r}")
    inputs = [action for _, action in (*TEXT_KEY_ORDER, *TEXT_CLICKS)]
    code = np.zeros(ticks.height, np.int64)
    for bit, action in enumerate(inputs):
        code |= ticks[action].to_numpy().astype(np.int64) << bit
    combos, combo_index = np.unique(code, return_inverse=True)
    dx, dy = (
        mouse_units(ticks["camera_yaw"].to_numpy()),
        mouse_units(ticks["camera_pitch"].to_numpy()),
    )
    # one int64 per (dx, dy): a 1-D unique is far faster than a row-wise one
    _, first, move_index = np.unique((dx << 32) + dy, return_index=True, return_inverse=True)
    move_text = [
        f"move({x}, {y})" if x or y or mode == "reserved" else None
        for x, y in zip(dx[first].tolist(), dy[first].tolist(), strict=True)
    ]
    parts = pl.DataFrame(
        {
            "move": pl.Series(move_text, dtype=pl.String).gather(move_index.ravel()),
            "tail": pl.Series(
                [_press_and_clicks(int(c), mode) for c in combos], dtype=pl.String
            ).gather(combo_index.ravel()),
        }
    )
    body = pl.concat_str("move", "tail", separator=" and ", ignore_nulls=True)
    text = pl.when(body != "").then(pl.lit("Action: ") + body).otherwise(pl.lit(NO_OP[mode]))
    return parts.select(text.alias("text_action")).to_series()


def _press_and_clicks(combo: int, mode: Mode) -> str | None:
    """The press and click parts of one combination (bits: TEXT_KEY_ORDER, then TEXT_CLICKS)."""
    keys = [key for i, (key, _) in enumerate(TEXT_KEY_ORDER) if combo >> i & 1]
    clicks = [
        f"click({side})"
        for j, (side, _) in enumerate(TEXT_CLICKS)
        if combo >> (len(TEXT_KEY_ORDER) + j) & 1
    ]
    press = [f"press({', '.join(keys)})"] if keys or mode == "reserved" else []
    return " and ".join(press + clicks) or None


def encode_text_action(action: dict, mode: Mode = "reserved") -> str:
    """The text of one canonical action dict (binaries and `camera` [pitch, yaw] in degrees)."""
    row = {name: [int(action.get(name, 0))] for name in BINARY_ACTIONS}
    pitch, yaw = action.get("camera", (0.0, 0.0))
    frame = pl.DataFrame({**row, "camera_pitch": [float(pitch)], "camera_yaw": [float(yaw)]})
    return text_actions(frame, mode).item()


_KEY_TO_ACTION = dict(TEXT_KEY_ORDER)
_CLICK_TO_ACTION = dict(TEXT_CLICKS)
_PART = re.compile(
    r"move\(\s*(?P<dx>-?\d+)\s*,\s*(?P<dy>-?\d+)\s*\)"
    r"|move\(\s*dx\s*=\s*'(?P<ldx>[-+\d.eE]+)'\s*,\s*dy\s*=\s*'(?P<ldy>[-+\d.eE]+)'\s*\)"
    r"|press\((?P<press>[^)]*)\)"
    r"|keyDown\(\s*keys\s*=\s*\((?P<keydown>[^)]*)\)\s*\)"
    r"|click\((?P<click>[^)]*)\)"
    r"|(?P<noop>no_op)"
)


class TextActionError(ValueError):
    """A string that is not a text action; the message quotes the part that failed."""


def parse_text_action(text: str) -> dict:
    """One `Action: ...` string (current or legacy form) -> canonical env action dict.

    The camera comes back in degrees, `[pitch, yaw]`: mouse units * 0.15.
    """
    body = text.strip()
    if body.startswith("Action:"):
        body = body[len("Action:") :].strip()
    action: dict = {name: 0 for name in BINARY_ACTIONS}
    dx = dy = 0.0
    for chunk in filter(None, (c.strip() for c in re.split(r"\s+and\s+", body))):
        match = _PART.fullmatch(chunk)
        if match is None:
            raise TextActionError(f"not a text action part: {chunk!r} in {text!r}")
        if match["dx"] is not None:
            dx, dy = float(match["dx"]), float(match["dy"])
        elif match["ldx"] is not None:
            dx, dy = float(match["ldx"]), float(match["ldy"])
        elif match["click"] is not None:
            side = match["click"].strip()
            if side in _CLICK_TO_ACTION:  # click(middle) has no action (section 4)
                action[_CLICK_TO_ACTION[side]] = 1
        elif match["noop"] is None:
            keys = match["press"] if match["press"] is not None else match["keydown"]
            for key in filter(None, (k.strip() for k in keys.split(","))):
                name = re.sub(r"^(key\.)?keyboard\.", "", key)
                if name not in _KEY_TO_ACTION:
                    raise TextActionError(f"unknown key {key!r} in {text!r}")
                action[_KEY_TO_ACTION[name]] = 1
    action["camera"] = [dy * CAMERA_SCALE, dx * CAMERA_SCALE]
    return action


def parse_text_actions(text: str) -> list[dict]:
    """A chunk of several ticks (`Action: ... Action: ...`) -> one action dict per tick."""
    return [parse_text_action("Action:" + p) for p in text.split("Action:")[1:]]


class TextParams(Params):
    mode: Mode = "reserved"  # the released OpenHA data is reserved (section 4)


class TextLabeler(Labeler[TextParams]):
    """OpenHA's `Action:` string per tick, reserved (default) or compact."""

    space = "text"
    version = "2"  # 2: mouse units rounded as OpenHA (3 decimals)
    Params = TextParams
    fields = (pa.field("text_action", pa.string()),)
    chart = Chart("share of ticks whose Action line has each part", bars=10)

    def label(self, episode: Episode, frames: FrameReader | None = None) -> pl.DataFrame:
        return text_actions(as_frame(episode.ticks), self.params.mode).to_frame()

    def output(self, labels: pl.DataFrame) -> pl.DataFrame:
        return labels.select(text="text_action")

    def stats(self, episode: Episode, labels: pl.DataFrame) -> dict[str, int]:
        """Ticks whose line has a part that does something: `move(0, 0)` and `press()`, which
        reserved mode writes on every tick, do not count."""
        text = pl.col("text_action")
        has = {
            "move(": text.str.contains("move(", literal=True)
            & ~text.str.contains("move(0, 0)", literal=True),
            "press(": text.str.contains(r"press\([^)]"),
            "click(left)": text.str.contains("click(left)", literal=True),
            "click(right)": text.str.contains("click(right)", literal=True),
            "no_op": text == NO_OP[self.params.mode],
        }
        return {
            part: int(n)
            for part, n in labels.select(**{p: e.sum() for p, e in has.items()})
            .row(0, named=True)
            .items()
        }
