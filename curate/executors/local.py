"""The local executor: this process for one worker, else a pool of spawned processes."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from curate.executors.base import BuildError, Executor, T, in_flight


class LocalExecutor(Executor):
    name = "local"

    def execute(self, fn: Callable[[T], str], tasks: Sequence[T]) -> Iterator[tuple[int, str]]:
        if self.workers <= 1 or len(tasks) <= 1:
            for i, task in enumerate(tasks):
                yield i, fn(task)
            return
        # spawn, not fork: the parent may hold polars/arrow thread pools that fork would copy
        # in a locked state.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(self.workers, mp_context=context) as pool:
            try:
                # one task queued behind each busy worker, so none waits for the driver
                for i, future in in_flight(
                    tasks, 2 * self.workers, lambda task: pool.submit(fn, task), _first_done
                ):
                    yield i, future.result()
            except BrokenProcessPool:
                raise BuildError(
                    "a worker process died (out of memory, or a crash in a native library); "
                    "run the same command again to resume, with fewer --workers if memory is short"
                ) from None


def _first_done(futures: list[Future[str]]) -> Future[str]:
    return next(iter(wait(futures, return_when=FIRST_COMPLETED).done))
