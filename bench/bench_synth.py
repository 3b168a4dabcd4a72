"""How many times faster than real time `curate synth` writes a recording on one core.

Times one episode end to end (world generation, scripted play, rendering, H.264 encoding, jsonl
and truth.json) after a short warm-up that loads numba's compiled kernels, and compares it with
the episode's gameplay time at 20 frames per second. Run it pinned to one core:

    taskset -c 0 python bench/bench_synth.py --seconds 60
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from curate.contract import FPS
from curate.world.record import record_episode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="gameplay seconds to record")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    ticks = round(args.seconds * FPS)
    with tempfile.TemporaryDirectory() as tmp:
        record_episode(Path(tmp), "warmup", 10, (args.seed, 999))
        start = time.perf_counter()
        record_episode(Path(tmp), "bench", ticks, (args.seed, 0))
        elapsed = time.perf_counter() - start
    print(f"{ticks} frames ({args.seconds:g} s of gameplay) in {elapsed:.2f} s")
    print(f"{ticks / elapsed:.1f} frames/s = {args.seconds / elapsed:.2f}x real time")


if __name__ == "__main__":
    main()
