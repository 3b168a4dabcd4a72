"""What a build is asked for, settled before any episode is built: the recipe, the labelers it
runs, its recordings (generated, found or downloaded, each named and hashed), their splits, and
the fingerprint of it all.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from curate.contract import FPS
from curate.executors.base import library_versions
from curate.hashing import code_sha256
from curate.labelers import LabelerError, registry
from curate.readers import ADVICE, episode_id_of
from curate.release.meta import Excluded, Input, fingerprint
from curate.release.progress import Counter, Reporter
from curate.release.recipe import (
    FolderSource,
    IndexSource,
    Recipe,
    RecipeError,
    Source,
    SynthSource,
    about_text,
    load_recipe,
    prompt_texts,
    resolve_source,
)
from curate.sources import (
    HashCache,
    Recording,
    folder_recordings,
    recording_files,
    recording_sha256,
    stamp_of,
    synth_recordings,
)
from curate.sources.download import DownloadError, fetch_index, jsonl_path

# The modules a build runs, besides its labelers': their code, and what they import, is hashed.
BUILD_MODULES = (
    "curate.release.build",
    "curate.executors.local",
    "curate.readers.vpt",
    "curate.readers.minestudio",
    "curate.readers.video",
)
HASHES = "cache/hashes.sqlite"  # beside the recipe: the sha256s of its inputs, kept across builds
SMALL_BUILD = 20  # below this many recordings, the validation share is met exactly


@dataclass(frozen=True)
class Planned:
    """One recording as the build will treat it."""

    recording: Recording
    split: str
    video: bool  # a VPT recording must have its .mp4 (a source's `video: false` says it need not)
    task: str | None  # what the player was asked to do, when the source says


@dataclass(frozen=True)
class Plan:
    recipe: Recipe
    labelers: dict[str, str]  # space -> version
    recordings: list[Planned]
    refused: list[Excluded]  # recordings a source could not deliver, or too large to read
    inputs: list[Input]  # the recordings as the release names them
    about: str  # the card's About text
    prompts: dict[str, str]  # form -> the recipe's own prompt for it
    fingerprint: str


def plan(recipe_path: Path, report: Reporter | None = None) -> Plan:
    """Validate the recipe, find (generate, download) its recordings, fingerprint the request."""
    recipe = load_recipe(recipe_path)
    labelers = labeler_versions(recipe)
    # absolute: tasks name their inputs for workers that may not share this process's folder
    found, unfetched = recordings(recipe, recipe_path.absolute().parent, report)
    if not found:
        first = f"; first: {unfetched[0].name}: {unfetched[0].reason}" if unfetched else ""
        raise RecipeError(f"{recipe_path}: the sources hold no recording{first}")
    about = about_text(recipe, recipe_path.parent)
    prompts = prompt_texts(recipe, recipe_path.parent)
    inputs = [Input(name=p.recording.name, format=p.recording.format, sha256=p.recording.sha256)
              for p in found]  # fmt: skip
    # only index sources (of VPT recordings) can fail to deliver a recording
    inputs += [Input(name=x.name, format="vpt", sha256=None) for x in unfetched]
    limit = recipe.max_recording_bytes
    oversized = {p.recording.name: x for p in found if (x := too_large(p.recording, limit))}
    refused = [*unfetched, *oversized.values()]
    found = [p for p in found if p.recording.name not in oversized]
    modules = [*BUILD_MODULES, *(recipe.labeler(s).__module__ for s in labelers)]
    asked = fingerprint(fingerprinted(recipe.normalised()) | {"prompt_texts": prompts}, labelers,
                        inputs, about, code_sha256(modules), library_versions())  # fmt: skip
    return Plan(recipe, labelers, found, refused, inputs, about, prompts, asked)


def too_large(recording: Recording, limit: int) -> Excluded | None:
    """The quarantine entry of a recording whose files together exceed `limit` bytes, refused
    before it is parsed (its hash streams it): a stranger's 50 GB "jsonl" must not fill the
    memory."""
    size = sum(entry[1] for entry in recording.stamp)
    if size <= limit:
        return None
    reason = (f"{Path(recording.rel).name}: {size:,} bytes, over the recipe's "
              f"max_recording_bytes ({limit:,}); split the recording, or raise "
              f"`max_recording_bytes` if the machines have the memory for it")  # fmt: skip
    return Excluded(name=recording.name, reason=reason, code="too_large")


def fingerprinted(recipe: dict) -> dict:
    """What of a normalised recipe says what the data is: all but `validate` and
    `max_quarantined`, which say how to check it (changing them never rebuilds a release)."""
    return {k: v for k, v in recipe.items() if k not in ("validate", "max_quarantined")}


def labeler_versions(recipe: Recipe) -> dict[str, str]:
    """space -> version of every labeler the recipe runs, or a RecipeError that names the config
    whose labeler this curate does not have."""
    versions = {}
    for space in recipe.spaces():
        try:
            versions[space] = recipe.labeler(space).version
        except LabelerError:
            users = [c for c in recipe.configs if c.startswith(space)] or ["all_in_one"]
            raise RecipeError(
                f"config {', '.join(users)} needs the {space} labeler, which this curate does not "
                f"have yet (it has: {', '.join(registry())}); remove {', '.join(users)} from "
                f"`configs` (for all_in_one, set `mixture: {{grounding_coa: 0}}`)"
            ) from None
    return versions


def recordings(
    recipe: Recipe, base: Path, report: Reporter | None = None
) -> tuple[list[Planned], list[Excluded]]:
    """Every recording the recipe's sources hold, in source order, generating or downloading as
    the sources declare, with its split; and the ones a source could not deliver (quarantined:
    the rest are still built). Names carry the source's index, so two sources never clash."""
    hashes = HashCache(base / HASHES)
    try:
        found, failed = _held(recipe, base, hashes, report)
    finally:
        hashes.close()
    splits = assign_splits([episode_id_of(r.path) for r, _ in found], recipe.validation)
    planned = [
        Planned(
            r,
            split,
            video=not isinstance(source, FolderSource | IndexSource) or source.video,
            task=task_of(r, source),
        )  # fmt: skip
        for (r, source), split in zip(found, splits, strict=True)
    ]
    return planned, failed


def _held(
    recipe: Recipe, base: Path, hashes: HashCache, report: Reporter | None
) -> tuple[list[tuple[Recording, Source]], list[Excluded]]:
    found: list[tuple[Recording, Source]] = []
    failed: list[Excluded] = []
    for i, source in enumerate(resolve_source(s, base) for s in recipe.sources):
        if isinstance(source, FolderSource):
            counter = Counter(report, f"hashing recordings of source {i}", lazy=True)
            if not source.path.is_dir():
                raise RecipeError(f"sources.{i}.path: no folder {source.path.name} there")
            held = folder_recordings(source.format, source.path, f"{source.format}{i}",
                                     counter.set, hashes)  # fmt: skip
        elif isinstance(source, IndexSource):
            counter = Counter(report, "downloading VPT recordings (bytes)")
            held, missed = _fetched(source, i, counter)
            failed += missed
        else:
            frames = source.episodes * round(source.seconds * FPS)
            counter = Counter(report, "recording synthetic gameplay (frames)", frames, lazy=True)
            held = synth_recordings(source.cache, source.episodes, source.seconds, source.seed,
                                    f"synth{i}", counter.set, source.tasks, hashes)  # fmt: skip
        found += [(r, source) for r in sorted(held, key=lambda r: r.name)]
    return found, failed


def _fetched(
    source: IndexSource, i: int, counter: Counter
) -> tuple[list[Recording], list[Excluded]]:
    """The recordings the index source `i` downloaded, and those it could not (quarantined)."""
    prefix = f"vpt{i}"
    try:
        fetched = fetch_index(source.index, source.cache, limit=source.limit,
                              base_url=source.base_url, video=source.video,
                              progress=counter.add)  # fmt: skip
    except DownloadError as exc:
        raise RecipeError(f"sources.{i}: {exc}") from None
    known = {source.cache / rel: sha for rel, sha in fetched.sha256.items()}
    held = []
    for path in fetched.paths:
        rel = path.relative_to(source.cache).as_posix()
        files = recording_files("vpt", path)
        sha = recording_sha256(files, known)
        held.append(Recording(f"{prefix}/{rel}", "vpt", source.cache, rel, sha, stamp_of(files)))
    advice = ADVICE["download_failed"]
    failed = [
        Excluded(
            name=f"{prefix}/{jsonl_path(rel)}", reason=f"{why}; {advice}", code="download_failed"
        )
        for rel, why in fetched.failures.items()
    ]
    return held, failed


def task_of(recording: Recording, source: Source) -> str | None:
    """The source's `task`, or the one its `task_pattern` finds in the recording's name; for
    recordings of the world, their task when they play one."""
    if isinstance(source, SynthSource):
        return source.tasks[0] if source.tasks and len(source.tasks) == 1 else None
    if not isinstance(source, FolderSource):
        return None
    if source.task or not source.task_pattern:
        return source.task
    match = re.search(source.task_pattern, recording.path.stem if recording.format == "vpt"
                      else recording.path.name)  # fmt: skip
    return f"{match['family']}:{match['object']}" if match else None


def split_key(episode_id: str) -> float:
    """Where an episode falls in [0, 1): a hash of its id, so adding sources moves none."""
    return int.from_bytes(hashlib.sha256(episode_id.encode()).digest()[:8], "big") / 2**64


def assign_splits(episode_ids: list[str], validation: float) -> list[str]:
    """The split of each episode: `validation` for a share of them, by the hash of their ids.

    A large build takes the ids whose key falls under the share (stable as sources grow). A small
    one (fewer than SMALL_BUILD recordings), where that rule can miss the share widely, or one
    where it leaves a split empty, takes the round(share * n) lowest keys, at least 1 and at
    most n - 1 when the share is positive (a single episode trains).

    >>> assign_splits(["a", "b", "c", "d"], 0.25).count("validation")
    1
    """
    keys = [split_key(i) for i in episode_ids]
    n = len(keys)
    chosen = {i for i in range(n) if keys[i] < validation}
    if validation == 0 or n < 2:
        chosen = set()  # one episode is a train split
    elif n < SMALL_BUILD or len(chosen) in (0, n):  # the hash rule missed: a split is empty
        k = min(max(round(validation * n), 1), n - 1)
        chosen = set(sorted(range(n), key=keys.__getitem__)[:k])
    return ["validation" if i in chosen else "train" for i in range(n)]
