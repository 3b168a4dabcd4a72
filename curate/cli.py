"""The `curate` command: parses, calls, prints. Every command's work lives in the package."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from curate.contract import FPS

app = typer.Typer(
    help="Turn raw Minecraft gameplay into versioned Hugging Face datasets.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, soft_wrap=True)  # a log line is never cut at 80 columns


def fail(message: str) -> typer.Exit:
    """One line on stderr and exit status 2: the contract for bad input."""
    err.print("[bold red]error:[/]", escape(" ".join(message.split())), highlight=False)
    return typer.Exit(2)


@app.command()
def synth(
    out: Annotated[
        Path, typer.Argument(help="Folder to write <id>.mp4, <id>.jsonl, <id>.truth.json")
    ],
    episodes: Annotated[int, typer.Option(min=1, help="Number of recordings")] = 2,
    seconds: Annotated[float, typer.Option(min=0.5, help="Length of each recording")] = 30.0,
    seed: Annotated[int, typer.Option(help="Seed: same seed, same bytes")] = 0,
    tasks: Annotated[
        str | None,
        typer.Option(help="Tasks every episode plays in turn: mine_block:oak_log,craft_item:stick"),
    ] = None,
) -> None:
    """Write VPT-format recordings of the built-in world, with ground truth for every label."""
    from curate.world.record import synthesize
    from curate.world.tasks import check_tasks

    try:
        task_list = check_tasks(t.strip() for t in tasks.split(",")) if tasks else None
    except ValueError as exc:
        raise fail(str(exc)) from None
    with progress() as report:
        report.start("recording frames", episodes * round(seconds * FPS))
        paths = synthesize(out, episodes, seconds, seed, report.update, task_list)
    err.print(f"wrote {len(paths)} recording(s) to {out}", highlight=False)


@app.command()
def label(
    space: Annotated[
        str, typer.Argument(help="env | vpt | text | motion | instruction | grounding")
    ],
    source: Annotated[Path, typer.Argument(help="A VPT .jsonl or a MineStudio rollout folder")],
    mode: Annotated[str | None, typer.Option(help="text: reserved (default) | compact")] = None,
    bins: Annotated[int | None, typer.Option(help="vpt: camera bins, 11 (default) or 21")] = None,
    horizon: Annotated[
        int | None,
        typer.Option(help="grounding: ticks carried back before a world event (40)"),
    ] = None,
    refine: Annotated[
        bool | None,
        typer.Option("--refine/--no-refine", help="grounding: refine points on the frames"),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write JSON lines here instead of stdout")
    ] = None,
) -> None:
    """Per-tick labels of one recording as JSON lines: {"tick": i, ...}."""
    from pydantic import ValidationError

    from curate.episode import as_frame
    from curate.labelers import LabelerError, labeler_class
    from curate.readers import RecordingError
    from curate.readers.video import read_frames

    given = {"mode": mode, "bins": bins, "horizon": horizon, "refine": refine}
    try:
        cls = labeler_class(space)
        wrong = [
            f"--{k}" for k, v in given.items() if v is not None and k not in cls.Params.model_fields
        ]
        if wrong:
            raise fail(f"{' '.join(wrong)} is not an option of the {space} labeler")
        params = cls.Params.model_validate({k: v for k, v in given.items() if v is not None})
    except LabelerError as exc:
        raise fail(str(exc)) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        raise fail(f"--{first['loc'][0]}: {first['msg']}") from None
    labeler = cls(params)
    try:
        episode = _episode_to_label(source, labeler.needs_frames)
        reader = labeler.frame_reader(episode) if labeler.needs_frames else None
        if space == "grounding" and getattr(labeler.params, "refine", False) and not episode.frames:
            raise RecordingError(
                source.with_suffix(".mp4"),
                "missing: grounding refines its points on the frames (--no-refine carries them "
                "by the camera alone)",
                code="missing_video",
            )
        if reader is not None and episode.frames is not None:
            read_frames(episode.frames, [reader])
        labels = labeler.label(episode, reader)
    except RecordingError as exc:
        raise fail(str(exc)) from None
    import polars as pl

    rows = pl.concat(
        [as_frame(episode.ticks).select("tick"), labeler.output(labels)], how="horizontal"
    )
    if out is None:
        sys.stdout.write(rows.write_ndjson())
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    rows.write_ndjson(partial)
    partial.replace(out)


def _episode_to_label(source: Path, needs_frames: bool):
    """The episode of `source`; for a space that reads no frames, a VPT video that cannot be
    read is set aside with a warning (the actions are labelled alone) instead of failing."""
    from curate.readers import RecordingError, read_episode
    from curate.readers.vpt import read_vpt

    try:
        return read_episode(source)
    except RecordingError as exc:
        if needs_frames or exc.code != "bad_video" or exc.path.suffix != ".mp4":
            raise
        err.print(f"warning: {exc}; labelled from the actions alone", highlight=False, markup=False)
        return read_vpt(source, video=False)


@app.command()
def build(
    recipe: Annotated[Path, typer.Argument(help="Recipe YAML file")],
    out: Annotated[
        Path | None, typer.Option(help="Release folder [default: releases/NAME-VERSION]")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="Episodes built in parallel")] = 1,
    executor: Annotated[
        str, typer.Option(help="local (this machine) | ray (pip install 'curate[ray]')")
    ] = "local",
    address: Annotated[
        str | None,
        typer.Option(help="ray: the cluster's head, HOST:PORT or auto [default: start one here]"),
    ] = None,
    strict: Annotated[
        bool,
        typer.Option(
            help="Fail when a recording is quarantined or the label QA flags an episode (what "
            "was built is kept)"
        ),
    ] = False,
) -> None:
    """Build the release a recipe declares: parquet configs, dataset card, meta/release.json.

    An interrupted build resumes where it stopped when the same command runs again."""
    from curate.executors import BuildError
    from curate.labelers import LabelerError
    from curate.release.build import build as run_build
    from curate.release.recipe import RecipeError

    start = time.monotonic()
    try:
        with (
            _interruptible("run the same command again to resume where it stopped"),
            progress() as report,
        ):
            result = run_build(recipe, out, workers=workers, executor=executor, address=address,
                               strict=strict, report=report)  # fmt: skip
    except (RecipeError, LabelerError, BuildError, OSError) as exc:  # not a bug: say what to do
        raise fail(str(exc)) from None
    meta = result.meta
    if result.reused:
        err.print(f"{result.folder} is already built with this fingerprint; nothing to do")
        return
    rows = ", ".join(f"{c} {sum(s.values())}" for c, s in meta.counts.items())
    episodes = {s: len(ids) for s, ids in meta.episodes.items()}
    share = episodes["validation"] / max(sum(episodes.values()), 1)
    asked = meta.recipe["validation"]
    run = result.run
    rates = "" if run is None else f"; {'episodes built at ' if run.episodes else ''}{run.rates()}"
    err.print(
        f"built {result.folder} in {time.monotonic() - start:.1f} s: {rows} rows; episodes "
        f"{episodes['train']} train, {episodes['validation']} validation ({share:.0%} of them, "
        f"asked {asked:.0%}); {len(meta.quarantine)} quarantined, {len(meta.filtered)} "
        f"filtered{rates}",
        highlight=False,
    )
    for q in meta.quarantine:
        err.print(f"  quarantined {q.name}: {q.reason}", highlight=False, markup=False)
    if asked and not episodes["validation"]:
        err.print(
            "warning: no validation episode was built (those chosen were quarantined or filtered "
            "out): fix them, or raise `validation`",
            highlight=False,
        )


def _training() -> None:
    """The reference model's extra, or an error that says how to install it."""
    import importlib.util

    missing = [m for m in ("torch", "safetensors") if importlib.util.find_spec(m) is None]
    if missing:
        raise fail(f"this command needs {' and '.join(missing)}: pip install 'curate[train]'")


def _trained(report: _Bars | _Lines, what: str, steps: int):
    """A training's progress on a reporter: step, loss and samples per second."""
    report.start(what, steps)
    return lambda step, loss, rate: report.update(step, f"loss {loss:.3f}, {rate:.0f} samples/s")


@contextmanager
def _interruptible(rerun: str) -> Iterator[None]:
    """Ctrl-C says what a rerun does instead of printing a traceback."""
    try:
        yield
    except KeyboardInterrupt:
        err.print(f"interrupted: {rerun}")
        raise typer.Exit(130) from None


@app.command()
def train(
    folder: Annotated[Path, typer.Argument(help="A release folder")],
    config: Annotated[str, typer.Option(help="The SFT config to train on")],
    steps: Annotated[int, typer.Option(min=1, help="Optimiser steps")] = 500,
    out: Annotated[
        Path | None, typer.Option(help="Checkpoint folder [default: checkpoints/NAME-CONFIG-sSEED]")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed: on one CPU, same seed, same weights")] = 0,
) -> None:
    """Train the reference model on the train split of one config of a release."""
    _training()
    from curate.reference.train import TrainOptions
    from curate.reference.train import train as run_train
    from curate.release.meta import ReleaseMeta

    try:
        meta = ReleaseMeta.read(folder)
    except (OSError, ValueError) as exc:
        raise fail(str(exc)) from None
    if config not in meta.counts or config == "ticks":
        sft = ", ".join(c for c in meta.counts if c != "ticks") or "none"
        raise fail(f"{folder} has no SFT config {config!r}; it has: {sft}")
    out = out or Path("checkpoints") / f"{meta.name}-{config}-s{seed}"
    with _interruptible("nothing was saved; run the command again"), progress() as report:
        follow = _trained(report, f"training {config}", steps)
        try:
            checkpoint = run_train(folder, config, TrainOptions(steps=steps, seed=seed),
                                   progress=follow)  # fmt: skip
        except ValueError as exc:
            raise fail(str(exc)) from None
    checkpoint.save(out)
    err.print(
        f"trained {checkpoint.model.parameters_count():,} parameters on {config} (loss "
        f"{checkpoint.loss[-1][1]:.3f}, {checkpoint.samples_per_second:.0f} samples/s on "
        f"{checkpoint.device}); checkpoint in {out}",
        highlight=False,
    )


@app.command()
def evaluate(
    checkpoint: Annotated[Path, typer.Argument(help="A checkpoint folder of curate train")],
    folder: Annotated[Path, typer.Argument(help="The release folder it was trained on")],
    episodes: Annotated[
        int, typer.Option(min=0, help="Closed loop: episodes per task in curate's world (0: none)")
    ] = 5,
    max_steps: Annotated[int, typer.Option(min=1, help="Closed loop: ticks per episode")] = 300,
) -> None:
    """Offline figures of a checkpoint on the validation rows of every config it can answer,
    beside three baselines; then, for a release of curate's world, the model playing it beside
    a random policy and the scripted player."""
    _training()
    from curate.reference.evaluate import PREDICTORS, answerable, train_answers
    from curate.reference.evaluate import evaluate as run_evaluate
    from curate.reference.play import play_release
    from curate.reference.train import Checkpoint, default_device
    from curate.release.meta import ReleaseMeta

    try:
        trained = Checkpoint.load(checkpoint, default_device())
        meta = ReleaseMeta.read(folder)
        if trained.release["fingerprint"] != meta.fingerprint:
            err.print(f"note: trained on {trained.release['name']} v{trained.release['version']}, "
                      f"another release than {meta.name} v{meta.version}")  # fmt: skip
        configs = answerable(trained, meta.counts, meta.recipe["mixture"])
        if not configs:
            raise ValueError(f"{folder} has no validation rows the checkpoint can answer")
        with _interruptible("run the command again"):
            results = {c: run_evaluate(trained, folder, config=c) for c in configs}
            same = trained.release["fingerprint"] == meta.fingerprint
            closed = (
                play_release(trained, meta.recipe, train_answers(folder, trained.config),
                             episodes, max_steps, say=lambda line: err.print(line, highlight=False),
                             prompts=meta.prompts)
                if episodes and same else None
            )  # fmt: skip
            if episodes and not same:
                err.print("closed loop skipped: its protocol (frames, seeds) is the release's "
                          "the checkpoint was trained on")  # fmt: skip
    except (OSError, ValueError) as exc:
        raise fail(str(exc)) from None
    for config, result in results.items():
        figures = result.figures
        unreliable = "" if figures["reliable"] else " (too few: the intervals are not reliable)"
        print(f"\n{config}: {figures['episodes']} validation episodes{unreliable}")
        print(f"{'figure':<14}" + "".join(f"{p:>24}" for p in PREDICTORS))
        for metric, by in figures.items():
            if isinstance(by, dict):
                cells = ["{:.3f} [{:.3f}, {:.3f}]".format(*by[p]) if p in by else "n/a"
                         for p in PREDICTORS]  # fmt: skip
                print(f"{metric:<14}" + "".join(f"{c:>24}" for c in cells))
    if closed is not None:
        _print_closed_loop(closed)


def _print_closed_loop(closed: dict) -> None:
    """The closed-loop success rates of `curate evaluate`, per task and overall."""
    if "skipped" in closed:
        print(f"\nclosed loop: not played: {closed['skipped']}")
        return
    p = closed["protocol"]
    print(f"\nclosed loop: {p['episodes_per_task']} episodes per task, seeds {p['seeds'][0]}.."
          f"{p['seeds'][-1]}, at most {p['step_limit']} ticks; the model answers as "
          f"{p['model_form']}; {closed['decisions_per_second']} decisions/s")  # fmt: skip
    policies = ("model", "random", "scripted")
    print(f"{'success':<28}" + "".join(f"{k:>24}" for k in policies))
    for name, part in [*closed["tasks"].items(), ("overall", closed["overall"])]:
        cells = ["{:.3f} [{:.3f}, {:.3f}]".format(*part[k]) for k in policies]
        print(f"{name:<28}" + "".join(f"{c:>24}" for c in cells))
    for form, rate in closed["overall"].get("forms", {}).items():
        print(f"  answering as {form}: " + "{:.3f} [{:.3f}, {:.3f}]".format(*rate))
    if closed["overall"]["scripted"][0] < 0.9:
        err.print("[yellow]note:[/] the scripted player solved under 90% of the episodes: "
                  "raise --max-steps")  # fmt: skip


@app.command()
def validate(
    folder: Annotated[Path, typer.Argument(help="A release folder")],
    recipe: Annotated[
        Path | None,
        typer.Option(help="Take the `validate:` section from this recipe [default: the build's]"),
    ] = None,
) -> None:
    """Train and evaluate the reference model as the recipe's `validate:` section says, write the
    figures into meta/release.json and the card; exit 1 when the gate fails."""
    _training()
    from curate.reference.evaluate import headline
    from curate.reference.validate import validate as run_validate
    from curate.release.recipe import RecipeError

    rerun = "the release is as it was; run the command again"
    try:
        with _interruptible(rerun), progress() as report:
            result = run_validate(
                folder,
                recipe=recipe,
                say=lambda line: err.print(line, highlight=False),
                progress=lambda what, steps: _trained(report, what, steps),
            )
    except (OSError, ValueError, RecipeError) as exc:
        raise fail(str(exc)) from None
    for config, figs in result.meta.validation["configs"].items():  # type: ignore[index]
        metric = headline(figs)
        value, lo, hi = figs[metric]["model"]
        err.print(f"{config}: {metric} {value:.3f} [{lo:.3f}, {hi:.3f}]", highlight=False)
    closed = result.meta.validation.get("closed_loop") or {}  # type: ignore[union-attr]
    if "overall" in closed:
        rates = ", ".join("{} {:.2f} [{:.2f}, {:.2f}]".format(k, *closed["overall"][k])
                          for k in ("model", "random", "scripted"))  # fmt: skip
        err.print(f"closed loop success: {rates}", highlight=False)
    if not result.passed:
        for failure in result.failures:
            err.print(f"[red]gate:[/] {escape(failure)}", highlight=False)
        raise typer.Exit(1)
    err.print(f"[green]ok[/] {folder}: validated; figures in meta/release.json and the card")


@app.command()
def verify(folder: Annotated[Path, typer.Argument(help="A release folder")]) -> None:
    """Reload every config with datasets, check the card, counts and every file's hash."""
    from curate.release.verify import verify as run_verify

    problems = run_verify(folder)
    for problem in problems:
        err.print("[red]x[/]", escape(problem), highlight=False)
    if problems:
        raise typer.Exit(1)
    err.print(f"[green]ok[/] {folder}: every config loads, counts and hashes match")


@app.command()
def view(
    source: Annotated[
        Path, typer.Argument(help="A VPT .jsonl (its .mp4 beside it) or a MineStudio rollout")
    ],
    release: Annotated[
        Path | None,
        typer.Option(help="Show this release's labels of the recording, its notes and QA values"),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="The page (NAME.html), or a folder for it [default: <episode id>.html]"),
    ] = None,
) -> None:
    """A page that plays the recording with every label drawn on its frames; open it from disk."""
    from curate.readers import RecordingError, episode_id_of
    from curate.view import ViewError
    from curate.view import view as run_view

    if out is None or out.suffix not in (".html", ".htm"):  # a folder to write the page in
        out = (out or Path()) / (episode_id_of(source) + ".html")
    try:
        with progress() as report:
            viewed = run_view(source, out, release, report)
    except (RecordingError, ViewError) as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"cannot write {exc.filename or out}: {exc.strerror or exc}") from None
    beside = f" and {viewed.video} (keep the two together)" if viewed.video else ""
    err.print(f"wrote {viewed.page}{beside}: {viewed.ticks} ticks, labels from {viewed.origin}; "
              "open it in a browser", highlight=False)  # fmt: skip


export = typer.Typer(help="Write a release, or a recipe's recordings, as another trainer reads "
                      "them.", no_args_is_help=True)  # fmt: skip
app.add_typer(export, name="export")


@export.command("openha")
def export_openha(
    release: Annotated[Path, typer.Argument(help="A release folder built by curate build")],
    out: Annotated[Path, typer.Argument(help="The folder to write (must not exist)")],
    openha_strings: Annotated[
        bool, typer.Option(help="Answers in OpenHA's strings: each line ends with a space")
    ] = False,
    image_root: Annotated[
        str,
        typer.Option(
            help="Prefix of every image_path, e.g. the folder OUT will be read from "
            "[default: paths relative to OUT]"
        ),
    ] = "",
) -> None:
    """A release's SFT rows as OpenHA's released datasets hold them, for OpenHA's scripts."""
    from curate.exports.openha import export_openha as run_export

    if out.exists():
        raise fail(f"{out} exists: export to a new folder")
    from curate.exports import ExportError

    try:
        counts = run_export(release, out, openha_strings, image_root)
    except (OSError, ExportError) as exc:
        raise fail(str(exc)) from None
    rows = ", ".join(f"{c} {sum(s.values())}" for c, s in counts.items())
    err.print(f"exported {release} to {out}: {rows} rows (splits train and valid)")


@export.command("lerobot")
def export_lerobot(
    recipe: Annotated[Path, typer.Argument(help="A recipe YAML file")],
    out: Annotated[Path, typer.Option(help="The folder to write (must not exist)")],
) -> None:
    """The recipe's recordings as a LeRobot v3 dataset: video, action and state vectors, tasks."""
    from curate.exports import ExportError
    from curate.exports.lerobot import export_lerobot as run_export
    from curate.labelers import LabelerError
    from curate.release.recipe import RecipeError

    if out.exists():
        raise fail(f"{out} exists: export to a new folder")
    try:
        with progress() as report:
            done = run_export(recipe, out, report)
    except (OSError, ExportError, RecipeError, LabelerError) as exc:
        raise fail(str(exc)) from None
    err.print(f"exported {done.episodes} episodes, {done.frames} frames to {out}")
    for name, why in done.left_out.items():
        err.print(f"  left out {name}: {escape(why)}", highlight=False)


@app.command()
def push(
    folder: Annotated[Path, typer.Argument(help="A release folder built by curate build")],
    repo: Annotated[str, typer.Option(help="Hub dataset repo, ORG/NAME")],
    private: Annotated[bool, typer.Option(help="Create the repo private")] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Push even when the repo's main holds a release of another name, or its"
            " newest v* tag is a higher version (an existing tag is still never moved)",
        ),
    ] = False,
) -> None:
    """Upload a release to the Hub and tag it v<version> (tags never move). Honours HF_ENDPOINT
    and HF_TOKEN. Refuses, unless --force, to replace a release of another name on the repo's
    main or to push a version lower than the repo's newest v* tag."""
    from curate.release.meta import ReleaseMeta
    from curate.release.push import PushError
    from curate.release.push import push as run_push
    from curate.release.verify import check_files

    try:
        problems = check_files(folder, ReleaseMeta.read(folder))
    except (OSError, ValueError) as exc:
        raise fail(str(exc)) from None
    if problems:
        raise fail(f"{folder} differs from its meta/release.json ({problems[0]}); rebuild it")
    try:
        result = run_push(folder, repo, private=private, force=force)
    except PushError as exc:
        raise fail(str(exc)) from None
    err.print(f"pushed {result.url} (commit {result.commit}, tag {result.tag})")


class _Bars:
    """Progress on a terminal: one rich bar per stage."""

    def __init__(self, bars: Progress) -> None:
        self.bars, self.task, self.what = bars, TaskID(0), ""

    def start(self, what: str, total: int | None) -> None:
        self.what, self.task = what, self.bars.add_task(what, total=total)

    def update(self, done: int, note: str = "") -> None:
        what = f"{self.what} ({note})" if note else self.what
        self.bars.update(self.task, completed=done, description=what)


class _Lines:
    """Progress in a log (no terminal): a plain line when a stage starts, then every few
    seconds, and where it ended."""

    EVERY = 10.0  # seconds

    def __init__(self) -> None:
        self.what, self.last, self.shown, self.done, self.note = "", 0.0, -1, 0, ""
        self.total: int | None = None

    def start(self, what: str, total: int | None) -> None:
        self.finish()
        self.what, self.total, self.done, self.note = what, total, 0, ""
        self._line()

    def update(self, done: int, note: str = "") -> None:
        self.done, self.note = done, note
        if time.monotonic() - self.last >= self.EVERY or done == self.total:
            self._line()

    def finish(self) -> None:
        """The last count of the stage, when no line showed it yet."""
        if self.what and self.shown != self.done:
            self._line()

    def _line(self) -> None:
        self.last, self.shown = time.monotonic(), self.done
        of = f"/{self.total}" if self.total is not None else ""
        note = f" ({self.note})" if self.note else ""
        print(f"{self.what}: {self.done}{of}{note}", file=sys.stderr, flush=True)


@contextmanager
def progress() -> Iterator[_Bars | _Lines]:
    """Bars on a terminal, plain lines in a log."""
    if not err.is_terminal:
        lines = _Lines()
        yield lines
        lines.finish()
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=err, transient=True) as bars:
        yield _Bars(bars)


if __name__ == "__main__":
    app()
