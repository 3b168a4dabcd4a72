"""Action-only labelling, whole process: curate against the per-line loop users write today.

Generates three hours of realistic VPT actions (three recordings of 72,000 ticks, ~125 MB of jsonl
each, mostly `stats` and `inventory`; deterministic), then times whole processes, from the start
of `python` to its exit (interpreter start and every import included), every one pinned to the
same cores:

- baseline: stdlib `json.loads` per line, VPT's conversion rules per line in plain Python, then
  the env, vpt-token, text, motion and instruction labels of that line in plain Python;
- curate cold: `read_episode` and the same five labelers (`Labeler.label` and `output`: what
  `curate label SPACE` computes for each space) in the first process after an install: curate
  is imported from a fresh copy of the package without bytecode (every curate module is compiled
  from source), NUMBA_CACHE_DIR and XDG_CACHE_HOME are empty folders (any JIT kernel would be
  compiled), and the dependencies have the bytecode pip wrote when it installed them;
- curate warm: the same command again, finding the bytecode the cold run wrote (bytecode is
  written even where PYTHONDONTWRITEBYTECODE is set here, as on a user's machine);
- curate cold, no bytecode: as cold, with PYTHONPYCACHEPREFIX an empty folder too, so every
  module of every package (polars, pyarrow, pandas, numpy, pydantic...) is compiled from source.

Not cold in any of them: the OS page cache (the input files and shared libraries stay in memory).
The baseline runs from its own fresh copy too. Prints the seconds of each run, the ratios
(baseline / run) and where curate's time goes.

    python bench/bench_label.py [--hours 3] [--ticks 72000] [--repeat 3] [--cores 0]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from curate.contract import BINARY_ACTIONS, KEY_TO_ACTION, QUALIFYING_FAMILIES, TEXT_KEY_ORDER

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


def curate_labels(paths: list[Path]) -> tuple[int, dict[str, float]]:
    """The same five labels with curate's reader and labelers; ticks and seconds per phase."""
    start = time.perf_counter()
    from curate.labelers import BUILTIN, labeler_class
    from curate.readers import read_episode

    labelers = [labeler_class(space)() for space in BUILTIN]
    phases = {"imports": time.perf_counter() - start, "read": 0.0, "label": 0.0}
    ticks = 0
    for path in paths:
        start = time.perf_counter()
        episode = read_episode(path)
        phases["read"] += time.perf_counter() - start
        start = time.perf_counter()
        for labeler in labelers:
            labeler.output(labeler.label(episode))
        phases["label"] += time.perf_counter() - start
        ticks += len(episode)
    return ticks, phases


def child(which: str, paths: list[str]) -> None:
    """One side over every recording; prints ticks, curate's phases and where curate came from."""
    if which == "curate":
        ticks, phases = curate_labels([Path(p) for p in paths])
    else:
        ticks, phases = sum(baseline(Path(p)) for p in paths), {}
    print(json.dumps({"ticks": ticks, "phases": phases, "curate": sys.modules["curate"].__file__}))


def environment(cache: Path, *, bytecode: bool) -> dict[str, str]:
    """The environment of a run whose caches live in `cache`: empty the first time (cold).

    curate itself is imported from a copy in `cache` made without bytecode, so the first run
    compiles every curate module from source and writes its bytecode there. Dependencies keep the
    bytecode pip wrote when installing them, unless `bytecode` is false: then every module of every
    package is compiled from source into an empty PYTHONPYCACHEPREFIX.
    """
    source = cache / "src"
    if not source.exists():
        import curate

        shutil.copytree(
            Path(curate.__file__).parent,
            source / "curate",
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(source), env.get("PYTHONPATH")]))
    env["NUMBA_CACHE_DIR"] = str(cache / "numba")
    env["XDG_CACHE_HOME"] = str(cache / "xdg")
    if not bytecode:
        env["PYTHONPYCACHEPREFIX"] = str(cache / "pycache")
    return env


def run(which: str, paths: list[Path], cores: set[int], env: dict[str, str]) -> dict:
    """Seconds of one whole process (start to exit), its peak memory and its output."""
    env = {**env, "POLARS_MAX_THREADS": str(len(cores))}
    command = [sys.executable, __file__, "--child", which, *map(str, paths)]
    start = time.perf_counter()
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        preexec_fn=lambda: os.sched_setaffinity(0, cores),  # before python starts
    )
    with process.stdout:  # type: ignore[union-attr]
        out = process.stdout.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(process.pid, 0)  # the child's own peak memory
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"{which} failed with exit status {process.returncode}")
    result = json.loads(out)
    assert result["curate"].startswith(env["PYTHONPATH"].split(os.pathsep)[0])
    return {"seconds": seconds, "peak_mb": usage.ru_maxrss / 1024, **result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hours", type=int, default=3, help="recordings of --ticks ticks")
    parser.add_argument("--ticks", type=int, default=72_000, help="ticks per recording")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of every run")
    parser.add_argument("--cores", default="0", help="cores every run is pinned to: 0 or 0,1")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child[0], args.child[1:])
    cores = {int(c) for c in args.cores.split(",")}
    names = ["baseline", "curate cold", "curate warm", "curate cold, no bytecode"]
    with tempfile.TemporaryDirectory() as tmp:
        paths = [Path(tmp) / f"hour{i}.jsonl" for i in range(args.hours)]
        for seed, path in enumerate(paths):
            generate(path, args.ticks, seed=seed)
        size_mb = sum(p.stat().st_size for p in paths) / 1e6
        ticks = args.hours * args.ticks
        print(
            f"input: {args.hours} recordings, {ticks:,} ticks, {size_mb:.0f} MB of jsonl; "
            f"every run a whole process pinned to core(s) {args.cores}"
        )
        rounds = []
        for i in range(args.repeat):
            cache = Path(tmp) / f"round{i}"
            base = run("baseline", paths, cores, environment(cache / "baseline", bytecode=True))
            installed = environment(cache / "curate", bytecode=True)
            cold = run("curate", paths, cores, installed)
            warm = run("curate", paths, cores, installed)
            bare = run("curate", paths, cores, environment(cache / "bare", bytecode=False))
            runs = (base, cold, warm, bare)
            assert all(r["ticks"] == ticks for r in runs)
            rounds.append([r["seconds"] for r in runs])
            print(f"round {i + 1}: " + summary(names, rounds[-1]))
            phases = ", ".join(f"{k} {v:.2f} s" for k, v in warm["phases"].items())
            print(f"  curate warm: {phases}; peak memory {warm['peak_mb']:.0f} MB")
    medians = [statistics.median(column) for column in zip(*rounds, strict=True)]
    print(f"median of {args.repeat}: " + summary(names, medians))


def summary(names: list[str], seconds: list[float]) -> str:
    """Seconds of each run and the ratio baseline / run."""
    return ", ".join(
        f"{name} {s:.2f} s" + (f" ({seconds[0] / s:.1f}x)" if i else "")
        for i, (name, s) in enumerate(zip(names, seconds, strict=True))
    )


if __name__ == "__main__":
    main()
