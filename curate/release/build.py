"""`curate build`: a recipe in, a release folder out.

    plan (recipe, recordings, fingerprint) -> per-episode step on an executor -> shards, card

The folder is written aside (`<out>.partial`) and renamed when complete, so a release folder
never exists half-written; the staging folder keeps each finished episode's parts and marker, so
a build interrupted for any reason resumes where it stopped.
"""

from __future__ import annotations

import errno
import json
import shutil
from dataclasses import dataclass
from importlib.metadata import version as package_version
from pathlib import Path

from curate.executors import BuildError, make_executor
from curate.formats import chat
from curate.hashing import sha256_file
from curate.qa import QA_PATH, flagged_lines, qa_report
from curate.release import card
from curate.release.meta import SPLITS, ChartCounts, Excluded, ReleaseMeta, content_hash
from curate.release.plan import Plan, plan
from curate.release.progress import Counter, Reporter, Throughput
from curate.release.recipe import Recipe, RecipeError
from curate.release.step import (
    EpisodeResult,
    EpisodeTask,
    build_episode,
    ticks_schema_of,
    work_folder,
)
from curate.release.writer import write_config

FINGERPRINT_FILE = "FINGERPRINT"


@dataclass
class BuildReport:
    folder: Path
    meta: ReleaseMeta
    reused: bool = False  # the release already existed with this fingerprint
    run: Throughput | None = None  # what this run built, and how fast


def build(
    recipe_path: Path | str,
    out: Path | str | None = None,
    *,
    workers: int = 1,
    executor: str = "local",
    address: str | None = None,
    strict: bool = False,
    report: Reporter | None = None,
) -> BuildReport:
    """Build the release a recipe declares; see the module docstring for the flow."""
    try:
        return _build(recipe_path, out, workers, executor, address, strict, report)
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        raise BuildError(
            f"no space left on the disk ({exc}): free space where --out is (or in the temp "
            "folder, for large frame spools) and rerun the same command; the episodes built so "
            "far are kept and resume"
        ) from exc


def _build(
    recipe_path: Path | str,
    out: Path | str | None,
    workers: int,
    executor: str,
    address: str | None,
    strict: bool,
    report: Reporter | None,
) -> BuildReport:
    runner = make_executor(executor, workers, address)  # a wrong option fails before any work
    the_plan = plan(Path(recipe_path), report)
    recipe = the_plan.recipe
    out = Path(out) if out is not None else Path("releases") / f"{recipe.name}-{recipe.version}"
    if out.exists():
        try:
            existing = ReleaseMeta.read(out)
        except (OSError, ValueError):
            raise RecipeError(
                f"{out} exists and is not a release folder this curate reads: choose another --out"
            ) from None
        if existing.fingerprint == the_plan.fingerprint:
            return BuildReport(out, existing, reused=True)
        raise RecipeError(
            f"{out} holds another build (fingerprint {existing.fingerprint[:12]}); remove it, or "
            "build to another --out, or bump `version`"
        )
    staging = staging_folder(out).absolute()
    if staging.exists() and _assembled(staging, the_plan.fingerprint):
        _publish(staging, out)  # killed after its assembly: only the tidying was left
        return BuildReport(out, ReleaseMeta.read(out))
    if staging.exists() and _read(staging / FINGERPRINT_FILE) != the_plan.fingerprint:
        if not (staging / FINGERPRINT_FILE).exists():
            raise RecipeError(
                f"{staging} exists and was not left by a curate build: curate removes only "
                "what it made. Move it away, or build to another --out"
            )
        _remove(staging)  # an interrupted build of something else: nothing to resume
    staging.mkdir(parents=True, exist_ok=True)
    (staging / FINGERPRINT_FILE).write_text(the_plan.fingerprint)

    tasks = [
        EpisodeTask(
            p.recording.name,
            p.recording.root,
            p.recording.rel,
            p.split,
            staging,
            recipe,
            video=p.video,
            task=p.task,
            stamp=p.recording.stamp,
            prompts=the_plan.prompts,
        )  # fmt: skip
        for p in the_plan.recordings
    ]
    counter = Counter(report, "building episodes", len(tasks))
    run = Throughput()

    def done(result: EpisodeResult, resumed: bool) -> None:
        run.add(result.ticks, result.frames, resumed)
        counter.add(1, run.rates())

    results = runner.run(build_episode, tasks, EpisodeResult, done)
    run.stop()
    outcome = _outcome(the_plan, _deduplicate(results))
    problems = outcome.quarantine
    kept = f"the episodes built so far are kept in {staging}"
    if strict and problems:
        raise RecipeError(
            f"--strict: {len(problems)} recording(s) quarantined: "
            + "; ".join(f"{p.name}: {p.reason}" for p in problems)
            + f". Fix them, or run again without --strict to build the rest ({kept})"
        )
    inputs = len(the_plan.inputs)
    if len(problems) > recipe.max_quarantined * inputs:
        raise RecipeError(
            f"{len(problems)} of {inputs} recordings ({len(problems) / inputs:.0%}) were "
            f"quarantined, more than max_quarantined = {recipe.max_quarantined:.0%} (a wrong "
            f"`format:`, or a broken source?); first: {problems[0].name}: {problems[0].reason}. "
            f"Fix them, or raise `max_quarantined` in the recipe ({kept})"
        )
    left_out = problems + outcome.filtered
    if not outcome.built:
        first = f"; first: {left_out[0].name}: {left_out[0].reason}" if left_out else ""
        raise RecipeError(f"no episode was built: {len(left_out)} left out{first}")
    qa = _qa(recipe, outcome)
    if strict and (flagged := flagged_lines(qa)):
        raise RecipeError(
            f"--strict: the label QA flagged episodes: {'; '.join(flagged)}. Look at them (their "
            f"values are in the report), fix the recordings or raise the thresholds under `qa:` "
            f"in the recipe ({kept})"
        )

    meta = _assemble(staging, the_plan, outcome, qa)
    _publish(staging, out)
    return BuildReport(out, meta, run=run)


def _publish(staging: Path, out: Path) -> None:
    """Tidy an assembled staging folder and rename it into place. Its meta, written last by the
    assembly, says it is whole: after a crash here, the next run publishes it (`_assembled`)."""
    shutil.rmtree(staging / "work", ignore_errors=True)
    (staging / FINGERPRINT_FILE).unlink(missing_ok=True)
    staging.rename(out)


def _remove(staging: Path) -> None:
    """Remove a staging folder of curate's, its marker last: a crash midway leaves it marked as
    curate's, so the next run removes the rest instead of refusing it as a stranger's."""
    for child in staging.iterdir():
        if child.name != FINGERPRINT_FILE:
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    (staging / FINGERPRINT_FILE).unlink()
    staging.rmdir()


def staging_folder(out: Path) -> Path:
    """Where a release is built before it is renamed into place."""
    return out.with_name(out.name + ".partial")


def _assemble(staging: Path, the_plan: Plan, outcome: Outcome, qa: dict) -> ReleaseMeta:
    """Shards, meta, QA report, plots and card of the built episodes, written into `staging`."""
    recipe = the_plan.recipe
    built = outcome.built
    files: dict[str, str] = {}
    counts: dict[str, dict[str, int]] = {}
    for config in recipe.configs:
        if not any(r.rows[config] for r in built):
            raise RecipeError(
                f"config {config} has no rows (the filters left none: filters.keep_noop, "
                "images.stride); loosen them or drop the config"
            )
        parts = {
            s: [
                work_folder(staging, r.name) / f"{config}.parquet"
                for r in built
                if r.split == s and r.rows[config]
            ]
            for s in SPLITS
        }
        if config == "ticks":
            written = write_config(staging, config, parts, ticks_schema_of(recipe))
        else:
            layout = recipe.layout
            written = write_config(staging, config, parts, chat.schema(layout),
                                   options=chat.write_options(layout), whole=True)  # fmt: skip
        for paths in written.values():
            files.update({p: sha256_file(staging / p) for p in paths})
        counts[config] = {s: sum(r.rows[config] for r in built if r.split == s) for s in SPLITS}
    (staging / QA_PATH).parent.mkdir(exist_ok=True)
    (staging / QA_PATH).write_text(json.dumps(qa, indent=1) + "\n")
    meta = ReleaseMeta(
        name=recipe.name,
        version=recipe.version,
        fingerprint=the_plan.fingerprint,
        content_hash=content_hash(files),
        curate_version=package_version("curate"),
        recipe=recipe.normalised(),
        labelers=the_plan.labelers,
        inputs=the_plan.inputs,
        episodes={s: [r.episode_id or "" for r in built if r.split == s] for s in SPLITS},
        counts=counts,
        quarantine=outcome.quarantine,
        filtered=outcome.filtered,
        warnings=outcome.notes,
        files=files,
        ticks=sum(r.ticks for r in built),
        sizes={
            c: {s: sum(r.bytes[c] for r in built if r.split == s) for s in SPLITS}
            for c in recipe.configs
        },  # fmt: skip
        charts=outcome.charts,
        about=the_plan.about,
        prompts=the_plan.prompts,
    )
    return card.write_card(staging, meta)


@dataclass(frozen=True)
class Outcome:
    """What became of a build's recordings, as the QA report and the meta both tell it."""

    built: list[EpisodeResult]  # by episode id
    quarantine: list[Excluded]  # refused by the plan, then by their episode's step
    filtered: list[Excluded]
    notes: list[Excluded]  # built, with a note (trimmed, GUI set from the frames)
    charts: dict[str, ChartCounts]  # space -> its label counts over the built episodes


def _outcome(the_plan: Plan, results: list[EpisodeResult]) -> Outcome:
    built = sorted((r for r in results if r.status == "built"), key=lambda r: r.episode_id or "")
    return Outcome(
        built=built,
        quarantine=the_plan.refused + _excluded(results, "quarantined"),
        filtered=_excluded(results, "filtered"),
        notes=[Excluded(name=r.name, reason=w) for r in built for w in r.warnings],
        charts=_charts(the_plan.recipe, built),
    )


def _charts(recipe: Recipe, built: list[EpisodeResult]) -> dict[str, ChartCounts]:
    """Each charted space's label counts over the built episodes."""
    charts = {}
    for space in recipe.spaces():
        chart = recipe.labeler(space).chart
        if chart is not None:
            total: dict[str, int] = {}
            for r in built:
                for key, n in r.stats.get(space, {}).items():
                    total[key] = total.get(key, 0) + n
            charts[space] = ChartCounts(
                title=chart.title,
                unit=chart.unit,
                bars=chart.bars,
                counts=dict(sorted(total.items())),
            )
    return charts


def _qa(recipe: Recipe, outcome: Outcome) -> dict:
    """The label-QA report of the built episodes (`curate.qa`)."""
    left_out = [
        {"name": x.name, "code": x.code or kind, "reason": x.reason}
        for kind, excluded in (("quarantined", outcome.quarantine),
                               ("filtered", outcome.filtered), ("note", outcome.notes))
        for x in excluded
    ]  # fmt: skip
    episodes = {
        r.episode_id or "": (
            r.name,
            r.qa,
            {s: c for s, c in r.stats.items() if s in outcome.charts},
        )
        for r in outcome.built
    }
    return qa_report(episodes, recipe.qa.model_dump(), left_out)


def _excluded(results: list[EpisodeResult], status: str) -> list[Excluded]:
    return [Excluded(name=r.name, reason=r.reason or "", code=r.code or status)
            for r in results if r.status == status]  # fmt: skip


def _deduplicate(results: list[EpisodeResult]) -> list[EpisodeResult]:
    """Two built recordings with one episode id: the first in source order is kept, the later
    one quarantined."""
    kept: dict[str, str] = {}
    out = []
    for r in results:
        eid = r.episode_id or ""
        if r.status == "built" and eid in kept:
            reason = f"duplicate episode id {eid} (kept {kept[eid]})"
            update = {"status": "quarantined", "reason": reason, "code": "duplicate_episode"}
            r = r.model_copy(update=update)
        elif r.status == "built":
            kept[eid] = r.name
        out.append(r)
    return out


def _assembled(staging: Path, fingerprint: str) -> bool:
    """Whether `staging` holds the whole release of `fingerprint`: its meta is written last."""
    try:
        return ReleaseMeta.read(staging).fingerprint == fingerprint
    except (OSError, ValueError):
        return False


def _read(path: Path) -> str | None:
    return path.read_text() if path.exists() else None
