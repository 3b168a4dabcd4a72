"""`curate verify`: does a release folder hold what its meta says, and do consumers load it?

Every config is loaded with `datasets.load_dataset(folder, name=config)` from the folder alone,
exactly as a user would; counts are compared with meta, and every file's sha256 and the content
hash are recomputed.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from curate.hashing import sha256_file
from curate.release.meta import META_PATH, SPLITS, ReleaseMeta, content_hash, release_files


@contextmanager
def quiet_datasets() -> Iterator[None]:
    """`datasets` without its progress bars, the caller's setting restored after."""
    from datasets.utils import logging

    shown = logging.is_progress_bar_enabled()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        if shown:
            logging.enable_progress_bar()


def verify(folder: Path | str) -> list[str]:
    """Every problem found in the release folder (an empty list: it is sound)."""
    folder = Path(folder).resolve()  # `datasets` needs a name: "." has none
    try:
        meta = ReleaseMeta.read(folder)
    except (OSError, ValueError) as exc:
        return [" ".join(str(exc).split())]
    card_problems, header = _check_card(folder, meta)
    loading = _check_loading(folder, meta, header) if header else []
    return check_files(folder, meta) + card_problems + loading


def check_files(folder: Path, meta: ReleaseMeta) -> list[str]:
    """Files missing, changed or unlisted against `meta/release.json`, and the content hash."""
    problems = []
    on_disk = set(release_files(folder))
    for rel, expected in meta.files.items():
        if rel not in on_disk:
            problems.append(f"{rel}: listed in meta/release.json but missing")
        elif sha256_file(folder / rel) != expected:
            problems.append(f"{rel}: sha256 differs from meta/release.json (the file changed)")
    for rel in sorted(on_disk - set(meta.files) - {META_PATH}):
        problems.append(f"{rel}: not listed in meta/release.json")
    if content_hash(meta.files) != meta.content_hash:
        problems.append("content hash differs from the data files' hashes")
    return problems


def _check_card(folder: Path, meta: ReleaseMeta) -> tuple[list[str], dict | None]:
    """The card's YAML header must parse and declare the recipe's configs with their features."""
    text = (folder / "README.md").read_text() if (folder / "README.md").exists() else ""
    if not text.startswith("---\n"):
        return ["README.md: no YAML header (the dataset card declares the configs)"], None
    try:
        header = yaml.safe_load(text.split("---\n")[1])
        declared = [c["config_name"] for c in header["configs"]]
        infos = {i["config_name"]: i["features"] for i in header["dataset_info"]}
    except (yaml.YAMLError, KeyError, TypeError, IndexError) as exc:
        return [f"README.md: malformed YAML header ({' '.join(str(exc).split())})"], None
    if declared != meta.recipe["configs"] or set(infos) != set(declared):
        return [f"README.md declares configs {declared}, the recipe {meta.recipe['configs']}"], None
    return [], header


def _check_loading(folder: Path, meta: ReleaseMeta, header: dict) -> list[str]:
    from datasets import Features, load_dataset

    features = {
        i["config_name"]: Features._from_yaml_list(i["features"]) for i in header["dataset_info"]
    }
    problems = []
    with quiet_datasets(), tempfile.TemporaryDirectory() as cache:  # depend on the folder alone
        for config, counts in meta.counts.items():
            try:
                loaded = load_dataset(str(folder), name=config, cache_dir=cache)
            except Exception as exc:  # noqa: BLE001 - any failure to load is the finding
                problems.append(f"{config}: load_dataset failed: {exc}")
                continue
            for split in SPLITS:
                if split in loaded and loaded[split].features != features[config]:
                    problems.append(f"{config}/{split}: features differ from the card's")
                rows = loaded[split].num_rows if split in loaded else 0
                if rows != counts[split]:
                    problems.append(
                        f"{config}/{split}: {rows} rows loaded, meta says {counts[split]}"
                    )
    return problems
