"""Action-only labelling speed: curate vs the per-line loop users write today, on one core.

Generates a realistic hour of VPT actions (72,000 ticks, ~125 MB of jsonl, mostly `stats` and
`inventory`), then runs, each in its own process pinned to one core:

- baseline: stdlib `json.loads` per line, VPT's conversion rules per line in plain Python, then
  the env, vpt-token, text, motion and instruction labels of that line in plain Python;
- curate: `read_vpt` and the same five labelers, vectorised over the episode.

Prints ticks per second of both, the ratio, and curate's peak memory.

    python bench/bench_label.py [--ticks 72000]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from curate.contract import BINARY_ACTIONS, KEY_TO_ACTION, QUALIFYING_FAMILIES, TEXT_KEY_ORDER

SINGLE_CORE_ENV = {"POLARS_MAX_THREADS": "1", "OMP_NUM_THREADS": "1", "RAYON_NUM_THREADS": "1"}
BLOCKS = ["oak_log", "birch_log", "dirt", "stone", "cobblestone", "coal_ore", "iron_ore"]
ITEMS = ["oak_planks", "stick", "crafting_table", "wooden_pickaxe", "stone_pickaxe"]
CUSTOM = [
    "play_time",
    "total_world_time",
    "time_since_rest",
    "time_since_death",
    "walk_one_cm",
    "sprint_one_cm",
    "jump",
    "leave_game",
]
# What people hold: mostly nothing or walking, sometimes strafing, jumping, sprinting, sneaking;
# number keys and e/q for a tick.
HELD = [
    (),
    ("w",),
    ("w",),
    ("w",),
    ("w", "left.control"),
    ("w", "space"),
    ("w", "a"),
    ("w", "d"),
    ("s",),
    ("a",),
    ("d",),
    ("left.shift",),
    ("space",),
    ("w", "left.control", "space"),
]
TAPS = ["e", "q", "1", "2", "3", "4"]


def generate(path: Path, ticks: int, seed: int = 0) -> None:
    """A deterministic, realistic-looking hour: play sessions of walking, looking and mining."""
    rng = random.Random(seed)
    stats: dict[str, int] = {f"minecraft.custom:minecraft.{c}": 0 for c in CUSTOM}
    inventory = [
        {"type": rng.choice(BLOCKS + ITEMS), "quantity": rng.randint(1, 64)} for _ in range(8)
    ]
    held: tuple[str, ...] = ()
    hotbar, gui, yaw, pitch = 0, False, 0.0, 0.0
    with path.open("w") as f:
        for t in range(ticks):
            for c in ("play_time", "total_world_time", "time_since_rest", "time_since_death"):
                stats[f"minecraft.custom:minecraft.{c}"] += 1
            if rng.random() < 0.1:
                held = rng.choice(HELD)
            keys = [*held, rng.choice(TAPS)] if rng.random() < 0.01 else held
            if "w" in held:
                stats["minecraft.custom:minecraft.walk_one_cm"] += rng.randint(10, 28)
            if rng.random() < 0.004:
                block = rng.choice(BLOCKS)
                for family in ("mine_block", "pickup"):
                    key = f"minecraft.{family}:minecraft.{block}"
                    stats[key] = stats.get(key, 0) + 1
            if rng.random() < 0.001:
                key = f"minecraft.craft_item:minecraft.{rng.choice(ITEMS)}"
                stats[key] = stats.get(key, 0) + 1
            if rng.random() < 0.003:
                hotbar = rng.randint(0, 8)
            if rng.random() < 0.002:
                gui = not gui
            dx, dy = round(rng.gauss(0, 6), 1), round(rng.gauss(0, 2), 1)
            yaw, pitch = yaw + dx * 0.15, max(-90.0, min(90.0, pitch + dy * 0.15))
            buttons = [0] if rng.random() < 0.25 else []
            line = {
                "mouse": {
                    "x": 640.0,
                    "y": 360.0,
                    "dx": dx,
                    "dy": dy,
                    "scaledX": dx,
                    "scaledY": dy,
                    "dwheel": 0.0,
                    "buttons": buttons,
                    "newButtons": [],
                },
                "keyboard": {
                    "keys": [f"key.keyboard.{k}" for k in keys],
                    "newKeys": [],
                    "chars": "",
                },
                "isGuiOpen": gui,
                "isGuiInventory": gui,
                "hotbar": hotbar,
                "yaw": round(yaw, 4),
                "pitch": round(pitch, 4),
                "xpos": round(100 + t * 0.01, 4),
                "ypos": 64.0,
                "zpos": round(-200 + t * 0.003, 4),
                "tick": t,
                "milli": 1650000000000 + 50 * t,
                "inventory": inventory,
                "serverTick": t,
                "serverTickDurationMs": 11.5,
                "stats": {k: v for k, v in stats.items() if v},
            }
            f.write(json.dumps(line, separators=(",", ":")) + "\n")


# --- baseline: what a user writes today, one line at a time in plain Python ---

# The baseline shares curate's tables of facts (key names, orders), not its code.
KEY_MAP = KEY_TO_ACTION
TEXT_NAMES, TEXT_KEYS = zip(*TEXT_KEY_ORDER, strict=True)


def quantise(x: float) -> int:
    x = max(-10.0, min(10.0, x))
    v = math.copysign(math.log(1 + 10 * abs(x) / 10) / math.log(11) * 10, x)
    return round((v + 10) / 2)


ENV_KEYS = BINARY_ACTIONS
QUALIFYING = QUALIFYING_FAMILIES


def baseline(path: Path) -> int:
    """env, vpt, text, motion and instruction labels, one jsonl line at a time."""
    n, stuck, last_hotbar, previous_stats, gui_before = 0, None, 0, {}, False
    out, qualifying = [], []
    with path.open() as f:
        for raw in f:
            if not raw.strip():
                continue
            line = json.loads(raw)
            mouse, keys = line["mouse"], line["keyboard"]["keys"]
            env = dict.fromkeys(ENV_KEYS, 0)
            for key in keys:
                if key in KEY_MAP:
                    env[KEY_MAP[key]] = 1
            if stuck is None:
                stuck = mouse["newButtons"] == [0]
            elif stuck and 0 in mouse["newButtons"]:
                stuck = False
            for button in mouse["buttons"]:
                if button == 0 and not stuck:
                    env["attack"] = 1
                elif button in (1, 2):
                    env["use" if button == 1 else "pickItem"] = 1
            if line["hotbar"] != last_hotbar:
                env[f"hotbar.{line['hotbar'] + 1}"] = 1
            last_hotbar = line["hotbar"]
            camera = [mouse["dy"] * 0.15, mouse["dx"] * 0.15]
            stats = line.get("stats", {})
            events = (
                [
                    k.replace("minecraft.", "")
                    for k, v in stats.items()
                    if v > previous_stats.get(k, 0)
                ]
                if n
                else []
            )
            previous_stats = stats
            # vpt tokens
            pb, yb = quantise(camera[0]), quantise(camera[1])
            hot = max([i for i in range(1, 10) if env[f"hotbar.{i}"]], default=0)
            fb = 0 if env["forward"] == env["back"] else (1 if env["forward"] else 2)
            lr = 0 if env["left"] == env["right"] else (1 if env["left"] else 2)
            ss = 2 if env["sneak"] else (1 if env["sprint"] else 0)
            button = 0
            for value, radix in (
                (hot, 10),
                (fb, 3),
                (lr, 3),
                (ss, 3),
                (env["use"], 2),
                (env["drop"], 2),
                (env["attack"], 2),
                (env["jump"], 2),
                (int(pb != 5 or yb != 5), 2),
            ):
                button = button * radix + value
            if env["inventory"]:
                button, pb, yb = 8640, 5, 5
            # text
            dx, dy = round(camera[1] / 0.15), round(camera[0] / 0.15)
            parts = [f"move({dx}, {dy})"] if dx or dy else []
            pressed = [name for name, key in zip(TEXT_NAMES, TEXT_KEYS, strict=True) if env[key]]
            if pressed:
                parts.append(f"press({', '.join(pressed)})")
            parts += [c for c, k in (("click(left)", "attack"), ("click(right)", "use")) if env[k]]
            text = "Action: " + " and ".join(parts) if parts else "Action: no_op"
            # motion (the per-tick phrase of each channel; runs follow from equal neighbours)
            gui = line.get("isGuiOpen", False)
            phrases = []
            if not gui:
                phrases += [
                    p
                    for p, k in (
                        ("move forward", "forward"),
                        ("move back", "back"),
                        ("move left", "left"),
                        ("move right", "right"),
                        ("sprint", "sprint"),
                        ("sneak", "sneak"),
                    )
                    if env[k]
                ]
            turn = [
                w
                for w, v in (
                    ("right", camera[1] > 0),
                    ("left", camera[1] < 0),
                    ("down", camera[0] > 0),
                    ("up", camera[0] < 0),
                )
                if v
            ]
            if turn:
                phrases.append(("cursor move " if gui else "turn ") + " and ".join(turn))
            if env["attack"]:
                phrases.append("operate gui" if gui else "attack / mine")
            if env["use"]:
                phrases.append("choose" if gui else "use / place")
            if env["jump"] and not gui:
                phrases.append("jump")
            if hot:
                phrases.append(f"switch to hotbar {hot}")
            if gui != gui_before:
                phrases.append("open gui" if gui else "close gui")
            gui_before = gui
            motion = "Motion: " + ", ".join(phrases) if phrases else "Motion: no_op"
            # instruction: remember this tick's qualifying event; segments are filled in after
            done = [e for e in events if e.split(":")[0] in QUALIFYING]
            qualifying.append(min(done) if done else None)
            out.append([env, camera, events, button, pb * 11 + yb, text, motion, None])
            n += 1
    pending = None
    for row, event in zip(reversed(out), reversed(qualifying), strict=True):
        pending = event or pending
        row[7] = f"Do {pending.split(':')[1].replace('_', ' ')}." if pending else None
    return n


def curate_labels(path: Path) -> int:
    from curate.labelers import REGISTRY, labeler_class
    from curate.readers.vpt import read_vpt

    episode = read_vpt(path)
    for space in REGISTRY:
        labeler = labeler_class(space)()
        labeler.fields(labeler.label(episode))
    return len(episode)


def child(which: str, path: str) -> None:
    """Run one side on core 0 and print ticks, seconds and peak RSS as JSON."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    if which == "curate":  # import and JIT-load costs are once per process, not per-tick work
        from curate.labelers import REGISTRY, labeler_class
        from curate.readers.scan import scan_vpt

        for space in REGISTRY:
            labeler_class(space)
        scan_vpt(b'{"mouse": {}, "keyboard": {}}\n')
    start = time.perf_counter()
    ticks = (curate_labels if which == "curate" else baseline)(Path(path))
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"ticks": ticks, "seconds": seconds, "peak_mb": peak_mb}))


def run(which: str, path: Path, repeat: int) -> dict:
    env = {**os.environ, **SINGLE_CORE_ENV}
    runs = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, __file__, "--child", which, str(path)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        runs.append(json.loads(out))
    return min(runs, key=lambda r: r["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ticks", type=int, default=72_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs of each side")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(*args.child)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hour.jsonl"
        generate(path, args.ticks)
        size_mb = path.stat().st_size / 1e6
        base, ours = run("baseline", path, args.repeat), run("curate", path, args.repeat)
    rate = {name: r["ticks"] / r["seconds"] for name, r in (("baseline", base), ("curate", ours))}
    print(f"input: {args.ticks} ticks, {size_mb:.0f} MB of jsonl; one core, best of {args.repeat}")
    print(f"baseline (json + per-line rules): {rate['baseline']:>10,.0f} ticks/s")
    print(f"curate   (scan + vectorised):    {rate['curate']:>10,.0f} ticks/s")
    print(
        f"ratio: {rate['curate'] / rate['baseline']:.1f}x; "
        f"curate peak memory {ours['peak_mb']:.0f} MB"
    )


if __name__ == "__main__":
    main()
