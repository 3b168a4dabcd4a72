"""Grounding labeler: accuracy against the world's truth, and speed beside decoding.

Records curate's world (`curate synth`: default random tasks, plus crafting episodes for GUI
clicks; kept under bench/_work/grounding), labels every recording with and without image
refinement, and compares each labelled tick of a stretch (ACTION_SPACES.md section 6) with
`truth.json`, whose `px` is the centre of what is seen of the next interaction's target:

- recall: the share of ticks with a truth point that get a point;
- false points: the share of emitted points whose tick has no truth point;
- pixel error (on 640x360, the published 0..999 point mapped back as OpenHA's executor does):
  median and 90th percentile, by distance in ticks from the event; GUI slot points apart.

Speed: in the one pass that decodes the frames the labeler asks for and hands them to it, the
time in the labeler (choosing the frames, refining as they arrive, writing the labels) and the
rest (the decode: PyAV decodes every frame up to the last one asked for).

    python bench/bench_grounding.py [--episodes 6] [--seconds 60] [--seed 100]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np

from curate.labelers.grounding import GroundingLabeler, GroundingParams, interactions, stretches
from curate.readers import read_episode
from curate.readers.video import read_frames
from curate.world.record import synthesize

WORK = Path(__file__).parent / "_work" / "grounding"
BINS = ((0, 0), (1, 5), (6, 10), (11, 20), (21, 40))
GOAL_TICKS = 20  # the goals hold within this many ticks before an event
CRAFTING = ["craft_item:wooden_pickaxe", "kill_entity:pig", "mine_block:oak_log"]


def recordings(episodes: int, seconds: float, seed: int) -> list[Path]:
    """Default-task recordings and half as many crafting ones, generated once."""
    out = []
    for name, tasks, count, k in (("random", None, episodes, seed), ("crafting", CRAFTING,
                                   max(1, episodes // 2), seed + 1)):  # fmt: skip
        folder = WORK / f"{name}-{k}-{count}x{seconds:g}"
        if not (folder / "done").exists():
            synthesize(folder, count, seconds, k, tasks=tasks)
            (folder / "done").touch()
        out += sorted(folder.glob("*.jsonl"))
    return out


def pixel(point: list[int]) -> tuple[int, int]:
    """A published 0..999 point back on the 640x360 frame, as OpenHA's executor maps it."""
    return math.ceil(point[0] * 640 / 1000), math.ceil(point[1] * 360 / 1000)


def compare(
    jsonl: Path, refine: bool, rows: list[tuple[int, bool, float | None, bool]]
) -> tuple[float, float]:
    """Label one recording; append (distance, gui, error or None, truth has a point) for every
    labelled tick within the bins; return the labeler's own seconds and the decode's, both
    measured in the one pass that decodes the frames and hands them to the labeler."""
    episode = read_episode(jsonl)
    truth = json.loads(jsonl.with_suffix("").with_suffix(".truth.json").read_text())["ticks"]
    labeler = GroundingLabeler(GroundingParams(refine=refine))
    own = decode = 0.0
    start = time.perf_counter()
    reader = labeler.frame_reader(episode)
    own += time.perf_counter() - start
    if reader is not None and episode.frames is not None:
        take = reader.take

        def timed(tick: int, frame: np.ndarray) -> None:
            nonlocal own
            began = time.perf_counter()
            take(tick, frame)
            own += time.perf_counter() - began

        reader.take = timed  # type: ignore[method-assign]
        began, before = time.perf_counter(), own
        read_frames(episode.frames, [reader])
        decode = time.perf_counter() - began - (own - before)
    start = time.perf_counter()
    labels = labeler.label(episode, reader)
    own += time.perf_counter() - start
    spans = stretches(episode.ticks, interactions(episode.ticks), labeler.params.horizon)
    points = labels["grounding_point"].to_list()
    for span in spans:
        for tick in range(span.start, span.target.tick + 1):
            distance = span.target.tick - tick
            if distance > BINS[-1][1]:
                continue
            want, got = truth[tick]["px"], points[tick]
            error = None
            if want is not None and got is not None:
                x, y = pixel(got)
                error = float(np.hypot(x - want[0], y - want[1]))
            rows.append((distance, span.target.gui, error if got else None, want is not None))
            if got is not None and want is None:
                rows[-1] = (distance, span.target.gui, math.inf, False)  # a false point
    return own, decode


def report(rows: list[tuple[int, bool, float | None, bool]], title: str) -> None:
    print(f"\n{title}")
    print(f"{'ticks before event':>20} {'truth pts':>9} {'recall':>7} {'false':>7} "
          f"{'median px':>9} {'p90 px':>7}")  # fmt: skip
    for lo, hi in (*BINS, (0, GOAL_TICKS)):
        world = [r for r in rows if lo <= r[0] <= hi and not r[1]]
        with_truth = [r for r in world if r[3]]
        emitted = [r for r in world if r[2] is not None]
        found = [r[2] for r in with_truth if r[2] is not None]
        name = f"{lo}-{hi}" if lo != hi else f"{lo}"
        if hi == GOAL_TICKS and lo == 0:
            name = f"all within {GOAL_TICKS}"
        recall = len(found) / max(1, len(with_truth))
        false = sum(r[2] == math.inf for r in emitted) / max(1, len(emitted))
        med = np.median(found) if found else math.nan
        p90 = np.percentile(found, 90) if found else math.nan
        print(f"{name:>20} {len(with_truth):>9} {recall:>7.1%} {false:>7.1%} {med:>9.1f} "
              f"{p90:>7.1f}")  # fmt: skip
    gui = [r[2] for r in rows if r[1] and r[2] is not None and r[3]]
    if gui:
        print(f"{'GUI slot points':>20} {len(gui):>9}   max error {max(gui):.1f} px, "
              f"median {np.median(gui):.1f} px")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=100)
    args = parser.parse_args()
    paths = recordings(args.episodes, args.seconds, args.seed)
    print(f"{len(paths)} recordings of {args.seconds:g} s (seed {args.seed}; crafting: seed "
          f"{args.seed + 1})")  # fmt: skip
    timing = {}
    for refine in (False, True):
        rows: list[tuple[int, bool, float | None, bool]] = []
        spent = [compare(p, refine, rows) for p in paths]
        timing[refine] = (sum(own for own, _ in spent), sum(d for _, d in spent))
        report(rows, f"{'with' if refine else 'without'} image refinement")
    own, decode = timing[True]
    print(f"\nspeed, with refinement: decoding the frames it reads {decode:.2f} s; the labeler's "
          f"own time {own:.2f} s, {own / decode:.2f}x the decode (geometry alone: "
          f"{timing[False][0]:.2f} s, no frames)")  # fmt: skip


if __name__ == "__main__":
    main()
