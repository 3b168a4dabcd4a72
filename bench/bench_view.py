"""What `curate view` costs beside its floor: decoding the recording's frames once, which any
viewer of the frames the labels belong to must do. Side by side in one run, on one recording of
curate's world (640x360, 20 fps; 60 s by default): the whole `curate view` (labelers, label QA,
H.264 encoding, the page) and a plain decode of every frame with curate's reader, each a process
of its own, timed from its start to its exit, with its peak memory; median of 3, alternating.

    python bench/bench_view.py [--seconds 60]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / "_work" / "view"
RUNS = 3
DECODE = """
import sys
from curate.readers import read_episode
from curate.readers.video import iter_frames
episode = read_episode(sys.argv[1])
print(sum(1 for _ in iter_frames(episode.frames)))
"""


def timed(command: list[str]) -> tuple[float, float]:
    """Seconds and peak memory (MB) of one process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    assert status == 0, command
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    raw = WORK / f"raw-{args.seconds:g}"
    if not raw.exists():
        subprocess.run([sys.executable, "-m", "curate.cli", "synth", str(raw), "--episodes", "1",
                        "--seconds", str(args.seconds), "--seed", "3"], check=True)  # fmt: skip
    (source,) = raw.glob("*.jsonl")
    page = WORK / "page.html"
    runs: dict[str, list[tuple[float, float]]] = {"view": [], "decode": []}
    for _ in range(RUNS):
        runs["decode"].append(timed([sys.executable, "-c", DECODE, str(source)]))
        runs["view"].append(
            timed([sys.executable, "-m", "curate.cli", "view", str(source), "--out", str(page)])
        )
    seconds = {k: statistics.median(s for s, _ in v) for k, v in runs.items()}
    memory = {k: max(m for _, m in v) for k, v in runs.items()}
    video = page.with_name(page.stem + ".view.mp4")
    size = page.stat().st_size + (video.stat().st_size if video.exists() else 0)
    print(f"{args.seconds:g} s of 640x360 gameplay, {int(args.seconds * 20)} frames; "
          f"median of {RUNS}")  # fmt: skip
    print(f"decode alone : {seconds['decode']:6.1f} s  {memory['decode']:6.0f} MB peak")
    print(f"curate view  : {seconds['view']:6.1f} s  {memory['view']:6.0f} MB peak  "
          f"(page and video {size / 1e6:.1f} MB; the recording's video "
          f"{source.with_suffix('.mp4').stat().st_size / 1e6:.1f} MB)")  # fmt: skip
    print(f"ratio        : {seconds['view'] / seconds['decode']:.1f}x the time, "
          f"{memory['view'] / memory['decode']:.1f}x the memory")  # fmt: skip


if __name__ == "__main__":
    main()
