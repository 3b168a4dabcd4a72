"""How a long build says how far it is: stages with a count, drawn by whoever runs the build."""

from __future__ import annotations

from typing import Protocol


class Reporter(Protocol):
    """The CLI draws bars on a terminal and prints plain lines in a log."""

    def start(self, what: str, total: int | None) -> None: ...
    def update(self, done: int) -> None: ...


class Counter:
    """One stage on a Reporter, fed increments (`add`) or totals (`set`); a lazy one appears only
    once there is progress (a cached synth source shows none)."""

    def __init__(
        self, report: Reporter | None, what: str, total: int | None = None, lazy: bool = False
    ) -> None:
        self.report, self.what, self.total, self.done, self.started = report, what, total, 0, False
        if not lazy:
            self._start()

    def _start(self) -> None:
        if self.report and not self.started:
            self.report.start(self.what, self.total)
        self.started = True

    def add(self, n: int) -> None:
        self.set(self.done + n)

    def set(self, done: int) -> None:
        self._start()
        self.done = done
        if self.report:
            self.report.update(done)
