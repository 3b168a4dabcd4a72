"""The executor contract on the local executor: results in task order, markers, resume, worker
processes, a dead worker."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import BaseModel

from curate.executors import BuildError, make_executor
from curate.executors.base import MARKER


@dataclass(frozen=True)
class Square:
    work: Path
    x: int


class Squared(BaseModel):
    x: int
    y: int


def square(task: Square) -> Squared:
    return Squared(x=task.x, y=task.x * task.x)


def die(task: Square) -> Squared:
    os._exit(1)


def test_results_in_task_order_with_markers(tmp_path):
    tasks = [Square(tmp_path / str(i), i) for i in range(5)]
    seen: list[int] = []
    results = make_executor("local", workers=2).run(
        square, tasks, Squared, lambda r, _: seen.append(r.x)
    )
    assert [r.y for r in results] == [0, 1, 4, 9, 16] and sorted(seen) == [0, 1, 2, 3, 4]
    assert all((t.work / MARKER).exists() for t in tasks)


def test_finished_tasks_are_not_run_again(tmp_path):
    tasks = [Square(tmp_path / str(i), i) for i in range(3)]
    make_executor("local").run(square, tasks[:2], Squared)
    ran: list[int] = []

    def counted(task: Square) -> Squared:
        ran.append(task.x)
        return square(task)

    results = make_executor("local").run(counted, tasks, Squared)
    assert ran == [2] and [r.y for r in results] == [0, 1, 4]


def test_a_dead_worker_is_a_clear_error_and_leaves_no_marker(tmp_path):
    tasks = [Square(tmp_path / str(i), i) for i in range(2)]
    with pytest.raises(BuildError, match="run the same command again"):
        make_executor("local", workers=2).run(die, tasks, Squared)
    assert not any((t.work / MARKER).exists() for t in tasks)


def test_unknown_executor_names_the_ones_there_are():
    with pytest.raises(BuildError, match="this curate has: local"):
        make_executor("slurm")
