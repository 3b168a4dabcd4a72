"""sha256 of files, of JSON data and of code: what every release's hashes are made of."""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
from collections.abc import Iterable
from pathlib import Path


def sha256_file(path: Path) -> str:
    return sha256_file_digest(path).hexdigest()


def sha256_file_digest(path: Path) -> hashlib._Hash:
    """The sha256 object fed with a file's bytes, for a caller that feeds it more (a resumed
    download hashes the part it has, then each chunk it receives)."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256")


def sha256_json(data: object) -> str:
    """sha256 of canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def code_sha256(roots: Iterable[str]) -> str:
    """sha256 of the code a build runs: the modules `roots` name and every module of their
    packages they import at top level, transitively, each as its syntax tree without docstrings,
    so an edited comment or docstring (or the world's code, in a build of VPT recordings) keeps
    a release's fingerprint and its resume state."""
    roots = list(roots)
    packages = {r.split(".")[0] for r in roots}
    hashes: dict[str, str] = {}
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in hashes:
            continue
        try:
            spec = importlib.util.find_spec(name)
        except ModuleNotFoundError:  # `from a.b import c` where c is a name, not a module
            continue
        if spec is None or not (spec.origin or "").endswith(".py"):
            continue
        tree = ast.parse(Path(spec.origin).read_text())  # type: ignore[arg-type]
        code = ast.unparse(_without_docstrings(tree))  # comments and layout are gone
        hashes[name] = hashlib.sha256(code.encode()).hexdigest()
        parts = name.split(".")
        todo += [".".join(parts[:k]) for k in range(1, len(parts))]  # its packages run too
        todo += [m for m in _imports(tree, name, spec.submodule_search_locations is not None)
                 if m.split(".")[0] in packages]  # fmt: skip
    return sha256_json(sorted(hashes.items()))


def _imports(tree: ast.Module, name: str, is_package: bool) -> list[str]:
    """Modules imported at the top level of a module (`from a import b` may import `a.b`)."""
    package = name if is_package else name.rpartition(".")[0]
    found = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = importlib.util.resolve_name("." * node.level + (node.module or ""), package)
            found += [module, *(f"{module}.{alias.name}" for alias in node.names)]
    return found


def _without_docstrings(tree: ast.Module) -> ast.Module:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return tree
