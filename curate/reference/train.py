"""`curate train`: the reference model trained on one config of a release, train split only.

Plain loop: shuffled batches (an epoch at a time, from the seed), AdamW, linear warm-up then a
cosine decay, gradient clipping. On the CPU the same seed gives the same weights on one machine
with the same number of threads (the order of floating-point sums follows them). The checkpoint
is `model.safetensors` plus `checkpoint.json` (model shape, tokenizer, the release and split it
saw, its episodes, the loss curve), so the evaluator can refuse rows the model trained on.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from curate.reference.data import Example, collate, encode, fit_tokenizer, load_rows
from curate.reference.model import ModelConfig, ReferenceModel, patches
from curate.reference.tokenizer import IMAGE, Tokenizer

CHECKPOINT = "checkpoint.json"
WEIGHTS = "model.safetensors"
LOSS_POINTS = 100  # the loss curve kept in the checkpoint


@dataclass(frozen=True)
class TrainOptions:
    steps: int = 500
    seed: int = 0
    batch_size: int = 32
    lr: float = 3e-3  # at 1e-3 the demo's model solved none of its closed-loop episodes
    warmup: int = 50
    d_model: int = 128
    layers: int = 3
    heads: int = 4
    dropout: float = 0.1
    weight_decay: float = 0.1
    image_size: tuple[int, int] = (64, 36)  # width, height


@dataclass
class Checkpoint:
    """A trained model and what it was trained on."""

    model: ReferenceModel
    tokenizer: Tokenizer
    release: dict  # name, version, fingerprint
    config: str
    episodes: list[str]  # the training episodes: rows of these are never evaluated
    options: TrainOptions
    loss: list[tuple[int, float]] = field(default_factory=list)  # (step, mean loss)
    answer_tokens: int = 64  # the longest answer it may write: its longest target and a margin
    samples_per_second: float = 0.0
    device: str = "cpu"

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        weights = {k: v.detach().cpu().contiguous() for k, v in self.model.state_dict().items()}
        weights.pop("head.weight")  # tied to the token embedding
        save_file(weights, str(folder / WEIGHTS))
        info = {
            "model": self.model.config.to_dict(),
            "vocab": self.tokenizer.vocab,
            "lines": sorted(self.tokenizer.lines),
            "release": self.release,
            "config": self.config,
            "split": "train",
            "episodes": self.episodes,
            "options": asdict(self.options),
            "loss": self.loss,
            "answer_tokens": self.answer_tokens,
            "samples_per_second": self.samples_per_second,
            "device": self.device,
        }
        (folder / CHECKPOINT).write_text(json.dumps(info, indent=1) + "\n")

    @classmethod
    def load(cls, folder: Path, device: str = "cpu") -> Checkpoint:
        path = folder / CHECKPOINT
        if not path.is_file():
            raise FileNotFoundError(f"{folder}: not a checkpoint (no {CHECKPOINT}); curate train")
        info = json.loads(path.read_text())
        tokenizer = Tokenizer(info["vocab"], info["lines"])
        model = ReferenceModel(ModelConfig(**info["model"]), tokenizer.id(IMAGE))
        weights = load_file(str(folder / WEIGHTS))
        weights["head.weight"] = weights["tokens.weight"]
        model.load_state_dict(weights)
        options = TrainOptions(
            **{**info["options"], "image_size": tuple(info["options"]["image_size"])}
        )
        return cls(model.to(device).eval(), tokenizer, info["release"], info["config"],
                   info["episodes"], options, [tuple(x) for x in info["loss"]],
                   info["answer_tokens"], info["samples_per_second"], device)  # fmt: skip


Progress = Callable[[int, float, float], None]  # step, loss, samples per second


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def train(
    release: Path,
    config: str,
    options: TrainOptions = TrainOptions(),
    *,
    device: str | None = None,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
    data: TrainingSet | None = None,
) -> Checkpoint:
    """Train the reference model on the `train` split of `config` of the release folder
    (`data`: that split, already read, for several trainings on it)."""
    data = data or TrainingSet.read(release, config, options.image_size, cache_dir)
    device = device or default_device()
    model, curve, rate = fit(data.examples, data.tokenizer, options, device, progress)
    episodes = sorted({e.episode_id for e in data.examples})
    answer_tokens = max(len(e.target) for e in data.examples) + 16
    return Checkpoint(model, data.tokenizer, data.release, config, episodes, options, curve,
                      answer_tokens, rate, device)  # fmt: skip


@dataclass(frozen=True)
class TrainingSet:
    """A config's train split as the model reads it: its tokenizer and its examples."""

    release: dict  # name, version, fingerprint
    tokenizer: Tokenizer
    examples: list[Example]

    @staticmethod
    def read(
        release: Path, config: str, image_size: tuple[int, int], cache_dir: Path | None = None
    ) -> TrainingSet:
        from curate.release.meta import ReleaseMeta

        meta = ReleaseMeta.read(release)
        rows = load_rows(release, config, "train", cache_dir)
        tokenizer = fit_tokenizer(rows)
        examples = [encode(r, tokenizer, patches(*image_size), image_size) for r in rows]
        info = {"name": meta.name, "version": meta.version, "fingerprint": meta.fingerprint}
        return TrainingSet(info, tokenizer, examples)


def shape_of(options: TrainOptions, vocab: int) -> ModelConfig:
    width, height = options.image_size
    return ModelConfig(vocab, options.d_model, options.layers, options.heads,
                       image_width=width, image_height=height, dropout=options.dropout)  # fmt: skip


def fit(
    examples: Sequence[Example],
    tokenizer: Tokenizer,
    options: TrainOptions,
    device: str,
    progress: Progress | None = None,
) -> tuple[ReferenceModel, list[tuple[int, float]], float]:
    """The training loop: the model, its loss curve and the samples per second. Every random
    draw (initial weights, dropout, batch order) comes from the seed, and the caller's random
    state is left as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(options.seed)
        model = ReferenceModel(shape_of(options, len(tokenizer)), tokenizer.id(IMAGE))
        longest = max(len(e.prompt) + len(e.target) for e in examples)
        if longest > model.config.max_len:
            raise ValueError(
                f"rows of {longest} tokens exceed the reference model's {model.config.max_len}: "
                "lower the recipe's `history` or `validate.image_size`"
            )
        model.to(device).train()
        optimizer = torch.optim.AdamW(
            model.parameters(), lr=options.lr, weight_decay=options.weight_decay
        )
        order = _batches(len(examples), options.batch_size, options.seed)
        losses: list[float] = []
        curve: list[tuple[int, float]] = []
        every = max(1, options.steps // LOSS_POINTS)
        seen = 0  # rows trained on, for the rate
        start = time.perf_counter()
        for step in range(options.steps):
            for group in optimizer.param_groups:
                group["lr"] = options.lr * _schedule(step, options)
            rows = next(order)
            seen += len(rows)
            batch = collate([examples[i] for i in rows], tokenizer).to(torch.device(device))
            logits, _ = model(batch.ids, batch.real, batch.images)
            loss = torch.nn.functional.cross_entropy(
                logits.flatten(0, 1), batch.labels.flatten(), ignore_index=-100
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            losses.append(loss.item())
            if (step + 1) % every == 0 or step + 1 == options.steps:
                curve.append((step + 1, float(np.mean(losses[-every:]))))
                if progress:
                    progress(step + 1, curve[-1][1], seen / (time.perf_counter() - start))
        rate = seen / (time.perf_counter() - start)
    return model.eval(), curve, rate


def _schedule(step: int, options: TrainOptions) -> float:
    """Linear warm-up, then a cosine decay to a tenth."""
    warmup = max(1, min(options.warmup, options.steps // 10))
    if step < warmup:
        return (step + 1) / warmup
    done = (step - warmup) / max(1, options.steps - warmup)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * done))


def _batches(n: int, size: int, seed: int):
    """Indices of each batch: every row once an epoch, in an order drawn from the seed."""
    rng = np.random.default_rng(seed)
    while True:
        order = rng.permutation(n)
        for start in range(0, n - min(size, n) + 1, min(size, n)):
            yield order[start : start + size].tolist()
