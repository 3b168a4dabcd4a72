"""Executors run a build's per-episode step: `local` (this machine) or `ray` (a Ray cluster)."""

from __future__ import annotations

from curate.executors.base import BuildError, Executor

__all__ = ["EXECUTORS", "BuildError", "Executor", "make_executor"]

EXECUTORS = ("local", "ray")


def make_executor(name: str, workers: int = 1, address: str | None = None) -> Executor:
    """The executor called `name`, with `workers` tasks at a time; `address` is a Ray cluster's
    (`HOST:PORT` or `auto`; none starts a Ray on this machine for the build)."""
    if name == "local":
        if address is not None:
            raise BuildError("--address names a Ray cluster: use it with --executor ray")
        from curate.executors.local import LocalExecutor

        return LocalExecutor(workers)
    if name == "ray":
        from curate.executors.ray import RayExecutor

        return RayExecutor(workers, address)
    raise BuildError(f"unknown executor {name!r}; this curate has: {', '.join(EXECUTORS)}")
