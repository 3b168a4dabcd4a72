"""What the label QA costs a build: the same `curate build` with the QA's frame sample and
without it (the baseline: `curate.qa.frames.sample_ticks` made to pick no tick, so nothing is
decoded or measured for the QA), side by side in one run, on 8 recordings of curate's world
(30 s each, 640x360, 4,800 frames):

- images: `ticks` and `text_action` at 320x180, one row every 4 ticks (the demo's images); the
  QA reuses the decoding pass the images need. Goal: under 10% of the build's time.
- action-only: `ticks` alone, where the QA alone decodes the video: all of these 30 s ones
  (its sample is 20 s of each, in windows too close to seek between).
- action-only, long: `ticks` of 2 recordings of 10 minutes (realistic VPT actions from
  bench_label.py, a cheap generated 640x360 video): the QA decodes its 4 windows of 5 s and
  seeks over the rest.

Each build is a whole process on one core (`taskset -c 1`), timed from its start to its exit,
median of 3, the two variants alternating.

    python bench/bench_qa.py
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / "_work" / "qa"
WORLD = WORK / "world"
RUNS = 3

BUILD = """
import sys
from curate.qa import frames
from curate.release.build import build
if sys.argv[3] == "off":
    frames.sample_ticks = lambda ticks: []
build(sys.argv[1], sys.argv[2])
"""

RECIPES = {
    "images": {"configs": ["ticks", "text_action"], "sources": [{"format": "vpt", "path": "world"}],
               "images": {"width": 320, "height": 180, "stride": 4, "quality": 85}},
    "action-only": {"configs": ["ticks"], "sources": [{"format": "vpt", "path": "world"}]},
    "action-only, long": {"configs": ["ticks"], "sources": [{"format": "vpt", "path": "long"}]},
}  # fmt: skip
LONG = 12_000  # ticks: 10 minutes


def recordings() -> None:
    if not (WORLD / "done").exists():
        from curate.world.record import synthesize

        shutil.rmtree(WORLD, ignore_errors=True)
        synthesize(WORLD, episodes=8, seconds=30, seed=11)
        (WORLD / "done").touch()
    long = WORK / "long"
    if not (long / "done").exists():
        sys.path.insert(0, str(HERE))
        from bench_build import hour_video
        from bench_label import generate

        long.mkdir(exist_ok=True)
        for k in range(2):
            generate(long / f"long-{k}.jsonl", LONG, seed=k)
            hour_video(long / f"long-{k}.mp4", LONG)
        (long / "done").touch()


def timed(recipe: Path, qa: str) -> float:
    out = WORK / f"out-{recipe.stem}-{qa}"
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(out.with_name(out.name + ".partial"), ignore_errors=True)
    start = time.perf_counter()
    subprocess.run(["taskset", "-c", "1", sys.executable, "-c", BUILD, str(recipe), str(out), qa],
                   check=True, capture_output=True)  # fmt: skip
    return time.perf_counter() - start


def main() -> None:
    recordings()
    for name, fields in RECIPES.items():
        recipe = WORK / f"{name.replace(', ', '-')}.yaml"
        recipe.write_text(json.dumps({"name": "qa", "version": "0.1.0", "validation": 0, **fields}))
        times: dict[str, list[float]] = {"on": [], "off": []}
        for _ in range(RUNS):
            for qa in ("off", "on"):
                times[qa].append(timed(recipe, qa))
        on, off = statistics.median(times["on"]), statistics.median(times["off"])
        print(f"{name}: build with QA {on:.1f} s, without {off:.1f} s (median of {RUNS}): "
              f"ratio {on / off:.3f}, the QA is {(on - off) / on:.1%} of the build")  # fmt: skip


if __name__ == "__main__":
    main()
