"""`curate build`: a recipe in, a release folder out.

    recipe -> recordings (named, hashed) -> per-episode step on an executor -> shards -> card, meta

The folder is written aside (`<out>.partial`) and renamed when complete, so a release folder
never exists half-written; the staging folder keeps each finished episode's parts and marker, so
a build interrupted for any reason resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Protocol

import pyarrow.parquet as pq

from curate.contract import FPS
from curate.formats.chat import SCHEMA as CHAT_SCHEMA
from curate.formats.ticks import LABEL_FIELDS
from curate.formats.ticks import SCHEMA as TICKS_SCHEMA
from curate.hashing import sha256_file
from curate.labelers import REGISTRY, labeler_class
from curate.readers import episode_id_of
from curate.readers.download import fetch_index, jsonl_path
from curate.readers.sources import (
    Recording,
    folder_recordings,
    recording_files,
    recording_sha256,
    synth_recordings,
)
from curate.release import card
from curate.release.meta import (
    SPLITS,
    Excluded,
    Input,
    ReleaseMeta,
    content_hash,
    fingerprint,
)
from curate.release.recipe import (
    FolderSource,
    Recipe,
    RecipeError,
    SynthSource,
    about_text,
    load_recipe,
    resolve_source,
)
from curate.release.step import EpisodeTask, build_episode
from curate.release.writer import write_config

FINGERPRINT_FILE = "FINGERPRINT"


class Reporter(Protocol):
    """Where a long build says how far it is (the CLI draws progress bars with it)."""

    def start(self, what: str, total: int | None) -> None: ...
    def update(self, done: int) -> None: ...


@dataclass
class BuildReport:
    folder: Path
    meta: ReleaseMeta
    reused: bool = False  # the release already existed with this fingerprint


def needed_spaces(recipe: Recipe) -> set[str]:
    """The labelers the recipe's configs need."""
    spaces = set(LABEL_FIELDS)
    grounding = {"grounding_action", "grounding_coa"} & set(recipe.configs)
    if grounding or ("all_in_one" in recipe.configs and recipe.mixture.get("grounding_coa", 0) > 0):
        spaces.add("grounding")
    return spaces


def check_labelers(recipe: Recipe) -> dict[str, str]:
    """Labeler versions, or a RecipeError that names the config and the missing labeler."""
    versions = {}
    for space in sorted(needed_spaces(recipe)):
        try:
            versions[space] = labeler_class(space).version
        except (KeyError, ImportError, AttributeError):
            users = [c for c in recipe.configs if c.startswith(space)] or ["all_in_one"]
            raise RecipeError(
                f"config {', '.join(users)} needs the {space} labeler, which this curate does not "
                f"have yet (it has: {', '.join(REGISTRY)}); remove {', '.join(users)} from "
                f"`configs` (for all_in_one, set `mixture: {{grounding_coa: 0}}`)"
            ) from None
    return versions


def recordings(
    recipe: Recipe, base: Path, report: Reporter | None = None
) -> tuple[list[Recording], list[Excluded]]:
    """Every recording the recipe's sources hold, in source order, generating or downloading as
    the sources declare, and the ones a source could not deliver (quarantined: the rest are
    still built). Names carry the source's index, so two sources never clash."""
    found: list[Recording] = []
    failed: list[Excluded] = []
    for i, source in enumerate(resolve_source(s, base) for s in recipe.sources):
        if isinstance(source, SynthSource):
            frames = source.episodes * round(source.seconds * FPS)
            bar = _Counter(report, "recording synthetic gameplay (frames)", frames, lazy=True)
            held = synth_recordings(source.cache, source.episodes, source.seconds, source.seed,
                                    f"synth{i}", bar.set)  # fmt: skip
        elif isinstance(source, FolderSource):
            bar = _Counter(report, f"hashing recordings of source {i}", lazy=True)
            held = folder_recordings(source.format, source.path, f"{source.format}{i}", bar.set)
        else:
            bar = _Counter(report, "downloading VPT recordings (bytes)")
            fetched = fetch_index(source.index, source.cache, limit=source.limit,
                                  base_url=source.base_url, video=source.video,
                                  progress=bar.add)  # fmt: skip
            known = {source.cache / rel: sha for rel, sha in fetched.sha256.items()}
            held = [
                Recording(f"vpt{i}/{p.relative_to(source.cache).as_posix()}", "vpt", p,
                          recording_sha256(recording_files("vpt", p), known))
                for p in fetched.paths
            ]  # fmt: skip
            failed += [Excluded(name=f"vpt{i}/{jsonl_path(rel)}", reason=why)
                       for rel, why in fetched.failures.items()]  # fmt: skip
        found += sorted(held, key=lambda r: r.name)
    return found, failed


def split_of(episode_id: str, validation: float) -> str:
    """`validation` for a stable share of episode ids (a hash, so adding sources moves none)."""
    h = int.from_bytes(hashlib.sha256(episode_id.encode()).digest()[:8], "big") / 2**64
    return "validation" if h < validation else "train"


@dataclass(frozen=True)
class Plan:
    """What a build was asked for, settled before any episode is built."""

    recipe: Recipe
    labelers: dict[str, str]  # space -> version
    recordings: list[Recording]
    unfetched: list[Excluded]  # recordings a source could not deliver
    inputs: list[Input]  # the recordings as the release names them
    about: str  # the card's About text
    fingerprint: str


def plan(recipe_path: Path, report: Reporter | None = None) -> Plan:
    """Validate the recipe, find (generate, download) its recordings, fingerprint the request."""
    recipe = load_recipe(recipe_path)
    labelers = check_labelers(recipe)
    found, unfetched = recordings(recipe, recipe_path.parent, report)
    if not found:
        raise RecipeError(f"{recipe_path}: the sources hold no recording")
    about = about_text(recipe, recipe_path.parent)
    inputs = [Input(name=r.name, format=r.format, sha256=r.sha256) for r in found]
    asked = fingerprint(recipe.normalised(), labelers, inputs, about)
    return Plan(recipe, labelers, found, unfetched, inputs, about, asked)


def build(
    recipe_path: Path | str,
    out: Path | str | None = None,
    *,
    workers: int = 1,
    executor: str = "local",
    strict: bool = False,
    report: Reporter | None = None,
) -> BuildReport:
    """Build the release a recipe declares; see the module docstring for the flow."""
    the_plan = plan(Path(recipe_path), report)
    recipe = the_plan.recipe
    out = Path(out) if out is not None else Path("releases") / f"{recipe.name}-{recipe.version}"
    if out.exists():
        try:
            existing = ReleaseMeta.read(out)
        except (OSError, ValueError):
            raise RecipeError(
                f"{out} exists and is not a release folder: choose another --out"
            ) from None
        if existing.fingerprint == the_plan.fingerprint:
            return BuildReport(out, existing, reused=True)
        raise RecipeError(
            f"{out} holds another build (fingerprint {existing.fingerprint[:12]}); remove it, or "
            "build to another --out, or bump `version`"
        )
    staging = out.with_name(out.name + ".partial")
    if staging.exists() and _read(staging / FINGERPRINT_FILE) != the_plan.fingerprint:
        shutil.rmtree(staging)  # an interrupted build of something else: nothing to resume
    staging.mkdir(parents=True, exist_ok=True)
    (staging / FINGERPRINT_FILE).write_text(the_plan.fingerprint)

    tasks = [
        EpisodeTask(
            r.name,
            r.path,
            split_of(episode_id_of(r.path), recipe.validation),
            staging / "work" / hashlib.sha256(r.name.encode()).hexdigest()[:16],
            recipe,
        )
        for r in the_plan.recordings
    ]
    counter = _Counter(report, "building episodes", len(tasks))
    results = _executor(executor)(
        build_episode, tasks, workers=workers, on_done=lambda _: counter.add(1)
    )
    results = _deduplicate(results)
    problems = the_plan.unfetched + _excluded(results, "quarantined")
    if strict and problems:
        raise RecipeError(f"--strict: {problems[0].name}: {problems[0].reason}")
    left_out = problems + _excluded(results, "filtered")
    if not any(r["status"] == "built" for r in results):
        first = f"; first: {left_out[0].name}: {left_out[0].reason}" if left_out else ""
        raise RecipeError(f"no episode was built: {len(left_out)} left out{first}")

    meta = _write_release(staging, the_plan, tasks, results)
    # Marker first: a crash while removing `work` leaves a staging folder that is not resumed.
    (staging / FINGERPRINT_FILE).unlink()
    shutil.rmtree(staging / "work")
    staging.rename(out)
    return BuildReport(out, meta)


def _excluded(results: list[dict], status: str) -> list[Excluded]:
    return [Excluded(name=r["name"], reason=r["reason"]) for r in results if r["status"] == status]


def _write_release(
    staging: Path, the_plan: Plan, tasks: list[EpisodeTask], results: list[dict]
) -> ReleaseMeta:
    """Shards, plots, card and meta of the built episodes, written into `staging`."""
    recipe = the_plan.recipe
    built = sorted((r for r in results if r["status"] == "built"), key=lambda r: r["episode_id"])
    work = {t.name: t.work for t in tasks}
    files: dict[str, str] = {}
    counts: dict[str, dict[str, int]] = {}
    for config in recipe.configs:
        if not any(r["rows"][config] for r in built):
            raise RecipeError(
                f"config {config} has no rows (the filters left none: filters.keep_noop, "
                "images.stride); loosen them or drop the config"
            )
        parts = {
            s: [
                work[r["name"]] / f"{config}.parquet"
                for r in built
                if r["split"] == s and r["rows"][config]
            ]
            for s in SPLITS
        }
        schema = TICKS_SCHEMA if config == "ticks" else CHAT_SCHEMA
        for paths in write_config(staging, config, parts, schema).values():
            files.update({p: sha256_file(staging / p) for p in paths})
        counts[config] = {
            s: sum(r["rows"][config] for r in built if r["split"] == s) for s in SPLITS
        }

    meta = ReleaseMeta(
        name=recipe.name,
        version=recipe.version,
        fingerprint=the_plan.fingerprint,
        content_hash=content_hash(files),
        curate_version=package_version("curate"),
        recipe=recipe.normalised(),
        labelers=the_plan.labelers,
        inputs=the_plan.inputs,
        episodes={s: [r["episode_id"] for r in built if r["split"] == s] for s in SPLITS},
        counts=counts,
        quarantine=the_plan.unfetched + _excluded(results, "quarantined"),
        filtered=_excluded(results, "filtered"),
        warnings=[Excluded(name=r["name"], reason=w) for r in built for w in r["warnings"]],
        files={},
    )
    stats = _sum_stats([r["stats"] for r in built], sum(r["ticks"] for r in built))
    plots = card.plot_stats(stats, staging)
    sizes = {c: {s: sum(r["bytes"][c] for r in built if r["split"] == s) for s in SPLITS}
             for c in recipe.configs}  # fmt: skip
    header = card.add_features(card.front_matter(meta, sizes), staging)
    readme = card.render(meta, header, plots, _examples(staging, counts), the_plan.about)
    (staging / "README.md").write_text(readme)
    for rel in [*plots, "README.md"]:
        files[rel] = sha256_file(staging / rel)
    meta = meta.model_copy(update={"files": dict(sorted(files.items()))})
    meta.write(staging)
    return meta


def _sum_stats(stats: list[dict], ticks: int) -> dict:
    total: dict = {"ticks": ticks}
    for one in stats:
        for space, counts in one.items():
            into = total.setdefault(space, {})
            for key, n in counts.items():
                into[key] = into.get(key, 0) + n
    return total


def _examples(folder: Path, counts: dict[str, dict[str, int]]) -> dict[str, str]:
    """An answer of each SFT config (the first one that does something), to show a row's form."""
    examples = {}
    for config in counts:
        if config == "ticks" or not counts[config]["train"]:
            continue
        first = sorted((folder / "data" / config).glob("train-*.parquet"))[0]  # train has rows
        rows = pq.read_table(first, columns=["messages"]).slice(0, 200).to_pylist()
        answers = [row["messages"][-1]["content"][0]["text"] for row in rows]
        idle = ("no_op", "Action: move(0, 0) and press()")
        examples[config] = next((a for a in answers if not any(i in a for i in idle)), answers[0])
    return examples


def _deduplicate(results: list[dict]) -> list[dict]:
    """Two built recordings with one episode id: the first in source order is kept, the later
    one quarantined."""
    kept: dict[str, str] = {}
    out = []
    for r in results:
        eid = r.get("episode_id")
        if r["status"] == "built" and eid in kept:
            r = {**r, "status": "quarantined",
                 "reason": f"duplicate episode id {eid} (kept {kept[eid]})"}  # fmt: skip
        elif r["status"] == "built":
            kept[eid] = r["name"]
        out.append(r)
    return out


class _Counter:
    """One stage's bar on a Reporter, fed increments (`add`) or totals (`set`); a lazy one
    appears only once there is progress (a cached synth source shows none)."""

    def __init__(
        self, report: Reporter | None, what: str, total: int | None = None, lazy: bool = False
    ) -> None:
        self.report, self.what, self.total, self.done, self.started = report, what, total, 0, False
        if not lazy:
            self._start()

    def _start(self) -> None:
        if self.report and not self.started:
            self.report.start(self.what, self.total)
        self.started = True

    def add(self, n: int) -> None:
        self.set(self.done + n)

    def set(self, done: int) -> None:
        self._start()
        self.done = done
        if self.report:
            self.report.update(done)


def _executor(name: str):
    if name == "local":
        from curate.executors.local import run_local

        return run_local
    raise RecipeError(f"unknown executor {name!r}; this curate has: local")


def _read(path: Path) -> str | None:
    return path.read_text() if path.exists() else None
