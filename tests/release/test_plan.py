"""Planning: splits that meet the asked share, tasks from names, the code a fingerprint hashes."""

from __future__ import annotations

import sys

import pytest

from curate.hashing import code_sha256
from curate.release.plan import SMALL_BUILD, assign_splits


def test_large_builds_split_by_a_stable_hash_of_the_id():
    ids = [f"episode-{i}" for i in range(2000)]
    splits = assign_splits(ids, 0.1)
    assert 0.08 < splits.count("validation") / len(ids) < 0.12
    assert assign_splits(list(reversed(ids)), 0.1) == list(reversed(splits))  # a function of the id
    grown = [i for i, s in zip(ids, splits, strict=True) if s == "validation"]
    larger = dict(zip(ids, assign_splits(ids, 0.2), strict=True))
    assert all(larger[i] == "validation" for i in grown)  # a larger share moves none back


@pytest.mark.parametrize(
    "n, share, validation",
    [(2, 0.5, 1), (4, 0.25, 1), (4, 0.1, 1), (3, 0.9, 2), (12, 0.4, 5), (5, 0.0, 0), (1, 0.5, 0)],
)
def test_small_builds_meet_the_share(n, share, validation):
    splits = assign_splits([f"e{i}" for i in range(n)], share)
    assert splits.count("validation") == validation and n < SMALL_BUILD


def test_a_large_build_never_gets_an_empty_split():
    for start in range(0, 4000, 20):  # 200 sets of 20 ids: the hash rule alone leaves some empty
        splits = assign_splits([f"id-{start + i}" for i in range(20)], 0.1)
        assert 1 <= splits.count("validation") <= 19


def write_module(folder, name: str, text: str) -> None:
    (folder / f"{name}.py").write_text(text)
    sys.modules.pop(name, None)


def test_code_hash_ignores_comments_and_docstrings_and_follows_imports(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    write_module(package, "helper", "def f():\n    return 1\n")
    write_module(package, "unused", "X = 1\n")
    write_module(package, "main", "from pkg.helper import f\n\nY = f()\n")
    before = code_sha256(["pkg.main"])
    write_module(
        package, "main", '"""Docs."""\n# a comment\nfrom pkg.helper import f  # why\n\nY = f()\n'
    )
    assert code_sha256(["pkg.main"]) == before
    write_module(package, "unused", "X = 2\n")  # not imported by the build
    assert code_sha256(["pkg.main"]) == before
    write_module(package, "helper", "def f():\n    return 2\n")
    assert code_sha256(["pkg.main"]) != before


def test_a_build_of_vpt_recordings_does_not_hash_the_world():
    import importlib.util

    from curate.release.plan import BUILD_MODULES

    hashed = []
    real = importlib.util.find_spec

    def spy(name, *args):
        hashed.append(name)
        return real(name, *args)

    importlib.util.find_spec = spy
    try:
        code_sha256(BUILD_MODULES)
    finally:
        importlib.util.find_spec = real
    assert "curate.labelers.base" in hashed and "curate.release.step" in hashed
    assert not [m for m in hashed if m.startswith("curate.world")]
