"""`curate validate`: train and evaluate the reference model as the recipe's `validate:` section
says, write the figures into `meta/release.json`, and render the card again.

One model per config and seed; the seeds' models answer the same validation rows, and a figure
counts the answers of all of them (its interval still resamples episodes). The gate: the model's
`exact_action` interval (`motion_exact` for motion_action rows, which have no `Action:` line)
lies above the interval of every baseline the section names, and every
minimum it sets is reached; `curate validate` exits non-zero when it fails, a gate for CI.

On a release of curate's world, one model then plays the world (`curate.reference.play`, the
section's `closed_loop`), the first seed's of all_in_one, else of the first config whose answers
have an `Action:` line: `validation.closed_loop`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version as package_version
from pathlib import Path

import numpy as np
import torch

from curate.reference.evaluate import Scores, evaluate, figures, headline
from curate.reference.play import PLAYABLE, play_release
from curate.reference.train import Progress, TrainingSet, TrainOptions, default_device, train
from curate.release.card import write_card
from curate.release.meta import ReleaseMeta
from curate.release.recipe import Validate, load_recipe

Say = Callable[[str], None]


@dataclass
class Validation:
    meta: ReleaseMeta
    passed: bool
    failures: list[str]


def configs_of(meta: ReleaseMeta, spec: Validate) -> list[str]:
    """The configs to validate: the section's, else all_in_one when built, else every SFT one."""
    if spec.configs:
        return [str(c) for c in spec.configs]
    built = [c for c in meta.counts if c != "ticks"]
    return ["all_in_one"] if "all_in_one" in built else built


def validate(
    release: Path,
    *,
    recipe: Path | None = None,
    device: str | None = None,
    cache_dir: Path | None = None,
    say: Say = lambda _: None,
    progress: Callable[[str, int], Progress | None] = lambda what, steps: None,
) -> Validation:
    """Validate a release folder in place, as the `validate:` section of `recipe` says (default:
    the section the release was built with); `progress(what, steps)` follows each training."""
    meta = ReleaseMeta.read(release)
    if recipe is not None:
        spec = load_recipe(recipe).validate_
        meta = meta.model_copy(
            update={"recipe": {**meta.recipe, "validate": spec.model_dump(mode="json")}}
        )
    else:
        spec = Validate.model_validate(meta.recipe.get("validate") or {})
    configs = configs_of(meta, spec)
    if not configs:
        raise ValueError(f"{release} holds no SFT config to train the reference model on")
    device = device or default_device()
    results: dict[str, dict] = {}
    model = {}
    closed: dict = {"skipped": "closed_loop.episodes is 0"}
    plays = next((c for c in ("all_in_one", *PLAYABLE) if c in configs), configs[0])
    for config in configs:
        if config not in meta.counts:
            raise ValueError(f"validate.configs names {config}, which this release does not hold")
        if not meta.counts[config]["validation"]:
            raise ValueError(f"{config} has no validation rows: raise `validation` in the recipe")
        total: Scores | None = None
        curves = []
        data = TrainingSet.read(release, config, spec.image_size, cache_dir)  # once for all seeds
        for seed in spec.seeds:
            options = TrainOptions(steps=spec.steps, seed=seed, batch_size=spec.batch_size,
                                   image_size=spec.image_size)  # fmt: skip
            follow = progress(f"training {config}, seed {seed}", spec.steps)
            checkpoint = train(release, config, options, device=device, progress=follow,
                               data=data)  # fmt: skip
            say(f"trained at {checkpoint.samples_per_second:.0f} samples/s on {device}; evaluating")
            scores = evaluate(checkpoint, release, cache_dir).scores
            total = scores if total is None else total + scores
            if config == plays and seed == spec.seeds[0] and spec.closed_loop.episodes:
                loop = spec.closed_loop  # one model plays: the first seed's
                answers = [e.answer for e in data.examples]  # the train split, read once
                closed = play_release(checkpoint, meta.recipe, answers, loop.episodes,
                                      loop.max_steps, say, meta.prompts)  # fmt: skip
            curves.append(checkpoint.loss)
            shape = checkpoint.model.config
            model = {"d_model": shape.d_model, "layers": shape.layers, "heads": shape.heads,
                     "parameters": checkpoint.model.parameters_count()}  # fmt: skip
        assert total is not None  # there is at least one seed
        steps = [step for step, _ in curves[0]]
        loss = np.mean([[v for _, v in c] for c in curves], axis=0)
        curve = [[s, round(float(v), 4)] for s, v in zip(steps, loss, strict=True)]
        results[config] = {**figures(total), "loss": curve}
    failures = gate_failures(results, spec) + protocol_failures(closed)
    protocol = {
        "model": model,
        "steps": spec.steps,
        "seeds": spec.seeds,
        "batch_size": spec.batch_size,
        "history": meta.recipe["history"],
        "image_size": list(spec.image_size),
        "decoding": "greedy",
        "split": "trained on train, evaluated on validation",
        "device": device,  # the figures depend on it, and on a CPU on its number of threads
        "threads": torch.get_num_threads() if device == "cpu" else None,
        "curate_version": package_version("curate"),
    }
    if "protocol" in closed:
        closed["protocol"] |= {"config": plays, "model_seed": spec.seeds[0]}
    validation = {
        "protocol": protocol,
        "configs": results,
        "closed_loop": closed,
        "gate": {
            "beat": spec.gate.beat,
            "min": spec.gate.min,
            "passed": not failures,
            "failures": failures,
        },  # fmt: skip
    }
    meta = write_card(release, meta.model_copy(update={"validation": validation}))
    return Validation(meta, not failures, failures)


def gate_failures(results: dict[str, dict], spec: Validate) -> list[str]:
    """What the gate finds wanting, in words; empty when it passes."""
    failures = []
    for config, figs in results.items():
        metric = headline(figs)
        model = figs[metric]["model"]
        for baseline in spec.gate.beat:
            other = figs[metric].get(baseline)
            if other is not None and not model[1] > other[2]:
                failures.append(
                    f"{config}: {metric} {model[0]:.3f} [{model[1]:.3f}, {model[2]:.3f}] does "
                    f"not lie above {baseline}'s {other[0]:.3f} [{other[1]:.3f}, {other[2]:.3f}]"
                )
        for metric, least in spec.gate.min.items():
            value = figs.get(metric, {}).get("model", [0.0])[0]
            if value < least:
                failures.append(f"{config}: {metric} {value:.3f} is below the minimum {least}")
    return failures


SCRIPTED_FLOOR = 0.9  # the scripted player solves this share of the closed loop, or it is wrong


def protocol_failures(closed: dict) -> list[str]:
    """A closed-loop protocol the scripted player cannot solve measures nothing: its step limit
    is too short for the tasks."""
    if "overall" not in closed or closed["overall"]["scripted"][0] >= SCRIPTED_FLOOR:
        return []
    return [
        f"closed loop: the scripted player solved only {closed['overall']['scripted'][0]:.0%} "
        f"of the episodes (at least {SCRIPTED_FLOOR:.0%} expected): raise "
        f"validate.closed_loop.max_steps (now {closed['protocol']['step_limit']})"
    ]
