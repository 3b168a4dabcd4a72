"""OpenAI VPT contractor recordings: `<id>.jsonl` (+ `<id>.mp4`) -> canonical episode.

The jsonl parse is the hot path of action-only builds (a realistic hour is ~125 MB, mostly
`stats` and `inventory`), so lines are decoded by msgspec into typed structs that skip every field
curate does not use, or, once numba pays for itself, scanned straight into columns by
`curate.readers.scan`; the conversion rules of ACTION_SPACES.md section 2 run as numpy
operations over whole columns.
"""

from __future__ import annotations

import gc
import mmap
from contextlib import contextmanager
from itertools import chain
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import msgspec
import numpy as np
import pyarrow as pa
from msgspec.structs import astuple

from curate.contract import (
    BINARY_ACTIONS,
    CAMERA_SCALE,
    FRAME_HEIGHT,
    KEY_TO_ACTION,
    MOUSE_BUTTON_TO_ACTION,
    SCREEN_HEIGHT,
)
from curate.episode import Episode
from curate.readers import RecordingError, episode_id_of
from curate.readers.stats import events_from_counts, stats_events

if TYPE_CHECKING:
    from curate.readers.scan import ScannedLines

# The numba scan of `curate.readers.scan` decodes ~5x faster than msgspec and its per-line
# objects (an hour: ~0.1 s against ~0.5 s), but its first use in a process costs ~0.5 s (importing
# numba, which imports scipy, and loading the cached kernel), as much as msgspec spends on
# ~100 MB; a per-file size threshold cannot make that pay for a process that reads one small
# file. So, as in ski rental, msgspec decodes until the bytes read in this process, the current
# file included, reach SCAN_AFTER_BYTES; from then on every file is scanned. Reading one small
# file never loads numba, one hour-long file pays about what it saves, and a build pays the cost
# once, at most about twice what knowing the future would.
SCAN_AFTER_BYTES = 64 << 20
_bytes_read = 0


class _Mouse(msgspec.Struct, gc=False):
    x: float | None = None
    y: float | None = None
    dx: float = 0.0
    dy: float = 0.0
    buttons: list[int] = []
    newButtons: list[int] = []  # noqa: N815 (the recorder's field name)


class _Keyboard(msgspec.Struct, gc=False):
    keys: list[str] = []


class _LineBase(msgspec.Struct, gc=False):
    """One jsonl line; fields older recorders omit have defaults, unknown fields are skipped."""

    mouse: _Mouse  # required: a JSON line without them is not a VPT recording
    keyboard: _Keyboard
    isGuiOpen: bool = False  # noqa: N815
    hotbar: int = 0
    yaw: float | None = None
    pitch: float | None = None
    xpos: float | None = None
    ypos: float | None = None
    zpos: float | None = None


class _Line(_LineBase, gc=False):
    stats: dict[str, float] = {}


class _LastStats(msgspec.Struct):
    stats: dict[str, int] = {}


def _typed_decoder(keys: list[str]) -> msgspec.json.Decoder:
    """A decoder whose `stats` is a struct of exactly `keys` (0 when absent), so no line builds a
    dict; a counter outside `keys` or a non-integer count fails the decode."""
    names = [f"c{i}" for i in range(len(keys))]
    stats = msgspec.defstruct(
        "Stats",
        [(name, int, 0) for name in names],
        rename=dict(zip(names, keys, strict=True)),
        forbid_unknown_fields=True,
        gc=False,
    )
    line = msgspec.defstruct(
        "TypedLine",
        [("stats", stats, msgspec.field(default_factory=stats))],
        bases=(_LineBase,),
        gc=False,
    )
    return msgspec.json.Decoder(line)


_DECODER = msgspec.json.Decoder(_Line)
_COLUMN = {name: i for i, name in enumerate(BINARY_ACTIONS)}
_KEY_COLUMN = {key: _COLUMN[action] for key, action in KEY_TO_ACTION.items()}
_BUTTON_COLUMN = {b: _COLUMN[action] for b, action in MOUSE_BUTTON_TO_ACTION.items()}
_ATTACK = _COLUMN["attack"]
_HOTBAR1 = _COLUMN["hotbar.1"]


def _last_line(data: bytes) -> bytes:
    """The last non-blank line, found from the end without copying the rest of the file."""
    end = len(data)
    while end > 0:
        start = data.rfind(b"\n", 0, end) + 1
        if data[start:end].strip():
            return data[start:end]
        end = start - 1
    return b"{}"


@contextmanager
def _gc_paused():
    """Decoding allocates millions of small objects that hold no cycles; the cyclic collector
    would otherwise rescan them over and over (it tripled the decode time of an hour)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def decode_lines(path: Path) -> tuple[list[_LineBase] | ScannedLines, pa.ListArray]:
    """All non-blank lines of a VPT jsonl in file order (line order is tick order), and the
    events of each line.

    Once the process has read SCAN_AFTER_BYTES, files are first scanned into columns by
    `curate.readers.scan`, which declines anything but plain well-formed lines (the result is the
    same either way). The msgspec path takes the counter names from the last line (stats are
    cumulative, so it lists every counter the recording ever had) and decodes `stats` into a typed
    struct; when that does not hold, every line's stats are decoded as a dict.
    """
    with _mapped(path) as data, _gc_paused():
        return _decode_mapped(path, data)


@contextmanager
def _mapped(path: Path):
    """The file's bytes, memory-mapped: the decoder reads the page cache without a copy."""
    try:
        with path.open("rb") as f:
            if f.seek(0, 2) == 0:
                yield b""
                return
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
                yield data
    except OSError as exc:
        raise RecordingError(path, f"cannot read: {exc.strerror}") from exc


def _decode_mapped(path: Path, data) -> tuple[list[_LineBase] | ScannedLines, pa.ListArray]:
    """The scan once it pays (see SCAN_AFTER_BYTES) and accepts the bytes, else msgspec."""
    global _bytes_read
    _bytes_read += len(data)
    if _bytes_read >= SCAN_AFTER_BYTES:
        from curate.readers.scan import scan_vpt

        scanned = scan_vpt(data)
        if scanned is not None:
            return scanned
    return _decode_msgspec(path, data)


def _decode_msgspec(path: Path, data) -> tuple[list[_LineBase], pa.ListArray]:
    """The typed path, else the dict path, else an error naming the first bad line."""
    try:
        keys = list(msgspec.json.decode(_last_line(data), type=_LastStats).stats)
        lines = _typed_decoder(keys).decode_lines(data)
        counts = np.fromiter(
            chain.from_iterable(map(astuple, map(attrgetter("stats"), lines))),
            np.int64,
            len(lines) * len(keys),
        ).reshape(len(lines), len(keys))
        return lines, events_from_counts(keys, counts)
    except msgspec.DecodeError:
        pass
    try:
        lines = _DECODER.decode_lines(data)
        return lines, stats_events([line.stats for line in lines])
    except msgspec.DecodeError:
        pass
    # Both paths failed: find the first bad line so the error says which one to fix.
    for number, raw in enumerate(data[:].split(b"\n"), start=1):
        if raw.strip():
            try:
                _DECODER.decode(raw)
            except msgspec.DecodeError as exc:
                raise RecordingError(path, f"bad VPT jsonl line: {exc}", line=number) from None
    raise RecordingError(path, "bad VPT jsonl")  # pragma: no cover - decode_lines and decode agree


def _flags(lists: tuple[list, ...], column_of: dict) -> np.ndarray:
    """An (n, len(BINARY_ACTIONS)) 0/1 matrix from per-line lists of keys or buttons.

    Players hold few distinct combinations, so each distinct one is mapped once and gathered.
    """
    combos = list(map(tuple, lists))
    rows = {combo: i for i, combo in enumerate(dict.fromkeys(combos))}
    table = np.zeros((len(rows), len(BINARY_ACTIONS)), np.uint8)
    for combo, row in rows.items():
        for value in combo:
            if value in column_of:
                table[row, column_of[value]] = 1
    return table[np.fromiter(map(rows.__getitem__, combos), np.int64, len(combos))]


def _floats(values: tuple) -> np.ndarray:
    """Optional floats as float64, None as NaN (pyarrow converts the tuple in C)."""
    return pa.array(values, pa.float64()).to_numpy(zero_copy_only=False)


class _Columns(NamedTuple):
    """What the conversion rules read of each line, whichever decoder produced the lines."""

    binaries: np.ndarray  # (n, len(BINARY_ACTIONS)) uint8: the keys held and mouse buttons down
    stuck: int  # how many leading ticks lose button 0 to the attack-stuck rule
    hotbar: np.ndarray  # int64
    gui: np.ndarray  # bool
    floats: dict[str, np.ndarray]  # dx dy x y yaw pitch xpos ypos zpos, NaN where None


def _struct_columns(lines: list[_LineBase]) -> _Columns:
    """Lines are transposed into columns with C-level map/zip over `astuple`, so no Python code
    runs per line."""
    n = len(lines)
    fields = type(lines[0]).__struct_fields__
    line_cols = dict(zip(fields, zip(*map(astuple, lines), strict=True), strict=True))
    mouse = dict(
        zip(
            _Mouse.__struct_fields__,
            zip(*map(astuple, line_cols["mouse"]), strict=True),
            strict=True,
        )
    )
    binaries = _flags(tuple(map(attrgetter("keys"), line_cols["keyboard"])), _KEY_COLUMN)
    binaries |= _flags(mouse["buttons"], _BUTTON_COLUMN)
    new_buttons = mouse["newButtons"]
    stuck = 0
    if new_buttons[0] == [0]:
        stuck = next((i for i in range(1, n) if 0 in new_buttons[i]), n)
    floats = {
        "dx": np.array(mouse["dx"], np.float64),
        "dy": np.array(mouse["dy"], np.float64),
        "x": _floats(mouse["x"]),
        "y": _floats(mouse["y"]),
        **{name: _floats(line_cols[name]) for name in ("yaw", "pitch", "xpos", "ypos", "zpos")},
    }
    hotbar = np.array(line_cols["hotbar"], np.int64)
    return _Columns(binaries, stuck, hotbar, np.array(line_cols["isGuiOpen"], bool), floats)


def tick_table(lines: list[_LineBase] | ScannedLines, events: pa.ListArray) -> pa.Table:
    """The canonical tick table of decoded lines, by the conversion rules of VPT's loader.

    The rules run as numpy operations on whole columns.
    """
    n = len(lines)
    if isinstance(lines, list):
        binaries, stuck, hotbar, gui, floats = _struct_columns(lines)
    else:
        binaries, stuck, hotbar, gui, floats = lines.columns()
    # Attack stuck: a recording that starts with the attack button freshly down has it stuck until
    # the next press of button 0; that line keeps it, every line before it loses it.
    binaries[:stuck, _ATTACK] = 0

    # Hotbar scroll: a change of the selected slot without a key is a hotbar action too; the slot
    # before the first line counts as 0.
    previous = np.concatenate(([0], hotbar[:-1]))
    changed = np.flatnonzero((hotbar != previous) & (hotbar >= 0) & (hotbar <= 8))
    binaries[changed, _HOTBAR1 + hotbar[changed]] = 1

    pitch = floats["dy"] * CAMERA_SCALE
    yaw = floats["dx"] * CAMERA_SCALE
    # The cursor exists only while a GUI is open (frame pixels = screen pixels * 360 / 720).
    cursor = {
        axis: pa.array(
            values * (FRAME_HEIGHT / SCREEN_HEIGHT), pa.float32(), mask=~gui | np.isnan(values)
        )
        for axis, values in (("cursor_x", floats["x"]), ("cursor_y", floats["y"]))
    }
    return pa.table(
        {
            "tick": pa.array(np.arange(n, dtype=np.int32)),
            **{name: pa.array(binaries[:, i]) for i, name in enumerate(BINARY_ACTIONS)},
            "camera_pitch": pa.array(pitch),
            "camera_yaw": pa.array(yaw),
            "null": pa.array(~binaries.any(axis=1) & (pitch == 0) & (yaw == 0)),
            "gui_open": pa.array(gui),
            **cursor,
            "hotbar": pa.array(hotbar.astype(np.int8)),
            **{
                col: pa.array(floats[field], mask=np.isnan(floats[field]))
                for col, field in (
                    ("x", "xpos"),
                    ("y", "ypos"),
                    ("z", "zpos"),
                    ("yaw", "yaw"),
                    ("pitch", "pitch"),
                )
            },
            "events": events,
        }
    )


def read_vpt(path: Path | str) -> Episode:
    """Read one VPT recording; its `.mp4` beside it, when present, supplies the frames (decoded
    only when a step asks for them).

    Frame count and line count must agree: a difference of at most 2 is trimmed from the end of the
    longer one with a warning, a larger one is a `RecordingError` (ACTION_SPACES.md section 2a).
    The check runs whenever the video is there, so an episode has the same ticks whatever is
    asked of it; action-only work on a lone `.jsonl` needs no video.
    """
    path = Path(path)
    lines, events = decode_lines(path)
    if not lines:
        raise RecordingError(path, "no ticks: the recording has no non-blank line")
    warnings: list[str] = []
    frames = None
    video = path.with_suffix(".mp4")
    if video.exists():
        from curate.readers.video import align_frames

        n_ticks, frames, note = align_frames(video, len(lines))
        if note:
            warnings.append(note)
        lines, events = lines[:n_ticks], events[:n_ticks]
    with _gc_paused():
        ticks = tick_table(lines, events)
    return Episode(episode_id_of(path), "vpt", ticks, frames, tuple(warnings))
