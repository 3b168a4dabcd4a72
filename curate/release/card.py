"""The dataset card: README.md whose YAML declares every config, and a body that answers what a
user asks first (what is inside, how it was built, how many rows, what the actions look like).

The card is a function of the release folder alone (its meta and its data), so a later step
(`curate validate`) re-renders it after adding to the meta.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import yaml
from datasets import Features
from matplotlib.figure import Figure

from curate.contract import FPS
from curate.formats.chat import CONVERSATION, conversation
from curate.hashing import sha256_file
from curate.labelers.grounding import NONE
from curate.labelers.motion import NO_OP as MOTION_NO_OP
from curate.labelers.text import NO_OP as TEXT_NO_OP
from curate.qa import CHECKS, QA_PATH, flagged_lines, rule
from curate.release.meta import SPLITS, ChartCounts, ReleaseMeta

HOUR_TICKS = 3600 * FPS
LAYOUT_NOTES = {
    "messages": "`messages` (text and image parts)",
    "prompt_completion": "`prompt` (the prompt and the history, text and image parts) and "
    "`completion` (the answer), TRL's prompt-completion form: with `completion_only_loss` TRL "
    "trains the answer alone",
}
PLOT_PATH = "meta/plots/{space}.png"
LOSS_PLOT = "meta/plots/validation-loss.png"
EXAMPLE_PATH = "meta/examples/{config}-{image}.jpg"
# An example row should show an answer that does something.
IDLE_ANSWERS = (*TEXT_NO_OP.values(), MOTION_NO_OP)
DESCRIPTIONS = {
    "ticks": "one row per tick: the canonical env action, VPT tokens, text, motion, grounding "
    "and instruction labels (no images)",
    "text_action": "chat rows whose answer is a raw `Action:` line",
    "motion_action": "chat rows whose answer is a `Motion:` line",
    "grounding_action": "chat rows whose answer is a `Grounding:` line",
    "motion_coa": "Chain of Action: a `Motion:` line, then the `Action:` line",
    "grounding_coa": "Chain of Action: a `Grounding:` line, then the `Action:` line",
    "all_in_one": "the mixture: each row asks for one of the forms, by the recipe's weights",
}


def write_card(folder: Path, meta: ReleaseMeta) -> ReleaseMeta:
    """Draw the plots and the examples, write README.md and `meta/release.json`: the meta
    returned lists them with their hashes beside the data files."""
    plots = plot_charts(meta.charts, meta.ticks, folder)
    if meta.validation:
        plots.append(plot_loss(meta.validation, folder))
    examples = write_examples(folder, meta)
    (folder / "README.md").write_text(render(meta, folder, plots, examples))
    files = {p: h for p, h in meta.files.items() if p.startswith("data/")}
    shown = [*plots, *(p for rows in examples.values() for p in _images(rows)), "README.md"]
    shown += [QA_PATH] if (folder / QA_PATH).exists() else []
    files |= {rel: sha256_file(folder / rel) for rel in shown}
    meta = meta.model_copy(update={"files": dict(sorted(files.items()))})
    meta.write(folder)
    return meta


def front_matter(meta: ReleaseMeta, folder: Path) -> dict:
    """The card's YAML header: the Hub and `load_dataset` read `configs` and `dataset_info`."""
    configs, infos = [], []
    for i, config in enumerate(meta.counts):
        splits = [s for s in SPLITS if meta.counts[config][s]]
        entry: dict[str, object] = {
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
                        "num_bytes": meta.sizes[config][s],
                        "num_examples": meta.counts[config][s],
                    }
                    for s in splits
                ],
                "dataset_size": sum(meta.sizes[config].values()),
                "features": _features(folder, config),
            }
        )
    return {
        "license": meta.recipe["card"]["license"],
        "pretty_name": meta.name,
        "tags": ["minecraft", "vision-language-action", "chain-of-action", "curate"],
        "configs": configs,
        "dataset_info": infos,
    }


def _features(folder: Path, config: str) -> list:
    """A config's features, read back from its first shard."""
    first = sorted((folder / "data" / config).glob("*.parquet"))[0]
    return Features.from_arrow_schema(pq.read_schema(first))._to_yaml_list()


def plot_charts(charts: dict[str, ChartCounts], ticks: int, folder: Path) -> list[str]:
    """One bar chart per labeler of how often each of its values occurs; the written paths.

    A Figure without pyplot: no backend is chosen for the process, and the PNG bytes depend
    only on the counts and matplotlib's version."""
    written = []
    for space, chart in charts.items():
        shares = (
            {k: float(v) for k, v in chart.counts.items()}
            if chart.unit == "count"
            else _share(chart.counts, ticks)
        )
        values = _top(shares, chart.bars)
        if not values:
            continue
        fig = Figure(figsize=(7, 0.3 * len(values) + 1.2), dpi=100)
        ax = fig.subplots()
        names = list(values)[::-1]
        ax.barh(names, [values[n] for n in names], color="#4C72B0")
        ax.set_title(chart.title, fontsize=10)
        ax.tick_params(labelsize=8)
        fig.tight_layout()
        rel = PLOT_PATH.format(space=space)
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(folder / rel, format="png", metadata={"Software": None})
        written.append(rel)
    return written


def _share(counts: dict[str, int], total: int) -> dict[str, float]:
    return {k: v / max(total, 1) for k, v in counts.items()}


def _top(values: dict[str, float], n: int) -> dict[str, float]:
    return dict(sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))[:n])


def _shows_something(answer: str) -> bool:
    """An answer worth showing: not a no-op, and a grounding line with its point."""
    idle = any(i in answer for i in IDLE_ANSWERS)
    return not idle and ("Grounding:" not in answer or "<|point_start|>" in answer)


def write_examples(folder: Path, meta: ReleaseMeta) -> dict[str, list[dict]]:
    """One whole row of each SFT config (the first in train whose answer does something), its
    images saved beside the card; config -> the row's messages, image parts naming their file."""
    examples = {}
    for config, counts in meta.counts.items():
        if config == "ticks" or not counts["train"]:
            continue
        first = sorted((folder / "data" / config).glob("train-*.parquet"))[0]  # train has rows
        shard = pq.ParquetFile(first)
        said = [c for c in CONVERSATION if c in shard.schema_arrow.names]
        rows = next(shard.iter_batches(batch_size=200, columns=[*said, "images"])).to_pylist()
        row = next((r for r in rows if _shows_something(_answer(r))), rows[0])
        images = [EXAMPLE_PATH.format(config=config, image=k) for k in range(len(row["images"]))]
        for image, rel in zip(row["images"], images, strict=True):
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_bytes(image["bytes"])
        shown = iter(images)
        examples[config] = [
            {
                "role": m["role"],
                "content": [
                    {"type": "image", "text": next(shown)} if part["type"] == "image" else part
                    for part in m["content"]
                ],
            }
            for m in conversation(row)
        ]
    return examples


def _answer(row: dict) -> str:
    return conversation(row)[-1]["content"][0]["text"]


def _images(messages: list[dict]) -> list[str]:
    return [p["text"] for m in messages for p in m["content"] if p["type"] == "image"]


def _example_lines(config: str, messages: list[dict]) -> list[str]:
    """A row as a reader sees it: each turn's text in a block, its images inline."""
    lines = [f"### `{config}`", ""]
    for n, message in enumerate(messages):
        last = n == len(messages) - 1
        lines += [f"**{message['role']}**{' (the answer)' if last else ''}:", ""]
        for part in message["content"]:
            if part["type"] == "image":
                lines += [f"![frame]({part['text']})", ""]
            else:
                lines += ["```", part["text"], "```", ""]
    return lines


def render(
    meta: ReleaseMeta, folder: Path, plots: list[str], examples: dict[str, list[dict]]
) -> str:
    """The whole README.md, from the meta and the data of `folder`."""
    recipe = meta.recipe
    stride = recipe["images"]["stride"]
    lines = [
        "---",
        yaml.safe_dump(front_matter(meta, folder), sort_keys=False, allow_unicode=True).rstrip(),
        "---",
        "",
        f"# {meta.name} v{meta.version}",
        "",
        recipe["card"]["description"]
        or "Minecraft gameplay labelled in several abstracted action "
        "spaces by curate, the same gameplay built the same way in every space.",
        "",
        *(["## About", "", meta.about.strip(), ""] if meta.about else []),
        "## What is inside",
        "",
        "| config | rows (train) | rows (validation) | bytes a row | an hour of gameplay | what |",
        "| --- | --- | --- | --- | --- | --- |",
        *(
            f"| `{c}` | {meta.counts[c]['train']} | {meta.counts[c]['validation']} | "
            f"{_size(size / max(sum(meta.counts[c].values()), 1))} | "
            f"{_size(size * HOUR_TICKS / max(meta.ticks, 1))} | {DESCRIPTIONS[c]} |"
            for c, size in _config_bytes(folder, meta).items()
        ),
        "",
        f"Episodes: {len(meta.episodes['train'])} train, {len(meta.episodes['validation'])} "
        f"validation (assigned by a hash of the episode id, so that with 20 recordings or more "
        f"the split is stable as sources grow); {len(meta.quarantine)} quarantined, "
        f"{len(meta.filtered)} filtered out.",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        f'rows = load_dataset("<this repo or folder>", name="{next(iter(meta.counts))}")',
        "```",
        "",
        f"SFT configs use TRL's vision chat format: {LAYOUT_NOTES[recipe['layout']]} and `images` "
        f"(JPEG, {recipe['images']['width']}x{recipe['images']['height']}, one row every "
        f"{stride} tick(s), {recipe['history']} earlier frame(s) of history). "
        + _action_note(stride)
        + _prompts_note(meta),
        "",
        *_grounding_note(meta),
        "## Action distribution",
        "",
        *(f"![{Path(p).stem}]({p})" for p in plots if p != LOSS_PLOT),
        "",
        "## Examples",
        "",
        "One whole row of each config: the prompt, the frames, the history and the answer.",
        "",
        *(
            line
            for config, messages in examples.items()
            for line in _example_lines(config, messages)
        ),
        "## Validation",
        "",
        *_validation(meta.validation),
        *_label_qa(folder),
        *_view_note(meta),
        "## How it was built",
        "",
        f"- curate {meta.curate_version}; fingerprint `{meta.fingerprint}` (what was asked: "
        f"recipe, labeler versions, inputs, About text, curate's code and the versions of the "
        f"libraries that write the files); content hash "
        f"`{meta.content_hash}` (what was built).",
        f"- Labelers: {', '.join(f'{k} v{v}' for k, v in sorted(meta.labelers.items()))}.",
        f"- Inputs: {len(meta.inputs)} recording(s), each named with its sha256 in "
        f"`meta/release.json`{unfetched(meta)}.",
        *(f"- Quarantined `{q.name}` ({q.code}): {q.reason}" for q in meta.quarantine),
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


def _view_note(meta: ReleaseMeta) -> list[str]:
    """How to see an episode with its labels drawn on its frames (`curate view`)."""
    if not meta.inputs:
        return []
    published = "ticks" in meta.counts
    labels = (
        "the labels shown are this release's `ticks` rows of the episode, with its notes and "
        "QA values (the recording must be the very one it was built from)"
        if published
        else "this release has no `ticks` config, so without `--release` the page labels the "
        "recording afresh with curate's labelers"
    )
    command = f"curate view RECORDING{' --release FOLDER' if published else ''} --out page.html"
    example = meta.inputs[0].name  # `<format><index of its source>/<path under its folder>`
    prefix, rel = example.split("/", 1)
    index = re.sub(r"^\D+", "", prefix)
    return [
        "## View an episode",
        "",
        "Any episode can be seen with its labels drawn on its frames: a page that plays the "
        "recording with the cursor, the grounding point and the crosshair drawn over each frame, "
        "the tick's labels in every space beside it and a timeline of events, GUI stretches and "
        "QA flags, opened from disk in a browser.",
        "",
        "```bash",
        command,
        "```",
        "",
        f"RECORDING is one of the inputs named in `meta/release.json` (`{example}` is `{rel}` "
        f"of the recipe's `sources[{index}]`: under its `path`, or in its download or synth "
        f"cache), FOLDER this release; {labels}.",
        "",
    ]


def _config_bytes(folder: Path, meta: ReleaseMeta) -> dict[str, int]:
    """config -> bytes of its parquet shards."""
    return {c: sum(p.stat().st_size for p in (folder / "data" / c).glob("*.parquet"))
            for c in meta.counts}  # fmt: skip


def _size(n: float) -> str:
    if n < 1000:
        return f"{n:,.0f} B"
    for unit in ("KB", "MB"):
        n /= 1000
        if n < 1000:
            return f"{n:,.1f} {unit}"
    return f"{n / 1000:,.1f} GB"


def _label_qa(folder: Path) -> list[str]:
    """The report of `curate.qa`: each check, its threshold and the episodes it flagged."""
    path = folder / QA_PATH
    if not path.exists():
        return []
    report = json.loads(path.read_text())
    stats = report["stats"]
    episodes = len(stats["noop_share"])
    lines = [
        "## Label QA",
        "",
        "Each recording's labels checked against what its frames show, at build time (a sample "
        "of each video: windows of at most 20 s in all, and the ticks around its GUI changes). "
        "`meta/qa.json` holds every episode's value of each "
        "check, the episodes flagged and the thresholds (the recipe's `qa:`); a check without a "
        "value for an episode (no video, too little camera motion, no GUI change) flags nothing.",
        "",
        "| check | what it measures | flagged when | measured | flagged |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, check in report["checks"].items():
        measured = sum(v is not None for v in check["values"].values())
        lines.append(f"| `{name}` | {CHECKS[name]} | {rule(name, check['threshold'])} | "
                     f"{measured} of {episodes} | {len(check['flagged'])} |")  # fmt: skip
    lines += ["", *(f"> **Warning:** {line}\n" for line in flagged_lines(report))]
    noop = [v for v in stats["noop_share"].values() if v is not None]
    gui = [v for v in stats["gui_share"].values() if v is not None]
    longest = max(stats["longest_noop_run"].values(), default=0)
    lines += [
        f"No-op ticks: {sum(noop) / max(len(noop), 1):.0%} of an episode on average, the longest "
        f"run {longest} ticks; GUI open on {sum(gui) / max(len(gui), 1):.0%} of an episode on "
        "average.",
        "",
    ]
    if set(report["recorders"]) != {"unversioned"}:
        per = (f"{v}: {r['episodes']} episode(s), {sum(map(len, r['flagged'].values()))} flag(s)"
               for v, r in report["recorders"].items())  # fmt: skip
        lines += ["By recorder version: " + "; ".join(per) + ".", ""]
    return lines


def _prompts_note(meta: ReleaseMeta) -> str:
    """Which forms' prompts are the recipe's own (`prompts:`) rather than curate's."""
    if not meta.prompts:
        return ""
    own = ", ".join(f"`{form}`" for form in meta.prompts)
    which = "prompts of {} are" if len(meta.prompts) > 1 else "prompt of {} is"
    return (f" The {which.format(own)} the recipe's own (the top-level `prompts` of "
            "`meta/release.json` holds the text); the other forms use curate's.")  # fmt: skip


def _grounding_note(meta: ReleaseMeta) -> list[str]:
    """How the grounding points were made, and which ticks have none (and so no row)."""
    chart = meta.charts.get("grounding")
    if chart is None:
        return []
    none = chart.counts.get(NONE, 0) / max(meta.ticks, 1)
    return [
        "Grounding points are carried back from each interaction event (a block mined, a mob "
        "killed, an item used, a GUI click) through the recorded camera rotation, and refined on "
        "the frames where the recording has a video (the labeler's `refine`, on by default). "
        f"{none:.0%} of the ticks have no interaction ahead within the labeler's horizon: they "
        "have no grounding, no row in `grounding_action` and `grounding_coa`, and in "
        "`all_in_one` draw their form among the others. A GUI click that crafted nothing is "
        "labelled `slot` (a recording does not say what a slot held); MineStudio rollouts record "
        "no cursor, so their GUI ticks have no grounding.",
        "",
    ]


def _action_note(stride: int) -> str:
    """What the `Action:` line of a row stands for (ACTION_SPACES.md section 2a)."""
    if stride == 1:
        return "Each `Action:` line is the input of the row's tick (50 ms)."
    return (
        f"Each `Action:` line stands for the {stride} ticks from the row's frame on "
        f"({stride * 1000 // FPS} ms): the camera moves summed over them, a key or button on if "
        "it was on in any of them. Replayed tick by tick, the camera is split evenly over the "
        f"{stride} ticks, held keys and buttons are held for all {stride}, and one-shot keys "
        "(inventory, ESC, drop, swapHands, hotbar) act on the first tick only."
    )


METRICS = {
    "exact_action": "exact action match",
    "camera_bins": "camera bins equal",
    "key_f1": "key F1 (mean over keys)",
    "parse_rate": "answers that parse",
    "motion_exact": "motion exact match",
    "grounding_verb": "grounding verb match",
    "grounding_point": "grounding point error (0..999, lower is better)",
}


def _validation(validation: dict | None) -> list[str]:
    """The `## Validation` section: per config a table of every figure beside the baselines',
    the protocol, the gate and the training loss."""
    if not validation:
        return [
            "Not validated yet: no reference-model figures have been written into this release "
            "(`curate validate` trains and evaluates the reference model).",
            "",
        ]
    protocol, gate = validation["protocol"], validation["gate"]
    model = protocol["model"]
    lines = [
        f"A reference model ({model['parameters']:,} parameters: a {model['layers']}-layer "
        f"transformer decoder of width {model['d_model']} over {protocol['image_size'][0]}x"
        f"{protocol['image_size'][1]} frames) trained with curate {protocol['curate_version']} on "
        f"the train split of each config below ({protocol['steps']} steps of "
        f"{protocol['batch_size']} rows, seeds {protocol['seeds']}, on {protocol['device']}) and "
        f"evaluated on its validation split with {protocol['decoding']} decoding, beside three "
        "baselines: always no-op, the most frequent training action, and the row's previous "
        "action. Each figure is [value, 95% interval] from a bootstrap over episodes.",
        "",
    ]
    for config, figs in validation["configs"].items():
        lines += [f"### `{config}`", "", "| figure | model | no-op | most frequent | previous |",
                  "| --- | --- | --- | --- | --- |"]  # fmt: skip
        for metric, name in METRICS.items():
            if metric in figs:
                cells = [
                    _interval(figs[metric].get(p))
                    for p in ("model", "noop", "majority", "previous")
                ]
                lines.append(f"| {name} | {' | '.join(cells)} |")
        lines.append("")
        if not figs["reliable"]:
            lines += [f"Only {figs['episodes']} validation episode(s): the intervals are not "
                      "reliable (5 or more are needed).", ""]  # fmt: skip
    verdict = "passed" if gate["passed"] else "failed: " + "; ".join(gate["failures"])
    lines += [
        f"Gate (the model's exact action match above {', '.join(gate['beat'])} with "
        f"non-overlapping intervals{', minimums ' + str(gate['min']) if gate['min'] else ''}): "
        f"{verdict}.",
        "",
        f"![training loss]({LOSS_PLOT})",
        "",
        *_closed_loop(validation.get("closed_loop")),
    ]
    return lines


def _closed_loop(closed: dict | None) -> list[str]:
    """The `### Closed loop` part: the protocol, then success rates per task and overall."""
    if closed is None:  # validated by a curate before closed-loop evaluation
        return []
    if "skipped" in closed:
        return ["### Closed loop", "", f"Not played: {closed['skipped']}.", ""]
    p = closed["protocol"]
    forms = p["forms"]
    lines = [
        "### Closed loop",
        "",
        f"The `{p['config']}` model of seed {p['model_seed']} plays curate's world "
        f"(`curate/World-v0`): {p['episodes_per_task']} episodes of each task, on seeds "
        f"{p['seeds'][0]} to {p['seeds'][-1]} (no training episode was recorded from them), at "
        f"most {p['step_limit']} ticks each, one decision every {p['decision_every_ticks']} "
        f"tick(s) from frames as this release shows them ({p['frames']}) with {p['history']} "
        f"earlier frame(s) and answers, {p['decoding']} decoding. Beside it: a random policy "
        "drawing `Action:` lines from the training rows, and the scripted player that recorded "
        "the data (the ceiling). Success rate [value, 95% Wilson interval], and the mean ticks "
        f"to success; {closed['decisions_per_second']} model decisions per second. The frames "
        "come straight from the world (the release's went through the recordings' H.264 "
        "first), and the prompt names the episode's task, where a training row names the next "
        "event (for a crafting task, its first step).",
        "",
    ]
    if len(forms) > 1:
        best = p["model_form"]
        lines += [f"It answers in each form it trained on ({', '.join(forms)}); the model's "
                  f"figures are its best form's on these episodes, `{best}`.", ""]  # fmt: skip
    head = ["task", "model", "random", "scripted", "ticks to success (model / random / scripted)"]
    if len(forms) > 1:
        head[4:4] = forms
    lines += ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for name, part in [*closed["tasks"].items(), ("**overall**", closed["overall"])]:
        steps = " / ".join("-" if part["steps"][k] is None else f"{part['steps'][k]:g}"
                           for k in ("model", "random", "scripted"))  # fmt: skip
        cells = [name, *(_interval(part[k]) for k in ("model", "random", "scripted"))]
        if len(forms) > 1:
            cells += [_interval(part["forms"][f]) for f in forms]
        lines.append("| " + " | ".join([*cells, steps]) + " |")
    return [*lines, ""]


def _interval(figure: list[float] | None) -> str:
    if figure is None:
        return "n/a"  # the baseline has no answer of that kind (no previous motion line)
    value, lo, hi = figure
    return f"{value:.3f} [{lo:.3f}, {hi:.3f}]"


def plot_loss(validation: dict, folder: Path) -> str:
    """The training loss of each validated config."""
    fig = Figure(figsize=(7, 3), dpi=100)
    ax = fig.subplots()
    for config, figs in validation["configs"].items():
        steps, loss = zip(*figs["loss"], strict=True)
        ax.plot(steps, loss, label=config)
    ax.set_xlabel("step", fontsize=8)
    ax.set_ylabel("training loss", fontsize=8)
    ax.set_yscale("log")
    ax.legend(fontsize=8)
    ax.tick_params(labelsize=8)
    fig.tight_layout()
    (folder / LOSS_PLOT).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(folder / LOSS_PLOT, format="png", metadata={"Software": None})
    return LOSS_PLOT


def unfetched(meta: ReleaseMeta) -> str:
    """The card's word on inputs an index listed but the build could not fetch."""
    missing = sum(i.sha256 is None for i in meta.inputs)
    return f" ({missing} listed by an index but not fetched: no sha256)" if missing else ""
