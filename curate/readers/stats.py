"""Events from cumulative `stats` counters, shared by every reader.

An event is a positive delta of a counter between two consecutive lines; a counter absent from a
line counts as 0 and tick 0 has no events (its stats are the baseline). ACTION_SPACES.md section 8.
Counters that grow on almost every tick (`custom:play_time`, `custom:walk_one_cm`) are not events:
they would fill every tick's `events` with noise.
Deltas are computed on a (ticks x counters) matrix, never counter by counter in Python.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import chain

import numpy as np
import pyarrow as pa

from curate.contract import PER_TICK_COUNTER_SUFFIXES

EVENTS_TYPE = pa.list_(pa.string())


def event_name(key: str) -> str:
    """`minecraft.mine_block:minecraft.oak_log` -> `mine_block:oak_log`."""
    return key.replace("minecraft.", "")


def is_per_tick_counter(event: str) -> bool:
    """A `custom` counter of time or distance, which grows on almost every tick.

    >>> is_per_tick_counter("custom:play_time"), is_per_tick_counter("custom:jump")
    (True, False)
    """
    return event.startswith("custom:") and event.endswith(PER_TICK_COUNTER_SUFFIXES)


def flatten_stats(stats: Mapping) -> dict[str, float]:
    """Flat `family:object` counters, whether the source writes them flat or nested by family."""
    flat: dict[str, float] = {}
    for key, value in stats.items():
        if isinstance(value, Mapping):
            for obj, count in value.items():
                flat[f"{key}:{obj}"] = count
        else:
            flat[key] = value
    return flat


def events_from_counts(keys: Sequence[str], counts: np.ndarray) -> pa.ListArray:
    """Each tick's positive deltas as sorted event names; `counts` is (ticks, len(keys))."""
    names = np.array([event_name(k) for k in keys], dtype=object)
    order = np.argsort(names, kind="stable")
    order = order[[not is_per_tick_counter(name) for name in names[order]]]
    up = np.zeros((counts.shape[0], len(order)), bool)
    up[1:] = counts[1:, order] > counts[:-1, order]
    rows, cols = np.nonzero(up)  # row-major, so each tick's events come out in name order
    per_tick = np.bincount(rows, minlength=counts.shape[0])
    offsets = np.concatenate(([0], np.cumsum(per_tick))).astype(np.int32)
    values = pa.array(names[order].tolist(), pa.string()).take(pa.array(cols, pa.int64()))
    return pa.ListArray.from_arrays(pa.array(offsets), values, type=EVENTS_TYPE)


def stats_events(stats: Sequence[Mapping[str, float]]) -> pa.ListArray:
    """Events of a sequence of flat stats dicts (one per tick)."""
    keys = list(dict.fromkeys(chain.from_iterable(stats)))
    counts = np.array([[s.get(k, 0) for k in keys] for s in stats], np.float64)
    return events_from_counts(keys, counts.reshape(len(stats), len(keys)))
