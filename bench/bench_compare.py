"""Which action space? One world dataset, one reference model per config, offline and closed loop.

Builds one release of curate's world with every config (three synth sources, one per task family:
mine, craft, kill; under bench/_work/compare), then trains the reference model on each of
text_action, motion_coa, grounding_coa and all_in_one with the same budget of training tokens
(prompt and answer tokens seen, not steps: Chain-of-Action answers are longer, so their configs
get fewer steps) and three training seeds. Each model is scored offline on its config's
validation rows (exact action match: every config here has an `Action:` line) and closed loop:
it plays every task of the release, `--episodes` seeded episodes each, beside the random policy
and the scripted player on the same seeds (they play each episode once; a config's three models
play each once). Prints one table, success per task family with 95% Wilson intervals over the
episodes (of all three models, for a config), offline exact action match with a bootstrap
interval over validation episodes (the three models' answers pooled).

    python bench/bench_compare.py [--tokens 3e6] [--episodes 3] [--max-steps 300] [--device cpu]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from curate.reference.evaluate import Scores, evaluate, figures, parts
from curate.reference.play import (
    PLAYABLE,
    Game,
    ModelPolicy,
    protocol_of,
    random_policy,
    run,
    scripted,
    wilson,
)
from curate.reference.train import TrainingSet, TrainOptions, default_device, train
from curate.release.build import build
from curate.release.meta import ReleaseMeta

WORK = Path(__file__).parent / "_work" / "compare"
CONFIGS = ("text_action", "motion_coa", "grounding_coa", "all_in_one")
SEEDS = (0, 1, 2)
FAMILIES = ("mine_block", "craft_item", "kill_entity")
RECIPE = {
    "name": "compare",
    "version": "0.1.0",
    "sources": [
        {
            "format": "synth",
            "episodes": 8,
            "seconds": 30,
            "seed": 10,
            "tasks": ["mine_block:oak_log", "mine_block:dirt"],
        },
        {
            "format": "synth",
            "episodes": 8,
            "seconds": 30,
            "seed": 11,
            "tasks": ["craft_item:oak_planks", "craft_item:crafting_table"],
        },
        {"format": "synth", "episodes": 8, "seconds": 30, "seed": 12, "tasks": ["kill_entity:pig"]},
    ],  # fmt: skip
    "configs": ["ticks", "text_action", "motion_coa", "grounding_coa", "all_in_one"],
    "history": 2,
    "images": {"width": 320, "height": 180, "stride": 4, "quality": 85},
    "mixture": {"text_action": 1, "motion_coa": 1, "grounding_coa": 1},
    "validation": 0.25,
}


def release() -> Path:
    folder = WORK / "release"
    if not (folder / "meta" / "release.json").exists():
        WORK.mkdir(parents=True, exist_ok=True)
        (WORK / "recipe.yaml").write_text(json.dumps(RECIPE))
        build(WORK / "recipe.yaml", folder)
    return folder


def tokens_per_row(data: TrainingSet) -> float:
    return float(np.mean([len(e.prompt) + len(e.target) for e in data.examples]))


def family_rates(games: list[Game]) -> dict[str, list[float]]:
    out = {}
    for family in (*FAMILIES, "all"):
        mine = [g for g in games if family == "all" or g.task.startswith(family)]
        out[family] = wilson(sum(g.success for g in mine), len(mine)) if mine else None
    return out


def cell(rate: list[float] | None) -> str:
    return "n/a" if rate is None else f"{rate[0]:.2f} [{rate[1]:.2f}, {rate[2]:.2f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=float, default=3e6, help="training tokens per model")
    parser.add_argument("--episodes", type=int, default=3, help="closed loop: per task and seed")
    parser.add_argument("--max-steps", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--device", default=None)
    args = parser.parse_args()
    device = args.device or default_device()
    started = time.perf_counter()
    folder = release()
    meta = ReleaseMeta.read(folder)
    protocol = protocol_of(meta.recipe, args.episodes, args.max_steps, meta.prompts)
    assert protocol is not None
    rows = []
    for config in CONFIGS:
        data = TrainingSet.read(folder, config, (64, 36))
        per_row = tokens_per_row(data)
        steps = max(1, round(args.tokens / (per_row * args.batch_size)))
        forms = [f for f in PLAYABLE if config == "all_in_one" or f == config]
        scores: Scores | None = None
        games: dict[str, list[Game]] = {f: [] for f in forms}
        for seed in SEEDS:
            options = TrainOptions(steps=steps, seed=seed, batch_size=args.batch_size)
            checkpoint = train(folder, config, options, device=device, data=data)
            own = evaluate(checkpoint, folder).scores
            scores = own if scores is None else scores + own
            for form in forms:  # an all_in_one model: every form its own row, no best-of-n
                games[form] += run(protocol, ModelPolicy(checkpoint, form, protocol))
        assert scores is not None
        offline = figures(scores)["exact_action"]["model"]  # the three models' answers pooled
        for form in forms:
            name = config if len(forms) == 1 else f"{config} as {form}"
            rows.append((name, steps, per_row, offline, family_rates(games[form])))
        print(f"{config}: {steps} steps of {args.batch_size} rows ({per_row:.0f} tokens a row), "
              f"{time.perf_counter() - started:.0f} s so far", flush=True)  # fmt: skip
    train_rows = TrainingSet.read(folder, "text_action", (64, 36)).examples
    lines = [parts(e.answer).get("Action") for e in train_rows]
    floor = family_rates(run(protocol, random_policy([a for a in lines if a]), look=False))
    ceiling = family_rates(scripted(protocol))

    print(f"\nbudget: {args.tokens:.3g} training tokens per model, batch {args.batch_size}, "
          f"seeds {list(SEEDS)}; closed loop: {args.episodes} episodes per task and seed, at "
          f"most {args.max_steps} ticks, tasks {list(protocol.tasks)}, {device}")  # fmt: skip
    head = ["config", "steps", "exact action (offline)", *(f"success: {f}" for f in
            (*FAMILIES, "all"))]  # fmt: skip
    print("| " + " | ".join(head) + " |")
    print("|" + " --- |" * len(head))
    for config, steps, _, offline, rates in rows:
        exact = cell(offline)
        print(f"| {config} | {steps} | {exact} | " + " | ".join(
            cell(rates[f]) for f in (*FAMILIES, "all")) + " |")  # fmt: skip
    for name, rates in (("random", floor), ("scripted", ceiling)):
        print(f"| {name} | - | - | " + " | ".join(cell(rates[f]) for f in (*FAMILIES, "all"))
              + " |")  # fmt: skip
    print(f"\n{time.perf_counter() - started:.0f} s in all")


if __name__ == "__main__":
    main()
