"""The local executor: a process pool over episode tasks, with completion markers.

Each task writes its outputs into its own folder and, last, a `done.json` marker holding its
result; a relaunch after a crash reads the markers and runs only the tasks without one.
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Protocol

MARKER = "done.json"


class Task(Protocol):
    work: Path  # the task's own output folder


def finished(task: Task) -> dict | None:
    """The recorded result of a task that completed in an earlier run, else None."""
    marker = task.work / MARKER
    return json.loads(marker.read_text()) if marker.exists() else None


def run_marked(step: Callable[[Task], dict], task: Task) -> dict:
    """Run one task and mark it done; the marker is written last, so a crash leaves none.

    The result returned is the marker's own JSON, so a fresh result and one read back on resume
    are the same value, key order included."""
    text = json.dumps(step(task), sort_keys=True)
    task.work.mkdir(parents=True, exist_ok=True)
    partial = task.work / (MARKER + ".partial")
    partial.write_text(text)
    partial.replace(task.work / MARKER)
    return json.loads(text)


def run_local(
    step: Callable[[Task], dict],
    tasks: Sequence[Task],
    *,
    workers: int = 1,
    on_done: Callable[[dict], None] | None = None,
) -> list[dict]:
    """Results of `step` over `tasks`, in task order; finished tasks are not run again."""
    results: list[dict | None] = [finished(t) for t in tasks]
    todo = [i for i, r in enumerate(results) if r is None]
    for r in results:
        if r is not None and on_done:
            on_done(r)
    if workers <= 1 or len(todo) <= 1:
        for i in todo:
            results[i] = run_marked(step, tasks[i])
            if on_done:
                on_done(results[i])
    else:
        # spawn, not fork: the parent may hold polars/arrow thread pools that fork would copy
        # in a locked state.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            futures = {pool.submit(run_marked, step, tasks[i]): i for i in todo}
            try:
                for future in as_completed(futures):
                    results[futures[future]] = future.result()
                    if on_done:
                        on_done(results[futures[future]])
            except BrokenProcessPool:
                raise RuntimeError(
                    "a worker process died (out of memory, or a crash in a native library); "
                    "run the same command again to resume, with fewer --workers if memory is short"
                ) from None
    return results  # type: ignore[return-value]
