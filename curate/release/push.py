"""Publish a release folder to the Hugging Face Hub and pin it with an immutable tag.

A release is named by its version: the tag `v<version>` names one commit forever, so whoever
loads `revision="v0.1.0"` next year gets the bytes that were validated. push therefore refuses,
before uploading anything, when the tag exists, and it writes the whole release as one commit
whose tree is exactly the release folder: a shard left over from an earlier release would
otherwise leak into this one's `data_files`.

Because that commit replaces main, push also refuses, unless forced, when main holds a release
of another name (a mistyped `--repo` would silently overwrite someone's dataset) and when the
version is lower than the newest `v*` tag (main would go back in time while `load_dataset`
users without a revision expect the newest release). Forcing never moves a tag.

The Hub address and credentials are huggingface_hub's own: `HF_ENDPOINT` (read when push runs,
not when the library was imported) and `HF_TOKEN` (or a token stored by `hf auth login`), which
this module never reads, prints or writes.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, constants
from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled
from huggingface_hub.utils import disable_progress_bars
from huggingface_hub.utils import httpx as hub_http  # the client's HTTP library, whichever it is

from curate.release.meta import META_PATH, release_files

REPO_TYPE = "dataset"
BRANCH = "main"
# Kept when the tree is made equal to the release: the Hub writes it into every new repo and
# reads its LFS rules.
HUB_FILES = frozenset({".gitattributes"})
# Semantic versioning 2.0.0: MAJOR.MINOR.PATCH, an optional -prerelease and +build.
_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?")
_REPO_ID = re.compile(r"[\w.-]+/[\w.-]+")


class PushError(ValueError):
    """A push that did not happen, with what to do about it."""


@dataclass(frozen=True)
class PushResult:
    """Where a release went: the commit that holds it and the tag that names it."""

    repo_id: str
    commit: str
    tag: str
    url: str


def release_tag(version: str) -> str:
    """The Hub tag of a release version.

    >>> release_tag("0.1.0")
    'v0.1.0'
    """
    return f"v{version}"


def _local_meta(folder: Path) -> dict:
    """`meta/release.json` of a release folder, with a semantic `version`."""
    meta = folder / META_PATH
    if not meta.is_file():
        raise PushError(f"not a release folder: run curate build first ({meta} is missing)")
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise PushError(f"{meta} is not valid JSON ({e}): run curate build again") from e
    data = data if isinstance(data, dict) else {}
    version = data.get("version")
    if not isinstance(version, str) or not _VERSION.fullmatch(version):
        raise PushError(f"{meta} has no semantic version (got {version!r}): run curate build again")
    return data


def version_precedence(version: str) -> tuple:
    """A sort key that orders versions as semantic versioning 2.0.0 does (build metadata ignored).

    >>> sorted(["0.10.0", "0.2.0", "1.0.0", "1.0.0-rc.1", "1.0.0-alpha"], key=version_precedence)
    ['0.2.0', '0.10.0', '1.0.0-alpha', '1.0.0-rc.1', '1.0.0']
    """
    match = _VERSION.fullmatch(version)
    if match is None:
        raise ValueError(f"not a semantic version: {version!r}")
    major, minor, patch, pre = match.groups()
    # A release sorts after its prereleases; numeric identifiers sort before alphanumeric ones.
    identifiers = [(0, int(i), "") if i.isdigit() else (1, 0, i) for i in (pre or "").split(".")]
    return int(major), int(minor), int(patch), pre is None, identifiers if pre else []


def hub_endpoint() -> str:
    """`HF_ENDPOINT` as it is now: huggingface_hub reads it once, at import."""
    return (os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")


def push(
    folder: Path,
    repo_id: str,
    *,
    private: bool = False,
    progress: bool = True,
    force: bool = False,
) -> PushResult:
    """Upload `folder` to the dataset repo `repo_id` as one commit and tag it `v<version>`.

    Creates the repo when it is missing (`private` applies only then). Raises PushError, with
    nothing uploaded, when the tag exists: a release is never re-tagged, `force` or not. Also
    refuses, unless `force`, when main holds a release of another name or a `v*` tag names a
    newer version. `progress` shows the client's upload bars. One `create_commit`, not
    `upload_folder`: with hf_xet installed, `upload_folder` may split a large folder into
    several commits, and main would then hold half a release between them.
    """
    folder = Path(folder)
    meta = _local_meta(folder)
    name, version = meta.get("name"), meta["version"]
    tag = release_tag(version)
    if not _REPO_ID.fullmatch(repo_id):
        raise PushError(f"--repo must be ORG/NAME, got {repo_id!r}")
    endpoint = hub_endpoint()
    api = HfApi(endpoint=endpoint)
    bars = nullcontext() if progress else disable_progress_bars()
    with bars, _hub_errors(endpoint, repo_id):
        api.create_repo(repo_id, repo_type=REPO_TYPE, private=private, exist_ok=True)
        refs = api.list_repo_refs(repo_id, repo_type=REPO_TYPE)
        tagged = {ref.name: ref.target_commit for ref in refs.tags}
        if tag in tagged:
            raise PushError(_retag_message(repo_id, tag, tagged[tag]))
        head = next((ref.target_commit for ref in refs.branches if ref.name == BRANCH), None)
        remote = api.list_repo_files(repo_id, repo_type=REPO_TYPE, revision=head) if head else []
        if not force:
            if META_PATH in remote:
                _check_same_name(api, repo_id, head, name)
            _check_not_older(repo_id, version, tagged)
        commit = api.create_commit(
            repo_id,
            _operations(folder, remote),
            commit_message=f"curate release {tag}",
            repo_type=REPO_TYPE,
            revision=BRANCH,
            parent_commit=head,  # the tree was diffed against head: fail if main moved since
        )
        _create_tag(api, repo_id, tag, commit.oid)
    return PushResult(repo_id, commit.oid, tag, f"{endpoint}/datasets/{repo_id}/tree/{tag}")


def _check_same_name(api: HfApi, repo_id: str, head: str | None, name: object) -> None:
    """Refuse to replace a main that holds a release of another name."""
    with tempfile.TemporaryDirectory(prefix="curate-push-") as tmp:
        path = api.hf_hub_download(
            repo_id, META_PATH, repo_type=REPO_TYPE, revision=head, local_dir=tmp
        )
        try:
            there = json.loads(Path(path).read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            there = None  # not curate's, or broken: either way not this release's
    there = there if isinstance(there, dict) else {}
    if there.get("name") == name:
        return
    if isinstance(there.get("name"), str):
        what = f"release {there['name']!r} version {there.get('version')}"
    else:
        what = f"a {META_PATH} with no release name"
    raise PushError(
        f"{BRANCH} of {repo_id} holds {what}, not {name!r}: push to a repo of its own with"
        f" --repo, or pass --force to replace {repo_id}'s {BRANCH} with {name!r}"
    )


def _check_not_older(repo_id: str, version: str, tagged: dict[str, str]) -> None:
    """Refuse a version lower than the newest release tag: main would go back in time."""
    versions = [t[1:] for t in tagged if t.startswith("v") and _VERSION.fullmatch(t[1:])]
    newest = max(versions, key=version_precedence, default=None)
    if newest is None or version_precedence(version) >= version_precedence(newest):
        return
    raise PushError(
        f"{repo_id} already has release {release_tag(newest)}, newer than {version}: set"
        f" `version` in the recipe above {newest} and build again, or pass --force to put"
        f" {version} on {BRANCH} anyway"
    )


def _operations(
    folder: Path, remote: list[str]
) -> list[CommitOperationAdd | CommitOperationDelete]:
    """Add every release file; delete what main holds beyond them (but the Hub's own)."""
    local = release_files(folder)
    stale = sorted(set(remote) - set(local) - HUB_FILES)
    adds = [CommitOperationAdd(path, folder / path) for path in local]
    return [*adds, *(CommitOperationDelete(path) for path in stale)]


def _create_tag(api: HfApi, repo_id: str, tag: str, commit: str) -> None:
    """Tag the release commit; a 409 here means someone tagged the version while we pushed."""
    try:
        api.create_tag(
            repo_id, tag=tag, revision=commit, repo_type=REPO_TYPE, tag_message=f"curate {tag}"
        )
    except HfHubHTTPError as e:
        if e.response.status_code != 409:
            raise
        message = _retag_message(repo_id, tag, None)
        raise PushError(f"{message} (commit {commit} reached {BRANCH} untagged)") from e


def _retag_message(repo_id: str, tag: str, commit: str | None) -> str:
    where = f" (commit {commit})" if commit else ""
    return (
        f"tag {tag} already exists on {repo_id}{where}: a release is never re-tagged;"
        " bump `version` in the recipe and build again"
    )


@contextmanager
def _hub_errors(endpoint: str, repo_id: str) -> Iterator[None]:
    """Turn the client's transport and HTTP errors into messages that say what to do."""
    try:
        yield
    except OfflineModeIsEnabled as e:
        raise PushError("HF_HUB_OFFLINE is set: unset it to push") from e
    except hub_http.TransportError as e:
        raise PushError(
            f"cannot reach the Hub at {endpoint} ({type(e).__name__}: {e}):"
            " check the network, or HF_ENDPOINT if it is set"
        ) from e
    except HfHubHTTPError as e:
        raise PushError(_http_message(e, endpoint, repo_id)) from e


def _http_message(error: HfHubHTTPError, endpoint: str, repo_id: str) -> str:
    status = error.response.status_code
    if status == 401:
        return (
            f"the Hub at {endpoint} refused the credentials (401): set HF_TOKEN to a token"
            f" with write access to {repo_id}"
        )
    if status == 403:
        return (
            f"the token cannot write to {repo_id} on {endpoint} (403): set HF_TOKEN to a"
            f" write token of an account that may write to {repo_id.split('/')[0]}"
        )
    if status == 412:
        return f"{repo_id} changed on {endpoint} during the push (412): run curate push again"
    detail = error.server_message or str(error).splitlines()[0]
    return f"the Hub at {endpoint} refused the push to {repo_id} ({status}): {detail}"
