"""The local executor: results in task order, markers, resume, worker processes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from curate.executors.local import MARKER, run_local


@dataclass(frozen=True)
class Square:
    work: Path
    x: int


def square(task: Square) -> dict:
    return {"x": task.x, "y": task.x * task.x}


def test_results_in_task_order_with_markers(tmp_path):
    tasks = [Square(tmp_path / str(i), i) for i in range(5)]
    results = run_local(square, tasks, workers=2)
    assert [r["y"] for r in results] == [0, 1, 4, 9, 16]
    assert all((t.work / MARKER).exists() for t in tasks)


def test_finished_tasks_are_not_run_again(tmp_path):
    tasks = [Square(tmp_path / str(i), i) for i in range(3)]
    run_local(square, tasks[:2])
    ran = []
    results = run_local(lambda t: ran.append(t.x) or square(t), tasks)
    assert ran == [2] and [r["y"] for r in results] == [0, 1, 4]
