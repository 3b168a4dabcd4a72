"""`curate build` at scale: the frame path against the decode + JPEG floor, 1 vs 2 workers, peak
memory of long builds, and what the public VPT indices would take on a cluster.

Every run is a whole `curate build` process (interpreter start, imports, planning, episodes,
assembly, card), timed from its start to its exit; its baseline runs in the same invocation:

- frames: a build that emits the image of every tick (640x360, JPEG quality 95, one config,
  no history) of 24 recordings of curate's world (8 videos of 30 s, each 3 times under other
  names: 14,400 frames), against the floor on the same videos: PyAV decoding to RGB plus
  Pillow's JPEG encoding of every frame, nothing else. Both pinned to one core (`taskset`),
  FFmpeg's decoder on one thread. Goal: 80% of the floor's frames/s.
- scaling: the same build, `--workers 1` against `--workers 2` on both cores; Ray's
  `--workers 2` (a Ray started for the build) beside it.
- memory: peak RSS of an action-only build (`ticks`) of 10 one-hour recordings of realistic VPT
  actions (bench_label.py's generator, ~125 MB of jsonl each) beside 1 such recording, and of
  2 one-hour recordings with cheap generated video (one image config at 320x180, every tick).
- projection: from the per-core rates measured here, the core-hours to build the public VPT
  indices with images of every tick, and action-only.

    python bench/bench_build.py [frames scaling memory projection]   # all four by default

Recordings are generated once into bench/_work/scale/ (a few minutes) and reused.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

HERE = Path(__file__).resolve().parent
WORK = HERE / "_work" / "scale"
WORLD = WORK / "world"  # 8 x 30 s of curate's world, 640x360
HOUR = 72_000  # ticks in an hour at 20 Hz
# OpenAI's public VPT index files (github.com/openai/Video-Pre-Training, "Contractor
# Demonstrations"), as copied by solaris-wm/solaris into ../shared/real: segment counts of the
# 7.x, 8.x, 9.x and 10.x indices (the 6.x index was not copied: not counted).
VPT_SEGMENTS = {"7.x": 17_886, "8.x": 5_096, "9.x": 8_698, "10.x": 5_661}
# Mean frames per segment: Solaris's test split of 85 real VPT episodes (1..6000, mean 5012).
SEGMENT_FRAMES = 5_012

FLOOR = """
import io, sys
from pathlib import Path
import av
from PIL import Image
frames = 0
for video in sorted(Path(sys.argv[1]).glob("*.mp4")):
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1
        for frame in container.decode(stream):
            out = io.BytesIO()
            Image.fromarray(frame.to_ndarray(format="rgb24")).save(out, "JPEG", quality=95)
            frames += 1
print(frames)
"""


def timed(command: list[str], cores: str | None = None) -> tuple[float, int, str]:
    """(seconds, peak RSS in bytes, stderr + stdout) of one whole process."""
    if cores is not None:
        command = ["taskset", "-c", cores, *command]
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)  # fmt: skip
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    output = process.stdout.read() if process.stdout else ""
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(command)} failed:\n{output[-3000:]}")
    return seconds, usage.ru_maxrss * 1024, output


def curate_build(recipe: Path, out: Path, *options: str, cores: str | None = None):
    subprocess.run(["rm", "-rf", str(out), str(out) + ".partial"], check=True)
    return timed([sys.executable, "-c", "from curate.cli import app; app()", "build",
                  str(recipe), "--out", str(out), *options], cores)  # fmt: skip


def write_recipe(path: Path, source: Path, configs: list[str], images: dict, video=True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "name": path.stem, "version": "0.1.0",
        "sources": [{"format": "vpt", "path": str(source), "video": video}],
        "configs": configs, "history": 0, "images": images,
    }))  # fmt: skip
    return path


def world() -> Path:
    """24 recordings: 8 of curate's world, each also under two other names."""
    many = WORK / "world-x3"
    if (many / "done").exists():
        return many
    if not (WORLD / "done").exists():
        print("generating 8 x 30 s of world recordings (once)...", flush=True)
        subprocess.run([sys.executable, "-c", "from curate.cli import app; app()", "synth",
                        str(WORLD), "--episodes", "8", "--seconds", "30", "--seed", "300"],
                       check=True, capture_output=True)  # fmt: skip
        (WORLD / "done").touch()
    many.mkdir(exist_ok=True)
    for copy in range(3):
        for jsonl in sorted(WORLD.glob("*.jsonl")):
            for ext in (".jsonl", ".mp4"):
                (many / f"{jsonl.stem}-copy{copy}{ext}").symlink_to(jsonl.with_suffix(ext))
    (many / "done").touch()
    return many


def episode_rate(output: str) -> str:
    """The build's own frames/s over its episodes (imports, planning and assembly excluded)."""
    found = re.search(r"([\d,]+) frames/s", output)
    return found.group(1) if found else "?"


def frames() -> float:
    """Curate's frames/s on one core; prints it beside the floor's."""
    videos = world()
    n = len(list(videos.glob("*.mp4"))) * 600
    recipe = frames_recipe(videos)
    print(f"\n## frames: {n:,} frames, 640x360 JPEG q95, one core\n")
    print("| run | floor (decode + JPEG) | curate build | ratio | curate, episodes only |")
    print("| --- | --- | --- | --- | --- |")
    rates = []
    for run in range(1, 4):
        floor, _, text = timed([sys.executable, "-c", FLOOR, str(videos)], cores="0")
        assert int(text.split()[-1]) == n
        seconds, _, output = curate_build(recipe, WORK / "out-frames", cores="0")
        rates.append(n / seconds)
        print(f"| {run} | {floor:.2f} s, {n / floor:.0f} fps | {seconds:.2f} s, "
              f"{n / seconds:.0f} fps | {floor / seconds:.0%} | {episode_rate(output)} fps |",
              flush=True)  # fmt: skip
    return sorted(rates)[1]


def frames_recipe(videos: Path) -> Path:
    return write_recipe(WORK / "frames.yaml", videos, ["text_action"],
                        {"width": 640, "height": 360, "stride": 1, "quality": 95})  # fmt: skip


def scaling() -> None:
    recipe = frames_recipe(world())
    print("\n## scaling: 24 recordings, 14,400 frames, both cores\n")
    print("| run | local, 1 worker | local, 2 workers | speed-up | ray, 2 workers | speed-up |")
    print("| --- | --- | --- | --- | --- | --- |")
    for run in range(1, 4):
        one, _, _ = curate_build(recipe, WORK / "out-scaling")
        two, _, _ = curate_build(recipe, WORK / "out-scaling", "--workers", "2")
        ray, _, _ = curate_build(recipe, WORK / "out-scaling", "--executor", "ray",
                                 "--workers", "2")  # fmt: skip
        print(f"| {run} | {one:.1f} s | {two:.1f} s | {one / two:.2f}x | {ray:.1f} s | "
              f"{one / ray:.2f}x |", flush=True)  # fmt: skip


def hour_video(path: Path, frames: int) -> None:
    """A cheap one-hour video: flat colours that drift, H.264 at 640x360, 20 fps."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(20))
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        image = np.zeros((360, 640, 3), np.uint8)
        for i in range(frames):
            image[:, :] = (i % 256, (i // 7) % 256, 128)
            image[100:120, (i % 600) : (i % 600) + 40] = 255  # something moves
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def memory() -> float:
    """Peak RSS of long builds; returns the action-only ticks/s of one core."""
    sys.path.insert(0, str(HERE))
    from bench_label import generate

    hours = WORK / "hours"
    hours.mkdir(parents=True, exist_ok=True)
    for k in range(10):
        path = hours / f"hour-{k:02d}.jsonl"
        if not path.exists():
            print(f"generating {path.name} (once)...", flush=True)
            generate(path, HOUR, seed=k)
    one = WORK / "one-hour"
    one.mkdir(exist_ok=True)
    if not (one / "hour-00.jsonl").exists():
        (one / "hour-00.jsonl").symlink_to(hours / "hour-00.jsonl")
    video = WORK / "video-hours"
    video.mkdir(exist_ok=True)
    for k in range(2):
        if not (video / f"hour-{k:02d}.mp4").exists():
            print(f"generating a one-hour video {k} (once)...", flush=True)
            (video / f"hour-{k:02d}.jsonl").unlink(missing_ok=True)
            (video / f"hour-{k:02d}.jsonl").symlink_to(hours / f"hour-{k:02d}.jsonl")
            hour_video(video / "part.mp4", HOUR)
            (video / "part.mp4").rename(video / f"hour-{k:02d}.mp4")
    size = sum(p.stat().st_size for p in hours.glob("*.jsonl")) / 1e6
    print("\n## memory: peak RSS of whole builds, one worker\n")
    print("| build | input | time | peak RSS |")
    print("| --- | --- | --- | --- |")
    rate = 0.0
    for name, source, configs, images, has_video in [
        ("1 hour, action-only", one, ["ticks"], {}, False),
        ("10 hours, action-only", hours, ["ticks"], {}, False),
        ("2 hours with frames, 320x180", video, ["text_action"],
         {"width": 320, "height": 180, "stride": 1, "quality": 90}, True),
    ]:  # fmt: skip
        recipe = write_recipe(WORK / f"memory-{source.name}.yaml", source, configs, images,
                              video=has_video)  # fmt: skip
        seconds, peak, _ = curate_build(recipe, WORK / "out-memory", cores="0")
        n = len(list(source.glob("*.jsonl")))
        each = ", 640x360 video" if has_video else f", {size / 10:.0f} MB of jsonl each"
        what = f"{n} x {HOUR:,} ticks{each}"
        print(f"| {name} | {what} | {seconds:.1f} s | {peak / 2**30:.2f} GB |", flush=True)
        if name.startswith("10 hours"):
            rate = 10 * HOUR / seconds
    return rate


def projection(fps: float, ticks_per_second: float) -> None:
    segments = sum(VPT_SEGMENTS.values())
    frames = segments * SEGMENT_FRAMES
    print(f"\n## projection: {segments:,} segments x {SEGMENT_FRAMES:,} frames = "
          f"{frames / 72_000:,.0f} hours of gameplay\n")  # fmt: skip
    print("| build | per core (measured) | core-hours | on 64 cores | on 512 cores |")
    print("| --- | --- | --- | --- | --- |")
    for what, rate in [("images of every tick, 640x360 q95", fps),
                       ("action-only (`ticks`)", ticks_per_second)]:  # fmt: skip
        if not rate:
            continue
        core_hours = frames / rate / 3600
        print(f"| {what} | {rate:,.0f} ticks/s | {core_hours:,.1f} | {core_hours * 60 / 64:,.1f}"
              f" min | {core_hours * 60 / 512:,.1f} min |")  # fmt: skip


def main() -> None:
    parts = sys.argv[1:] or ["frames", "scaling", "memory", "projection"]
    fps = frames() if "frames" in parts else 0.0
    if "scaling" in parts:
        scaling()
    ticks = memory() if "memory" in parts else 0.0
    if "projection" in parts:
        projection(fps, ticks)


if __name__ == "__main__":
    main()
