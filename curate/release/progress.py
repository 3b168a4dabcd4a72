"""How a long build says how far it is: stages with a count, drawn by whoever runs the build."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol


class Reporter(Protocol):
    """The CLI draws bars on a terminal and prints plain lines in a log."""

    def start(self, what: str, total: int | None) -> None: ...
    def update(self, done: int, note: str = "") -> None: ...


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

    def add(self, n: int, note: str = "") -> None:
        self.set(self.done + n, note)

    def set(self, done: int, note: str = "") -> None:
        self._start()
        self.done = done
        if self.report:
            self.report.update(done, note)


@dataclass
class Throughput:
    """What a run of a build did and how fast: the episodes it built, their ticks and decoded
    frames a second. Episodes resumed from an earlier run count apart: they cost nothing. Never
    written into a release (its bytes must not depend on how fast it was built)."""

    episodes: int = 0
    resumed: int = 0
    ticks: int = 0
    frames: int = 0
    start: float = field(default_factory=time.monotonic)
    end: float | None = None  # set when the episodes are all built

    def add(self, ticks: int, frames: int, resumed: bool) -> None:
        if resumed:
            self.resumed += 1
        else:
            self.episodes, self.ticks, self.frames = (
                self.episodes + 1, self.ticks + ticks, self.frames + frames
            )  # fmt: skip

    def stop(self) -> None:
        self.end = time.monotonic()

    @property
    def seconds(self) -> float:
        return (self.end or time.monotonic()) - self.start

    def rates(self) -> str:
        if not self.episodes and self.resumed:
            return f"all {self.resumed} resumed from an earlier run"
        s = max(self.seconds, 1e-9)
        resumed = f", {self.resumed} resumed" if self.resumed else ""
        return (
            f"{self.episodes / s:.2f} episodes/s, {self.ticks / s:,.0f} ticks/s, "
            f"{self.frames / s:,.0f} frames/s{resumed}"
        )
