"""The dataset card: README.md whose YAML declares every config, and a body that answers what a
user asks first (what is inside, how it was built, how many rows, what the actions look like).
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display; PNG bytes depend only on the data and matplotlib's version
import matplotlib.pyplot as plt  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
import yaml  # noqa: E402
from datasets import Features  # noqa: E402

from curate.release.meta import SPLITS, ReleaseMeta  # noqa: E402

PLOT_PATH = "meta/plots/{space}.png"
DESCRIPTIONS = {
    "ticks": "one row per tick: the canonical env action, VPT tokens, text, motion and "
    "instruction labels (no images)",
    "text_action": "chat rows whose answer is a raw `Action:` line",
    "motion_action": "chat rows whose answer is a `Motion:` line",
    "grounding_action": "chat rows whose answer is a `Grounding:` line",
    "motion_coa": "Chain of Action: a `Motion:` line, then the `Action:` line",
    "grounding_coa": "Chain of Action: a `Grounding:` line, then the `Action:` line",
    "all_in_one": "the mixture: each row asks for one of the forms, by the recipe's weights",
}


def front_matter(meta: ReleaseMeta, sizes: dict[str, dict[str, int]]) -> dict:
    """The card's YAML header: the Hub and `load_dataset` read `configs` and `dataset_info`."""
    configs, infos = [], []
    for i, config in enumerate(meta.counts):
        splits = [s for s in SPLITS if meta.counts[config][s]]
        entry = {
            "config_name": config,
            "data_files": [{"split": s, "path": f"data/{config}/{s}-*.parquet"} for s in splits],
        }
        if i == 0:
            entry["default"] = True
        configs.append(entry)
        infos.append(
            {
                "config_name": config,
                "splits": [
                    {
                        "name": s,
                        "num_bytes": sizes[config][s],
                        "num_examples": meta.counts[config][s],
                    }
                    for s in splits
                ],
                "dataset_size": sum(sizes[config].values()),
            }
        )
    return {
        "license": meta.recipe["card"]["license"],
        "pretty_name": meta.name,
        "tags": ["minecraft", "vision-language-action", "chain-of-action", "curate"],
        "configs": configs,
        "dataset_info": infos,
    }


def add_features(header: dict, folder: Path) -> dict:
    """Put each config's features, read back from its first shard, into `dataset_info`."""
    for info in header["dataset_info"]:
        first = sorted((folder / "data" / info["config_name"]).glob("*.parquet"))[0]
        info["features"] = Features.from_arrow_schema(pq.read_schema(first))._to_yaml_list()
    return header


CHARTS = (  # space, title, how many bars
    ("env", "share of ticks with each canonical action on", 30),
    ("vpt", "most frequent VPT button classes (share of ticks)", 15),
    ("text", "share of ticks whose Action line has each part", 10),
    ("motion", "most frequent motion phrases (share of ticks)", 15),
    ("events", "task events that end an instruction segment (count)", 15),
)


def plot_stats(stats: dict, folder: Path) -> list[str]:
    """One bar chart per space of how often each action occurs; returns the written paths."""
    written = []
    for space, title, bars in CHARTS:
        counts = stats[space]
        values = _top(counts if space == "events" else _share(counts, stats["ticks"]), bars)
        if not values:
            continue
        fig, ax = plt.subplots(figsize=(7, 0.3 * len(values) + 1.2), dpi=100)
        names = list(values)[::-1]
        ax.barh(names, [values[n] for n in names], color="#4C72B0")
        ax.set_title(title, fontsize=10)
        ax.tick_params(labelsize=8)
        fig.tight_layout()
        rel = PLOT_PATH.format(space=space)
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(folder / rel, format="png", metadata={"Software": None})
        plt.close(fig)
        written.append(rel)
    return written


def _share(counts: dict[str, int], total: int) -> dict[str, float]:
    return {k: v / max(total, 1) for k, v in counts.items()}


def _top(values: dict[str, float], n: int) -> dict[str, float]:
    return dict(sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))[:n])


def render(
    meta: ReleaseMeta, header: dict, plots: list[str], examples: dict[str, str], about: str = ""
) -> str:
    """The whole README.md."""
    recipe = meta.recipe
    lines = [
        "---",
        yaml.safe_dump(header, sort_keys=False, allow_unicode=True).rstrip(),
        "---",
        "",
        f"# {meta.name} v{meta.version}",
        "",
        recipe["card"]["description"]
        or "Minecraft gameplay labelled in several abstracted action "
        "spaces by curate, the same gameplay built the same way in every space.",
        "",
        *(["## About", "", about.strip(), ""] if about else []),
        "## What is inside",
        "",
        "| config | rows (train) | rows (validation) | what |",
        "| --- | --- | --- | --- |",
        *(
            f"| `{c}` | {meta.counts[c]['train']} | {meta.counts[c]['validation']} | "
            f"{DESCRIPTIONS[c]} |"
            for c in meta.counts
        ),
        "",
        f"Episodes: {len(meta.episodes['train'])} train, {len(meta.episodes['validation'])} "
        f"validation (assigned by a hash of the episode id, so the split is stable as sources "
        f"grow); {len(meta.quarantine)} quarantined, {len(meta.filtered)} filtered out.",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        f'rows = load_dataset("<this repo or folder>", name="{next(iter(meta.counts))}")',
        "```",
        "",
        "SFT configs use TRL's vision chat format: `messages` (text and image parts) and `images` "
        f"(JPEG, {recipe['images']['width']}x{recipe['images']['height']}, one row every "
        f"{recipe['images']['stride']} tick(s), {recipe['history']} earlier frame(s) of history).",
        "",
        "## Action distribution",
        "",
        *(f"![{Path(p).stem}]({p})" for p in plots),
        "",
        "## Examples",
        "",
        *(
            line
            for config, text in examples.items()
            for line in (f"`{config}`, an answer:", "", "```", text, "```", "")
        ),
        "## Validation",
        "",
        _validation(meta.validation),
        "",
        "## How it was built",
        "",
        f"- curate {meta.curate_version}; fingerprint `{meta.fingerprint}` (what was asked: "
        f"recipe, labeler versions, inputs, About text, curate's code); content hash "
        f"`{meta.content_hash}` (what was built).",
        f"- Labelers: {', '.join(f'{k} v{v}' for k, v in sorted(meta.labelers.items()))}.",
        f"- Inputs: {len(meta.inputs)} recording(s), each named with its sha256 in "
        "`meta/release.json`.",
        *(f"- Quarantined `{q.name}`: {q.reason}" for q in meta.quarantine),
        *(f"- Filtered `{q.name}`: {q.reason}" for q in meta.filtered),
        *(f"- Note on `{q.name}`: {q.reason}" for q in meta.warnings),
        "",
        "The recipe, normalised:",
        "",
        "```yaml",
        yaml.safe_dump(recipe, sort_keys=False).rstrip(),
        "```",
        "",
    ]
    return "\n".join(lines)


def _validation(figures: dict | None) -> str:
    if not figures:
        return "Not validated yet: no reference-model figures have been written into this release."
    return "```json\n" + json.dumps(figures, indent=2, sort_keys=True) + "\n```"
