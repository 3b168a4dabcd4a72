"""The GUI as the frames show it. Minecraft's screens (and the world's) draw a flat grey panel
over the middle of the view, easy to see; a recorder's GUI flag may change a tick before or after
the frames do (MineStudio's `is_gui_open` turns true one step before the frame shows the screen).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyarrow as pa

from curate.episode import Episode

GUI_MARGIN = 3  # ticks looked at on each side of a recorded GUI change
GUI_CHANGES = 20  # at most this many changes are looked at
PANEL = 198  # the grey of the panels, in every channel
PANEL_TOLERANCE = 8  # video compression moves it a little
PANEL_SHARE = 0.1  # a screen covers at least this share of the view's middle with its grey


def gui_drawn(frame: np.ndarray) -> bool:
    """Whether a frame shows a GUI screen."""
    h, w = frame.shape[:2]
    middle = frame[h // 4 : h - h // 4, w // 4 : w - w // 4].astype(np.int16)
    grey = (np.abs(middle - PANEL) <= PANEL_TOLERANCE).all(axis=2)
    return bool(grey.mean() >= PANEL_SHARE)


def around_gui_changes(ticks: pa.Table) -> list[int]:
    """The ticks within GUI_MARGIN of the first GUI_CHANGES recorded GUI changes."""
    gui = np.asarray(ticks.column("gui_open"), dtype=bool)
    near: set[int] = set()
    for change in np.flatnonzero(gui[1:] != gui[:-1])[:GUI_CHANGES] + 1:
        near.update(range(max(change - GUI_MARGIN, 0), min(change + GUI_MARGIN + 1, len(gui))))
    return sorted(near)


def gui_lag(recorded: np.ndarray, drawn: dict[int, bool]) -> int | None:
    """Ticks by which the frames show a GUI change after the recorded one (0: the same tick),
    judged around the recorded changes; None without one among the frames seen."""
    n = len(recorded)
    changes = np.flatnonzero(recorded[1:] != recorded[:-1]) + 1
    near = {t for c in changes for t in range(c - GUI_MARGIN, c + GUI_MARGIN + 1)} & set(drawn)
    if not near:
        return None

    def agreement(lag: int) -> float:
        pairs = [(drawn[t], recorded[t - lag]) for t in near if 0 <= t - lag < n]
        return sum(a == b for a, b in pairs) / len(pairs) if pairs else 0.0

    return max(range(-GUI_MARGIN, GUI_MARGIN + 1), key=lambda k: (agreement(k), -abs(k)))


def as_drawn(episode: Episode, drawn: dict[int, bool]) -> tuple[Episode, int]:
    """The episode with `gui_open` set to what the frames show where they disagree (MineStudio
    sources, whose flag runs a step early), and how many ticks that changed."""
    gui = np.asarray(episode.ticks.column("gui_open"), dtype=bool).copy()
    changed = [t for t, shown in drawn.items() if gui[t] != shown]
    if not changed:
        return episode, 0
    gui[changed] = [drawn[t] for t in changed]
    index = episode.ticks.schema.get_field_index("gui_open")
    ticks = episode.ticks.set_column(index, "gui_open", pa.array(gui))
    return replace(episode, ticks=ticks), len(changed)
