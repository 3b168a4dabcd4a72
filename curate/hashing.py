"""sha256 of files and of JSON data: the two hashes every release is made of."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_json(data: object) -> str:
    """sha256 of canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def code_sha256() -> str:
    """sha256 of curate's own source files: a release is a function of the code that built it,
    so a change to a prompt or a format changes the fingerprint even at the same version."""
    package = Path(__file__).parent
    files = sorted(package.rglob("*.py"))
    return sha256_json([[f.relative_to(package).as_posix(), sha256_file(f)] for f in files])
