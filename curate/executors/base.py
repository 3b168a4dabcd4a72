"""The executor contract: run one step over many tasks, each at most once per build.

A task owns a work folder under the build's staging root and names its inputs relative to storage
roots, so a worker on another machine resolves them from its own mounts; the step writes its
outputs into the work folder and returns a small typed result (a pydantic model). The base class
writes that result as the task's completion marker, last, so a relaunch after a crash reads the
markers and runs only the tasks without one (as datatrove does). An executor says only how tasks
run: in this process, in a process pool, on a cluster.
"""

from __future__ import annotations

import hashlib
import platform
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Protocol, TypeVar

from pydantic import BaseModel

MARKER = "done.json"
# Libraries whose versions shape a release's bytes (parquet, Arrow casts, JPEG, decoded frames);
# OpenCV is named by the version it reports, as imported.
LIBRARIES = ("pyarrow", "polars", "numpy", "pillow", "av", "datasets")


class Task(Protocol):
    @property
    def work(self) -> Path:
        """The task's own output folder; its marker goes there."""
        ...


T = TypeVar("T", bound=Task)
R = TypeVar("R", bound=BaseModel)
H = TypeVar("H")  # an executor's handle of a running task (a future, an object ref)


class BuildError(RuntimeError):
    """A build that cannot go on for a reason outside any one recording (a worker died)."""


def run_marked(step: Callable[[T], BaseModel], task: T) -> str:
    """Run one task and mark it done; the marker is written last, so a crash leaves none.

    Returns the marker's text, so a fresh result and one read back on resume are the same."""
    text = step(task).model_dump_json()
    task.work.mkdir(parents=True, exist_ok=True)
    partial_marker = task.work / (MARKER + ".partial")
    partial_marker.write_text(text)
    partial_marker.replace(task.work / MARKER)
    return text


def in_flight(
    tasks: Sequence[T], limit: int, submit: Callable[[T], H], first_done: Callable[[list[H]], H]
) -> Iterator[tuple[int, H]]:
    """Submit tasks keeping at most `limit` in flight; yield (index, handle) as each finishes."""
    pending: dict[H, int] = {}
    queued = iter(enumerate(tasks))
    while True:
        for i, task in queued:
            pending[submit(task)] = i
            if len(pending) >= limit:
                break
        if not pending:
            return
        done = first_done(list(pending))
        yield pending.pop(done), done


def library_versions() -> dict[str, str]:
    """The versions of the libraries that write a release's bytes, on this machine."""
    import cv2

    return {name: package_version(name) for name in LIBRARIES} | {"opencv": cv2.__version__}


def runtime() -> dict[str, str]:
    """What a worker must share with the driver for its parts to be the driver's bytes: Python,
    curate (its version and the hash of its source files, so an edited checkout on one node is
    caught) and the libraries."""
    package = Path(__file__).parents[1]
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return {
        "python": platform.python_version(),
        "curate": package_version("curate"),
        "curate source": digest.hexdigest()[:16],
    } | library_versions()


class Executor(ABC):
    """Runs `step` over tasks, skipping those a marker says are finished; a few tasks per
    worker are in flight at most, so memory follows the work in flight, not the number of
    tasks."""

    name: str

    def __init__(self, workers: int = 1) -> None:
        self.workers = workers

    def run(
        self,
        step: Callable[[T], R],
        tasks: Sequence[T],
        result: type[R],
        on_done: Callable[[R, bool], None] | None = None,
    ) -> list[R]:
        """Results of `step` over `tasks`, in task order; `on_done(result, resumed)` sees each as
        it finishes (`resumed`: read from the marker of an earlier run)."""
        results = [self.finished(task, result) for task in tasks]
        todo = [i for i, r in enumerate(results) if r is None]
        for r in results:
            if r is not None and on_done:
                on_done(r, True)
        marked = partial(run_marked, step)
        for j, text in self.execute(marked, [tasks[i] for i in todo]):
            done = results[todo[j]] = result.model_validate_json(text)
            if on_done:
                on_done(done, False)
        return results  # type: ignore[return-value]  # every None was replaced

    @staticmethod
    def finished(task: Task, result: type[R]) -> R | None:
        """The recorded result of a task finished by an earlier run, else None."""
        marker = task.work / MARKER
        return result.model_validate_json(marker.read_text()) if marker.exists() else None

    @abstractmethod
    def execute(self, fn: Callable[[T], str], tasks: Sequence[T]) -> Iterator[tuple[int, str]]:
        """Run `fn` on every task; yield (index in `tasks`, what it returned) as each finishes."""
