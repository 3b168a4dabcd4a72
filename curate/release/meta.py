"""`meta/release.json`: what a release was asked to be and what it is, as a typed model.

Two hashes, two meanings: the *fingerprint* hashes what was asked (normalised recipe, labeler
versions, input hashes, the card's About text, curate's own code); the *content hash* hashes what
was built (every data file's sha256). Two builds of one fingerprint must have one content hash,
whoever built them and wherever.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from curate.hashing import sha256_json

FORMAT_VERSION = 2  # 2: the card's inputs (About text, chart counts, sizes) live in meta
META_PATH = "meta/release.json"
DATA_PATH = "data/{config}/{split}-{shard:05d}-of-{shards:05d}.parquet"
SPLITS = ("train", "validation")


class Input(BaseModel):
    name: str  # relative name of the recording
    format: str
    sha256: str | None  # None: listed by an index but not fetched (it is in `quarantine`)


class Excluded(BaseModel):
    """A recording left out of a release (or, in `warnings`, changed on its way in)."""

    name: str
    reason: str  # a sentence: which file, which line or frame, what to do
    code: str = ""  # quarantine: one of `curate.readers.CODES`; filtered: "filtered"


class ChartCounts(BaseModel):
    """One labeler's chart on the card: how often each of its values occurs (`Labeler.stats`)."""

    title: str
    unit: str  # "share" of all ticks, or "count"
    bars: int
    counts: dict[str, int]


class ReleaseMeta(BaseModel):
    """Everything a user or a tool needs to trust a release folder."""

    model_config = ConfigDict(extra="ignore")  # a newer curate may add keys; older readers cope

    format_version: int = FORMAT_VERSION
    name: str
    version: str
    fingerprint: str
    content_hash: str
    curate_version: str
    recipe: dict
    labelers: dict[str, str]
    inputs: list[Input]
    episodes: dict[str, list[str]]  # split -> episode ids
    counts: dict[str, dict[str, int]]  # config -> split -> rows
    quarantine: list[Excluded]
    filtered: list[Excluded]
    warnings: list[Excluded] = []  # built, with a note (frames and lines trimmed to agree)
    files: dict[str, str]  # path in the release -> sha256
    ticks: int  # ticks of the built episodes
    sizes: dict[str, dict[str, int]]  # config -> split -> Arrow bytes (the card's dataset_info)
    charts: dict[str, ChartCounts]  # space -> its chart on the card
    about: str = ""  # the card's About text
    prompts: dict[str, str] = {}  # form -> the recipe's own prompt (`prompts:`), replacing curate's
    validation: dict | None = None  # figures of `curate validate`, once run

    def write(self, folder: Path) -> None:
        path = folder / META_PATH
        path.parent.mkdir(parents=True, exist_ok=True)
        # Key order is the model's and the recipe's (configs in recipe order): deterministic.
        # Written aside and renamed: a meta that exists is whole (a build's last word).
        partial = path.with_name(path.name + ".partial")
        partial.write_text(json.dumps(self.model_dump(mode="json"), indent=2) + "\n")
        partial.replace(path)

    @classmethod
    def read(cls, folder: Path) -> ReleaseMeta:
        """The meta of a release folder, refused with what to do when this curate cannot read it."""
        path = folder / META_PATH
        if not path.exists():
            raise FileNotFoundError(
                f"{folder}: not a release folder (no {META_PATH}); run curate build"
            )
        data = json.loads(path.read_text())
        found = data.get("format_version") if isinstance(data, dict) else None
        if found != FORMAT_VERSION:
            todo = (
                "upgrade curate (pip install -U curate)"
                if isinstance(found, int) and found > FORMAT_VERSION
                else "rebuild it from its recipe with this curate (curate build RECIPE)"
            )
            raise ValueError(
                f"{path} has format_version {found}, this curate reads {FORMAT_VERSION}: {todo}"
            )
        return cls.model_validate(data)


def release_files(folder: Path) -> list[str]:
    """Paths of a release folder's files. Hidden entries (`.git`, `.gitattributes`, the `.cache`
    of a download into a local folder) belong to the Hub or a client, never to the release."""
    paths = (p.relative_to(folder) for p in folder.rglob("*") if p.is_file())
    return sorted(p.as_posix() for p in paths if not any(part.startswith(".") for part in p.parts))


def fingerprint(
    recipe: dict,
    labelers: dict[str, str],
    inputs: list[Input],
    about: str,
    code: str,
    libraries: dict[str, str],
) -> str:
    """What was asked: the recipe, the labeler versions, the inputs, the card's About text, and
    what turns them into bytes: the code a build runs (`curate.hashing.code_sha256`) and the
    versions of the libraries that write them."""
    return sha256_json(
        {
            "format_version": FORMAT_VERSION,
            "code": code,
            "libraries": libraries,
            "recipe": recipe,
            "labelers": labelers,
            "inputs": [i.model_dump() for i in sorted(inputs, key=lambda i: i.name)],
            "about": about,
        }
    )


def content_hash(files: dict[str, str]) -> str:
    """sha256 over the data files' names and hashes (the card and meta describe them, so they are
    not part of it)."""
    return sha256_json({p: h for p, h in files.items() if p.startswith("data/")})
