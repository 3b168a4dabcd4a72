"""Executors run a build's per-episode step: `local` (this machine) today, `ray` to come."""

from __future__ import annotations

from curate.executors.base import BuildError, Executor

__all__ = ["EXECUTORS", "BuildError", "Executor", "make_executor"]

EXECUTORS = ("local",)


def make_executor(name: str, workers: int = 1) -> Executor:
    """The executor called `name`, with `workers` tasks at a time."""
    if name == "local":
        from curate.executors.local import LocalExecutor

        return LocalExecutor(workers)
    raise BuildError(f"unknown executor {name!r}; this curate has: {', '.join(EXECUTORS)}")
