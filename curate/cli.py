"""The `curate` command: parses, calls, prints. Every command's work lives in the package."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from curate.contract import FPS

app = typer.Typer(
    help="Turn raw Minecraft gameplay into versioned Hugging Face datasets.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)


def fail(message: str) -> typer.Exit:
    """One line on stderr and exit status 2: the contract for bad input."""
    err.print("[bold red]error:[/]", escape(message), highlight=False, soft_wrap=True)
    return typer.Exit(2)


@app.command()
def synth(
    out: Annotated[
        Path, typer.Argument(help="Folder to write <id>.mp4, <id>.jsonl, <id>.truth.json")
    ],
    episodes: Annotated[int, typer.Option(min=1, help="Number of recordings")] = 2,
    seconds: Annotated[float, typer.Option(min=0.5, help="Length of each recording")] = 30.0,
    seed: Annotated[int, typer.Option(help="Seed: same seed, same bytes")] = 0,
) -> None:
    """Write VPT-format recordings of the built-in world, with ground truth for every label."""
    from curate.world.record import synthesize

    total = episodes * round(seconds * FPS)
    with Progress(*_columns(), console=err, transient=True) as progress:
        task = progress.add_task("recording frames", total=total)
        paths = synthesize(
            out,
            episodes=episodes,
            seconds=seconds,
            seed=seed,
            progress=lambda done: progress.update(task, completed=done),
        )
    err.print(f"wrote {len(paths)} recording(s) to {out}")


@app.command()
def label(
    space: Annotated[str, typer.Argument(help="env | vpt | text | motion | instruction")],
    source: Annotated[Path, typer.Argument(help="A VPT .jsonl or a MineStudio rollout folder")],
    mode: Annotated[str, typer.Option(help="text: compact | reserved")] = "compact",
    bins: Annotated[int, typer.Option(help="vpt: camera bins, 11 or 21")] = 11,
    out: Annotated[
        Path | None, typer.Option(help="Write JSON lines here instead of stdout")
    ] = None,
) -> None:
    """Per-tick labels of one recording as JSON lines: {"tick": i, ...}."""
    from curate.labelers import labeler_class
    from curate.readers import RecordingError, read_episode

    try:
        cls = labeler_class(space)
    except KeyError as exc:
        raise fail(exc.args[0]) from None
    options = {"text": {"mode": mode}, "vpt": {"bins": bins}}.get(space, {})
    try:
        labeler = cls(**options)
        episode = read_episode(source)
    except (RecordingError, ValueError) as exc:
        raise fail(str(exc)) from None
    import polars as pl

    rows = pl.concat(
        [pl.from_arrow(episode.ticks).select("tick"), labeler.fields(labeler.label(episode))],
        how="horizontal",
    )
    if out is None:
        sys.stdout.write(rows.write_ndjson())
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    rows.write_ndjson(partial)
    partial.replace(out)


@app.command()
def build(
    recipe: Annotated[Path, typer.Argument(help="Recipe YAML file")],
    out: Annotated[
        Path | None, typer.Option(help="Release folder [default: releases/NAME-VERSION]")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="Episodes built in parallel")] = 1,
    executor: Annotated[str, typer.Option(help="local")] = "local",
    strict: Annotated[bool, typer.Option(help="Fail on the first quarantined recording")] = False,
) -> None:
    """Build the release a recipe declares: parquet configs, dataset card, meta/release.json."""
    from curate.release.build import build as run_build

    with Progress(*_columns(), console=err, transient=True) as progress:
        try:
            report = run_build(
                recipe,
                out,
                workers=workers,
                executor=executor,
                strict=strict,
                report=_Bars(progress),
            )
        except (ValueError, OSError, RuntimeError) as exc:  # recipe, input, disk, worker errors
            raise fail(" ".join(str(exc).split())) from None
    meta = report.meta
    if report.reused:
        err.print(f"{report.folder} is already built with this fingerprint; nothing to do")
    rows = ", ".join(f"{c} {sum(s.values())}" for c, s in meta.counts.items())
    err.print(
        f"built {report.folder}: {rows} rows; {len(meta.quarantine)} quarantined, "
        f"{len(meta.filtered)} filtered"
    )
    for q in meta.quarantine:
        err.print(f"  quarantined {q.name}: {q.reason}", highlight=False, markup=False)


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
def push(
    folder: Annotated[Path, typer.Argument(help="A release folder built by curate build")],
    repo: Annotated[str, typer.Option(help="Hub dataset repo, ORG/NAME")],
    private: Annotated[bool, typer.Option(help="Create the repo private")] = False,
) -> None:
    """Upload a release to the Hub and tag it v<version> (tags never move). Honours HF_ENDPOINT
    and HF_TOKEN."""
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
        result = run_push(folder, repo, private=private)
    except PushError as exc:
        raise fail(str(exc)) from None
    err.print(f"pushed {result.url} (commit {result.commit}, tag {result.tag})")


class _Bars:
    """A build's stages as rich progress bars, one per stage."""

    def __init__(self, progress: Progress) -> None:
        self.progress, self.task = progress, None

    def start(self, what: str, total: int | None) -> None:
        self.task = self.progress.add_task(what, total=total)

    def update(self, done: int) -> None:
        self.progress.update(self.task, completed=done)


def _columns():
    return (
        *Progress.get_default_columns()[:2],
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )


if __name__ == "__main__":
    app()
