"""The `curate` command: parses, calls, prints. Every command's work lives in the package."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

app = typer.Typer(
    help="Turn raw Minecraft gameplay into versioned Hugging Face datasets.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)


def fail(message: str) -> typer.Exit:
    """One line on stderr and exit status 2: the contract for bad input."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
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

    total = episodes * round(seconds * 20)
    columns = (*Progress.get_default_columns()[:2], BarColumn(), MofNCompleteColumn(),
               TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("recording frames", total=total)
        paths = synthesize(
            out, episodes=episodes, seconds=seconds, seed=seed,
            progress=lambda n: progress.advance(task, n),
        )  # fmt: skip
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
        episode = read_episode(source, with_frames=cls.needs_frames)
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
    partial = out.with_name(out.name + ".partial")
    rows.write_ndjson(partial)
    partial.replace(out)


if __name__ == "__main__":
    app()
