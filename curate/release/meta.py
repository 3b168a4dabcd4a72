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

from curate.hashing import code_sha256, sha256_json

FORMAT_VERSION = 1
META_PATH = "meta/release.json"
DATA_PATH = "data/{config}/{split}-{shard:05d}-of-{shards:05d}.parquet"
SPLITS = ("train", "validation")


class Input(BaseModel):
    name: str  # relative name of the recording
    format: str
    sha256: str


class Excluded(BaseModel):
    name: str
    reason: str


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
    validation: dict | None = None  # figures of `curate validate`, once run

    def write(self, folder: Path) -> None:
        path = folder / META_PATH
        path.parent.mkdir(parents=True, exist_ok=True)
        # Key order is the model's and the recipe's (configs in recipe order): deterministic.
        path.write_text(json.dumps(self.model_dump(mode="json"), indent=2) + "\n")

    @classmethod
    def read(cls, folder: Path) -> ReleaseMeta:
        path = folder / META_PATH
        if not path.exists():
            raise FileNotFoundError(
                f"{folder}: not a release folder (no {META_PATH}); run curate build"
            )
        return cls.model_validate_json(path.read_text())


def release_files(folder: Path) -> list[str]:
    """Paths of a release folder's files. Hidden entries (`.git`, `.gitattributes`, the `.cache`
    of a download into a local folder) belong to the Hub or a client, never to the release."""
    paths = (p.relative_to(folder) for p in folder.rglob("*") if p.is_file())
    return sorted(p.as_posix() for p in paths if not any(part.startswith(".") for part in p.parts))


def fingerprint(
    recipe: dict, labelers: dict[str, str], inputs: list[Input], about: str = ""
) -> str:
    """What was asked: the recipe, the labeler versions, the inputs, the card's About text, and the
    code that turns them into a release."""
    return sha256_json(
        {
            "format_version": FORMAT_VERSION,
            "code": code_sha256(),
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
