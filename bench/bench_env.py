"""The world as an environment: steps per second beside the decoding of a recorded world clip.

A closed-loop evaluation plays thousands of steps, so the environment should be no slower than
reading the same frames back from video. In one run, on one core (run it pinned), this times:

- decode: PyAV decoding a 640x360 clip of the world to RGB frames (FFmpeg threads 1);
- env 640x360 and env 160x90: `curate/World-v0` stepped by the scripted player (the player's
  own time excluded), observations at those sizes.

    taskset -c 0 python bench/bench_env.py [--steps 600]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import av
import gymnasium

import curate.world  # noqa: F401 - registers curate/World-v0
from curate.world.player import env_action
from curate.world.record import record_episode

TASK = "mine_block:oak_log"


def decode_rate(video: Path) -> float:
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        stream.thread_count = 1
        start = time.perf_counter()
        n = sum(
            1 for frame in container.decode(stream) if frame.to_ndarray(format="rgb24") is not None
        )
    return n / (time.perf_counter() - start)


def env_rate(size: tuple[int, int], steps: int, seed: int) -> float:
    env = gymnasium.make("curate/World-v0", task=TASK, max_steps=10**6, size=size)
    env.reset(seed=seed)
    player = env.unwrapped.scripted_player()
    for _ in range(10):  # numba's kernels loaded
        sim = env.unwrapped.sim
        env.step(env_action(player.act(sim), sim.player.hotbar))
    stepping = 0.0
    for _ in range(steps):
        sim = env.unwrapped.sim
        action = env_action(player.act(sim), sim.player.hotbar)
        start = time.perf_counter()
        env.step(action)
        stepping += time.perf_counter() - start
    return steps / stepping


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        clip = record_episode(Path(tmp), "clip", args.steps, (args.seed, 0), [TASK]).mp4
        decode = decode_rate(clip)
    full = env_rate((640, 360), args.steps, args.seed)
    small = env_rate((160, 90), args.steps, args.seed)
    print(f"decode 640x360: {decode:.0f} frames/s")
    print(f"env 640x360:    {full:.0f} steps/s = {full / decode:.2f} of decode (goal 0.5)")
    print(f"env 160x90:     {small:.0f} steps/s = {small / decode:.2f} of decode")


if __name__ == "__main__":
    main()
