"""The reference model: training throughput on the CPU and a GPU, and what budgets buy.

A release's rows are read once with `datasets` and turned into the examples the trainer makes
(`prepare`), so a machine without `datasets` (a lent GPU machine) trains on exactly the same
examples with curate's own loop (`run`, which needs only torch, safetensors and Pillow); the
answers it writes are scored here with curate's evaluator, beside the three baselines (`score`).

    python bench/bench_train.py prepare RELEASE [--config all_in_one]   # -> bench/_work/train.pt
    python bench/bench_train.py run bench/_work/train.pt [--device cuda] [--budget S:B:D:L ...]
    python bench/bench_train.py score bench/_work/answers.json RELEASE
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # curate without installing it

from curate.reference.data import Example, encode, fit_tokenizer, load_rows  # noqa: E402
from curate.reference.model import patches  # noqa: E402
from curate.reference.sample import generate  # noqa: E402
from curate.reference.tokenizer import Tokenizer  # noqa: E402
from curate.reference.train import TrainOptions, fit  # noqa: E402

WORK = Path(__file__).resolve().parent / "_work"


def prepare(release: Path, config: str, out: Path) -> None:
    options = TrainOptions()
    train_rows = load_rows(release, config, "train")
    tokenizer = fit_tokenizer(train_rows)
    p = patches(*options.image_size)
    splits = {
        split: [encode(r, tokenizer, p, options.image_size) for r in rows]
        for split, rows in (
            ("train", train_rows),
            ("validation", load_rows(release, config, "validation")),
        )
    }
    # A frame is shown by up to history + 1 rows: keep each once, and the rows' indices into them.
    frames: dict[bytes, int] = {}
    examples = {
        split: [
            {
                **e.__dict__,
                "frames": [frames.setdefault(f.tobytes(), len(frames)) for f in e.frames],
            }
            for e in ex
        ]
        for split, ex in splits.items()
    }
    shape = splits["train"][0].frames.shape[1:]
    table = torch.frombuffer(bytearray(b"".join(frames)), dtype=torch.uint8).view(-1, *shape)
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = sorted(tokenizer.lines)
    data = {"vocab": tokenizer.vocab, "lines": lines, "config": config, "frames": table}
    torch.save({**data, "splits": examples}, out)
    print(f"{out}: {len(splits['train'])} train and {len(splits['validation'])} validation rows")


def run(prepared: Path, device: str, budgets: list[str], out: Path) -> None:
    data = torch.load(prepared, weights_only=False)
    tokenizer = Tokenizer(data["vocab"], data["lines"])
    table = data["frames"].numpy()
    train, validation = (
        [Example(**{**e, "frames": table[e["frames"]]}) for e in data["splits"][split]]
        for split in ("train", "validation")
    )
    results = []
    for budget in budgets:
        steps, batch, d_model, layers = map(int, budget.split(":"))
        options = TrainOptions(steps=steps, batch_size=batch, d_model=d_model, layers=layers)
        start = time.perf_counter()
        model, curve, rate = fit(train, tokenizer, options, device)
        trained = time.perf_counter() - start
        start = time.perf_counter()
        answers = generate(model, tokenizer, validation)
        decoding = time.perf_counter() - start
        row = {"budget": budget, "device": device, "samples_per_second": round(rate, 1),
               "train_seconds": round(trained, 1), "decode_seconds": round(decoding, 1),
               "parameters": model.parameters_count(), "final_loss": round(curve[-1][1], 4),
               "answers": answers}  # fmt: skip
        print(json.dumps({k: v for k, v in row.items() if k != "answers"}), flush=True)
        results.append(row)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"config": data["config"], "runs": results}))


def score(answers_file: Path, release: Path) -> None:
    from curate.reference.evaluate import baseline_answers, figures
    from curate.reference.evaluate import score as score_answers

    data = json.loads(answers_file.read_text())
    config = data["config"]
    options = TrainOptions()
    train_rows = load_rows(release, config, "train")
    tokenizer = fit_tokenizer(train_rows)
    p = patches(*options.image_size)
    validation = [encode(r, tokenizer, p, options.image_size)
                  for r in load_rows(release, config, "validation")]  # fmt: skip
    baselines = baseline_answers(
        validation, [r["messages"][-1]["content"][0]["text"] for r in train_rows]
    )
    for run in data["runs"]:
        figs = figures(score_answers({"model": run["answers"], **baselines}, validation))
        cells = {
            p: "{:.3f} [{:.3f}, {:.3f}]".format(*figs["exact_action"][p])
            for p in figs["exact_action"]
        }
        print(f"{run['budget']} on {run['device']}: {run['samples_per_second']} samples/s, "
              f"{run['train_seconds']} s training; exact action {cells}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    verbs = parser.add_subparsers(dest="verb", required=True)
    p = verbs.add_parser("prepare")
    p.add_argument("release", type=Path)
    p.add_argument("--config", default="all_in_one")
    p.add_argument("--out", type=Path, default=WORK / "train.pt")
    r = verbs.add_parser("run")
    r.add_argument("prepared", type=Path)
    r.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    r.add_argument(
        "--budget", nargs="+", default=["1000:32:128:3"], help="steps:batch:width:layers"
    )
    r.add_argument("--out", type=Path, default=WORK / "answers.json")
    s = verbs.add_parser("score")
    s.add_argument("answers", type=Path)
    s.add_argument("release", type=Path)
    args = parser.parse_args()
    if args.verb == "prepare":
        prepare(args.release, args.config, args.out)
    elif args.verb == "run":
        run(args.prepared, args.device, args.budget, args.out)
    else:
        score(args.answers, args.release)


if __name__ == "__main__":
    main()
