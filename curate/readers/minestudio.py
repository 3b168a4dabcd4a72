"""MineStudio rollout folders (`action.jsonl`, `info.jsonl`, `episode.jsonl`) -> canonical episode.

Line k of `action.jsonl` is the action applied at step k, and line k of `info.jsonl` and
`episode.jsonl` is the state after it (the reset frame is not recorded). So tick t pairs frame t and
info t with action t+1, the action taken while seeing frame t: N recorded steps give N-1 ticks
(ACTION_SPACES.md section 9). Pose, GUI state and hotbar are those of frame t; the events of tick t
are the stats deltas from info t to info t+1, the ones its own action caused, so that, as in VPT
recordings, an event sits on the tick whose action completed it and no recorded event is lost.
"""

from __future__ import annotations

from pathlib import Path

import msgspec
import numpy as np
import pyarrow as pa

from curate.contract import BINARY_ACTIONS, HOTBAR_ACTIONS
from curate.episode import Episode, FrameRef
from curate.readers import BAD_JSON, RecordingError, episode_id_of
from curate.readers.stats import flatten_stats, stats_events

FILES = ("action.jsonl", "info.jsonl", "episode.jsonl")


class _Location(msgspec.Struct):
    pitch: float | None = None
    yaw: float | None = None
    xpos: float | None = None
    ypos: float | None = None
    zpos: float | None = None


class _Info(msgspec.Struct):
    # counters flat (`mine_block:dirt`) or nested by family (`{"mine_block": {"dirt": 1}}`)
    stats: dict[str, float | dict[str, float]] = {}
    is_gui_open: bool = False
    location_stats: _Location = msgspec.field(default_factory=_Location)


def _action_struct() -> type:
    """One action line: every canonical binary (0/1 or true/false, 0 when absent) and camera
    [pitch, yaw]; unknown keys (`chat`, newer simulator fields) are skipped."""
    names = [f"b{i}" for i in range(len(BINARY_ACTIONS))]
    return msgspec.defstruct(
        "Action",
        [*((n, int | bool, 0) for n in names), ("camera", tuple[float, float], (0.0, 0.0))],
        rename=dict(zip(names, BINARY_ACTIONS, strict=True)),
    )


_ACTION: msgspec.json.Decoder = msgspec.json.Decoder(_action_struct())
_COL = {name: i for i, name in enumerate(BINARY_ACTIONS)}
_INFO = msgspec.json.Decoder(_Info)


def _decode(path: Path, decoder: msgspec.json.Decoder) -> list:
    lines = []
    for number, raw in enumerate(_read(path).split(b"\n"), start=1):
        if raw.strip():
            try:
                lines.append(decoder.decode(raw))
            except BAD_JSON as exc:
                raise RecordingError(path, f"bad MineStudio line: {exc}", number,
                                     code="bad_line") from None  # fmt: skip
    return lines


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise RecordingError(path, f"cannot read: {exc.strerror}", code="unreadable") from None


def read_minestudio(folder: Path | str) -> Episode:
    """Read one rollout folder into a canonical episode."""
    folder = Path(folder)
    missing = [name for name in FILES if not (folder / name).is_file()]
    if missing:
        raise RecordingError(folder, f"not a MineStudio rollout: missing {', '.join(missing)}",
                             code="missing_files")  # fmt: skip
    actions = _decode(folder / "action.jsonl", _ACTION)
    infos = _decode(folder / "info.jsonl", _INFO)
    n_frames = sum(1 for raw in _read(folder / "episode.jsonl").split(b"\n") if raw.strip())
    if not len(actions) == len(infos) == n_frames:
        raise RecordingError(
            folder,
            f"step counts differ: action.jsonl {len(actions)}, info.jsonl {len(infos)}, "
            f"episode.jsonl {n_frames}; each step needs one line in each file",
            code="length_mismatch",
        )
    if len(actions) < 2:
        raise RecordingError(folder, f"{len(actions)} recorded step(s) give no tick; need 2",
                             code="no_ticks")  # fmt: skip

    taken = actions[1:]  # action t+1 is taken while seeing frame t
    events = stats_events([flatten_stats(info.stats) for info in infos])[1:]
    infos = infos[:-1]
    n = len(taken)
    rows = [msgspec.structs.astuple(a) for a in taken]
    binaries = (np.array([r[:-1] for r in rows], np.int64) != 0).astype(np.uint8)
    camera = np.array([r[-1] for r in rows], np.float64).reshape(n, 2)
    location = [info.location_stats for info in infos]
    table = pa.table(
        {
            "tick": pa.array(np.arange(n, dtype=np.int32)),
            **{name: pa.array(binaries[:, i]) for i, name in enumerate(BINARY_ACTIONS)},
            "camera_pitch": pa.array(camera[:, 0]),
            "camera_yaw": pa.array(camera[:, 1]),
            "null": pa.array(~binaries.any(axis=1) & ~camera.any(axis=1)),
            "gui_open": pa.array([info.is_gui_open for info in infos]),
            "gui_inventory": pa.nulls(n, pa.bool_()),  # info does not say which GUI is open
            "cursor_x": pa.nulls(n, pa.float32()),  # info has no cursor position
            "cursor_y": pa.nulls(n, pa.float32()),
            "hotbar": pa.array(_hotbar(actions)[:n], pa.int8()),
            **{
                col: pa.array([getattr(loc, attr) for loc in location], pa.float64())
                for col, attr in (("x", "xpos"), ("y", "ypos"), ("z", "zpos"))
            },
            "yaw": pa.array([loc.yaw for loc in location], pa.float64()),
            "pitch": pa.array([loc.pitch for loc in location], pa.float64()),
            "events": events,
        }
    )
    frames = FrameRef("minestudio", folder / "episode.jsonl", n)
    return Episode(episode_id_of(folder), "minestudio", table, frames)


def _hotbar(actions: list) -> list[int]:
    """Selected slot after each step: the highest hotbar key of the step, else unchanged; from 0."""
    slot, slots = 0, []
    for action in actions:
        pressed = [i for i, name in enumerate(HOTBAR_ACTIONS) if getattr(action, f"b{_COL[name]}")]
        slot = pressed[-1] if pressed else slot
        slots.append(slot)
    return slots
