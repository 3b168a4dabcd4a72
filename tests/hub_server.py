"""A minimal Hugging Face Hub on 127.0.0.1, for testing `curate push` with the real client.

Why it exists: push is the one stage that talks to a remote service, and mocking huggingface_hub
would test our guesses about it instead of its behaviour. No Hub is reachable from the tests and
none of the packages on PyPI serves this protocol, so this module implements exactly the
endpoints huggingface_hub 2.x calls for `create_repo`, `create_commit` / `upload_folder`,
`create_tag`, `list_repo_refs`, `repo_info`, `list_repo_tree`, `hf_hub_download` and
`snapshot_download`, with the Hub's status codes and error headers where the client reads them.

What it keeps: commits are immutable snapshots (path -> git blob id) named by the sha1 of their
parent, message and tree; branches and tags map a name to a commit; blobs live on disk under
`root/blobs`, content-addressed. Every file is stored inline: preupload answers "regular" for
all paths, so the client never uses LFS or Xet. A tag that exists is never moved (409).
Files are served for dataset and Space repos (model repos' unprefixed file URLs are not).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import yaml

INITIAL_GITATTRIBUTES = b"*.parquet filter=lfs diff=lfs merge=lfs -text\n"
KINDS = {"models": "model", "datasets": "dataset", "spaces": "space"}
# The Hub's words for a wrong token: the client tells it from "private or missing repo" by them.
BAD_TOKEN = "Invalid credentials in Authorization header"


class HubError(Exception):
    """An HTTP error answer: status, message, the Hub's `X-Error-Code` when it has one."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status, self.message, self.code = status, message, code
        self.headers, self.extra = headers or {}, extra or {}


@dataclass(frozen=True)
class Commit:
    sha: str
    parent: str | None
    message: str
    tree: dict[str, str]  # repo path -> git blob id


@dataclass
class Repo:
    kind: str
    repo_id: str
    private: bool
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    def resolve(self, revision: str) -> Commit:
        """A branch, a tag or a full commit sha, like the Hub; anything else is RevisionNotFound."""
        sha = self.branches.get(revision) or self.tags.get(revision)
        sha = sha or (revision if revision in self.commits else None)
        if sha is None:
            raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return self.commits[sha]


def git_blob_id(data: bytes) -> str:
    """The id git (and the Hub's ETag for regular files) gives a blob."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class HubServer:
    """A Hub serving on 127.0.0.1:<free port> in a thread; a context manager that stops it.

    `token` is the only credential accepted; `page_size` bounds tree listings so tests can
    exercise the client's pagination; `requests` records (method, path) of every call.
    """

    def __init__(self, root: Path, token: str, *, page_size: int = 1000):
        self.root, self.token, self.page_size = root, token, page_size
        (root / "blobs").mkdir(parents=True, exist_ok=True)
        self.repos: dict[tuple[str, str], Repo] = {}
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._http.hub = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> HubServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(timeout=5)

    # -- storage --------------------------------------------------------------------------

    def repo(self, kind: str, repo_id: str) -> Repo:
        try:
            return self.repos[(kind, repo_id)]
        except KeyError:
            raise HubError(404, "Repository not found", "RepoNotFound") from None

    def blob(self, blob_id: str) -> bytes:
        return (self.root / "blobs" / blob_id).read_bytes()

    def blob_size(self, blob_id: str) -> int:
        return (self.root / "blobs" / blob_id).stat().st_size

    def put_blob(self, data: bytes) -> str:
        blob_id = git_blob_id(data)
        (self.root / "blobs" / blob_id).write_bytes(data)
        return blob_id

    def commit(self, repo: Repo, branch: str, parent: str | None, message: str, tree: dict) -> str:
        """Record a snapshot and move `branch` to it; the sha hashes everything it holds."""
        body = json.dumps({"parent": parent, "message": message, "tree": tree}, sort_keys=True)
        sha = hashlib.sha1(body.encode()).hexdigest()
        repo.commits[sha] = Commit(sha, parent, message, dict(tree))
        repo.branches[branch] = sha
        return sha


class _Handler(BaseHTTPRequestHandler):
    """Routes a request to one of the Hub endpoints below and writes its JSON or bytes."""

    protocol_version = "HTTP/1.1"  # keep-alive, as the client's connection pool expects
    timeout = 10  # idle keep-alive connections close on their own after the test
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stall

    @property
    def hub(self) -> HubServer:
        return self.server.hub  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Silent: a test's output is its assertions."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    # -- plumbing -------------------------------------------------------------------------

    def _dispatch(self, method: str) -> None:
        split = urlsplit(self.path)
        self.query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        self.hub.requests.append((method, split.path))
        body = self._read_body()
        try:
            for route_method, pattern, handler in ROUTES:
                match = pattern.fullmatch(split.path)
                if match and method in route_method:
                    groups = {k: unquote(v) for k, v in match.groupdict().items() if v is not None}
                    with self.hub.lock:
                        handler(self, body, **groups)
                    return
            raise HubError(404, f"no route for {method} {split.path}")
        except HubError as e:
            headers = {"X-Error-Message": e.message, **e.headers}
            if e.code:
                headers["X-Error-Code"] = e.code
            self._send_json({"error": e.message, **e.extra}, e.status, headers)
        except Exception as e:  # a bug here should read as a 500, not as a dropped connection
            self._send_json({"error": f"{type(e).__name__}: {e}"}, 500)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, data: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _send_json(self, value: object, status: int = 200, headers: dict | None = None) -> None:
        data = json.dumps(value).encode()
        self._send(status, data, {"Content-Type": "application/json", **(headers or {})})

    def _authorised(self, *, write: bool) -> bool:
        """A wrong token is always refused; a missing one only for writes."""
        header = self.headers.get("Authorization")
        if header is None:
            if write:
                raise HubError(401, "Invalid username or password.")
            return False
        if header != f"Bearer {self.hub.token}":
            raise HubError(401, BAD_TOKEN)
        return True

    def _readable(self, kinds: str, repo_id: str) -> Repo:
        authorised = self._authorised(write=False)
        repo = self.hub.repo(KINDS[kinds], repo_id)
        if repo.private and not authorised:
            raise HubError(404, "Repository not found", "RepoNotFound")
        return repo

    def _writable(self, kinds: str, repo_id: str) -> Repo:
        self._authorised(write=True)
        return self.hub.repo(KINDS[kinds], repo_id)

    def _base(self, kind: str) -> str:
        prefix = "" if kind == "model" else f"{kind}s/"
        return f"{self.hub.url}/{prefix}"

    # -- endpoints ------------------------------------------------------------------------

    def create_repo(self, body: bytes) -> None:
        self._authorised(write=True)
        payload = json.loads(body)
        kind = payload.get("type") or "model"
        repo_id = f"{payload['organization']}/{payload['name']}"
        url = f"{self._base(kind)}{repo_id}"
        if (kind, repo_id) in self.hub.repos:
            raise HubError(409, f"You already created this {kind} repo", extra={"url": url})
        repo = Repo(kind, repo_id, private=payload.get("visibility") == "private")
        self.hub.repos[(kind, repo_id)] = repo
        tree = {".gitattributes": self.hub.put_blob(INITIAL_GITATTRIBUTES)}
        self.hub.commit(repo, "main", None, "initial commit", tree)
        self._send_json({"url": url, "name": repo_id, "id": repo_id})

    def validate_yaml(self, body: bytes) -> None:
        content = json.loads(body)["content"]
        front = re.match(r"^---\n(.*?)\n---\n", content, re.DOTALL)
        try:
            yaml.safe_load(front.group(1)) if front else None
        except yaml.YAMLError as e:
            self._send_json({"errors": [{"message": str(e)}]}, 400)
            return
        self._send_json({"errors": [], "warnings": []})

    def refs(self, body: bytes, kinds: str, repo_id: str) -> None:
        repo = self._readable(kinds, repo_id)

        def refs_of(names: dict[str, str], prefix: str) -> list[dict]:
            return [{"name": n, "ref": f"{prefix}{n}", "targetCommit": s} for n, s in names.items()]

        self._send_json(
            {
                "branches": refs_of(repo.branches, "refs/heads/"),
                "tags": refs_of(repo.tags, "refs/tags/"),
                "converts": [],
                "pullRequests": [],
            }
        )

    def repo_info(self, body: bytes, kinds: str, repo_id: str, revision: str = "main") -> None:
        repo = self._readable(kinds, repo_id)
        commit = repo.resolve(revision)
        siblings = [{"rfilename": path} for path in sorted(commit.tree)]
        author = repo_id.split("/")[0]
        self._send_json(
            {"id": repo_id, "author": author, "sha": commit.sha, "private": repo.private}
            | {"disabled": False, "gated": False, "tags": [], "siblings": siblings}
        )

    def tree(self, body: bytes, kinds: str, repo_id: str, revision: str, path: str = "") -> None:
        """Files and folders under `path`, paginated with a `Link: rel="next"` header."""
        commit = self._readable(kinds, repo_id).resolve(revision)
        prefix = f"{path.strip('/')}/" if path.strip("/") else ""
        recursive = self.query.get("recursive", "").lower() == "true"  # httpx sends "true"
        entries = _tree_entries(commit, prefix, recursive)
        if prefix and not entries:
            raise HubError(404, f"{path} does not exist at {revision}", "EntryNotFound")
        start = int(self.query.get("cursor", 0))
        end = start + self.hub.page_size
        page = []
        for kind, p, oid in entries[start:end]:
            size = self.hub.blob_size(oid) if kind == "file" else 0
            page.append({"type": kind, "path": p, "oid": oid, "size": size})
        headers = {}
        if end < len(entries):
            query = urlencode({**self.query, "cursor": end})
            headers["Link"] = f'<{self.hub.url}{urlsplit(self.path).path}?{query}>; rel="next"'
        self._send_json(page, headers=headers)

    def preupload(self, body: bytes, kinds: str, repo_id: str, revision: str) -> None:
        head = self._writable(kinds, repo_id).resolve(revision)
        files = [
            {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False}
            | {"oid": head.tree.get(f["path"])}
            for f in json.loads(body)["files"]
        ]
        self._send_json({"files": files, "commitOid": head.sha})

    def commit(self, body: bytes, kinds: str, repo_id: str, revision: str) -> None:
        """Apply an NDJSON commit (header, file, deletedFile, deletedFolder) to a branch."""
        repo = self._writable(kinds, repo_id)
        if self.query.get("create_pr"):
            raise HubError(400, "this test Hub has no pull requests")
        if revision not in repo.branches:
            raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        lines = [json.loads(line) for line in body.splitlines() if line.strip()]
        if not lines or lines[0]["key"] != "header":
            raise HubError(400, "the first line of a commit must be its header")
        header, head = lines[0]["value"], repo.resolve(revision)
        if header.get("parentCommit") not in (None, head.sha):
            raise HubError(412, "A commit has happened since. Please refresh and try again.")
        tree = dict(head.tree)
        for line in lines[1:]:
            _apply(self.hub, tree, line["key"], line["value"])
        sha = self.hub.commit(repo, revision, head.sha, header["summary"], tree)
        url = f"{self._base(repo.kind)}{repo_id}/commit/{sha}"
        self._send_json({"success": True, "commitOid": sha, "commitUrl": url})

    def tag(self, body: bytes, kinds: str, repo_id: str, revision: str) -> None:
        repo = self._writable(kinds, repo_id)
        name = json.loads(body)["tag"]
        commit = repo.resolve(revision)
        if name in repo.tags:
            raise HubError(409, f"Tag {name} already exists")
        repo.tags[name] = commit.sha
        self._send_json({})

    def resolve(self, body: bytes, kinds: str, repo_id: str, revision: str, path: str) -> None:
        """A file of a revision, with the headers `hf_hub_download` requires (HEAD and GET)."""
        commit = self._readable(kinds, repo_id).resolve(revision)
        blob_id = commit.tree.get(path)
        if blob_id is None:
            headers = {"X-Repo-Commit": commit.sha}
            raise HubError(404, f"{path} does not exist", "EntryNotFound", headers=headers)
        headers = {"X-Repo-Commit": commit.sha, "ETag": f'"{blob_id}"'}
        headers["Content-Type"] = "application/octet-stream"
        self._send(200, self.hub.blob(blob_id), headers)


def _tree_entries(commit: Commit, prefix: str, recursive: bool) -> list[tuple[str, str, str]]:
    """(type, path, oid) under `prefix`: its files, and the folders their paths imply."""
    entries: dict[str, tuple[str, str, str]] = {}
    for path, blob_id in commit.tree.items():
        if not path.startswith(prefix):
            continue
        parts = path[len(prefix) :].split("/")
        depth = len(parts) if recursive else 1
        for i in range(1, min(depth, len(parts) - 1) + 1):
            folder = prefix + "/".join(parts[:i])
            folder_id = hashlib.sha1(f"{commit.sha}:{folder}".encode()).hexdigest()
            entries[folder] = ("directory", folder, folder_id)
        if recursive or len(parts) == 1:
            entries[path] = ("file", path, blob_id)
    return [entries[p] for p in sorted(entries)]


def _apply(hub: HubServer, tree: dict[str, str], key: str, value: dict) -> None:
    """One commit operation on a working tree."""
    path = value["path"]
    if key == "file":
        tree[path] = hub.put_blob(base64.b64decode(value["content"]))
    elif key == "deletedFile":
        if tree.pop(path, None) is None:
            raise HubError(404, "A file with this name doesn't exist", "EntryNotFound")
    elif key == "deletedFolder":
        for p in [p for p in tree if p.startswith(path.rstrip("/") + "/")]:
            del tree[p]
    else:  # lfsFile: never asked for, since preupload answers "regular" for every path
        raise HubError(400, f"this test Hub stores files inline; got a {key!r} operation")


_REPO = r"/(?P<kinds>models|datasets|spaces)/(?P<repo_id>[^/]+/[^/]+)"
ROUTES: list[tuple[tuple[str, ...], re.Pattern, Callable]] = [
    (("POST",), re.compile(r"/api/repos/create"), _Handler.create_repo),
    (("POST",), re.compile(r"/api/validate-yaml"), _Handler.validate_yaml),
    (("GET",), re.compile(rf"/api{_REPO}/refs"), _Handler.refs),
    (("GET",), re.compile(rf"/api{_REPO}(?:/revision/(?P<revision>[^/]+))?"), _Handler.repo_info),
    (
        ("GET",),
        re.compile(rf"/api{_REPO}/tree/(?P<revision>[^/]+)(?:/(?P<path>.*))?"),
        _Handler.tree,
    ),
    (("POST",), re.compile(rf"/api{_REPO}/preupload/(?P<revision>[^/]+)"), _Handler.preupload),
    (("POST",), re.compile(rf"/api{_REPO}/commit/(?P<revision>[^/]+)"), _Handler.commit),
    (("POST",), re.compile(rf"/api{_REPO}/tag/(?P<revision>[^/]+)"), _Handler.tag),
    (
        ("GET", "HEAD"),
        re.compile(rf"{_REPO}/resolve/(?P<revision>[^/]+)/(?P<path>.+)"),
        _Handler.resolve,
    ),
]
