"""Fetch the VPT segments a public index file lists into a local cache.

A recipe may name an index (`{"basedir": "https://.../minecraft-rl/", "relpaths":
["data/10.0/<name>.mp4", ...]}`) instead of a folder. Its first `limit` segments are downloaded
into `cache/<relpath>` (the `.jsonl` at the same path as the `.mp4`; the recorder version folder
`data/10.0/` is kept, so the recorder version stays visible in the input's name) with the
standard library only.

Why it is built the way it is:

- A segment's mp4 is tens of MB over links that drop, so every file is written to `<file>.part`
  and a retry resumes it with `Range: bytes=<size>-`. Only a body whose length equals the server's
  total (Content-Length, or the total of Content-Range) is renamed into place (atomically).
- A build system needs every good recording built and every bad one quarantined with a reason,
  so a segment that fails (404, retries exhausted) does not raise: `FetchResult.failures` names it
  with its URL and reason, and the other segments are still fetched. Local disk errors do raise:
  they say nothing about the recording, and quarantining every segment on a full disk would
  silently build an empty dataset.
- Rebuilds must work offline and must not rehash hundreds of GB, so `cache/manifest.json`
  records each verified file's size and sha256 (computed while streaming). A file whose size
  matches its entry is reused with no network request; the release builder names its inputs by
  relpath + sha256 from the same record. A file in the cache without an entry (a crash between
  the rename and the manifest write) is re-checked as a complete partial download: the server
  answers 416 with its total and the file is hashed once, without downloading it again.
- A machine without network (or a wrong `base_url`) would see every segment fail after its
  retries, minutes of waiting for a build with nothing to build. So when the first `_PROBE`
  segments that needed the network (or all, if fewer) failed for one reason before any was
  fetched, fetch_index stops and raises, naming the reason and the host. Segments found in the
  cache do not end that probe when the failures were retried ones (cannot connect, 5xx): those
  are about the host, not the files. A definite answer about a file (404) stops the fetch only
  while nothing at all was found: one missing segment among good ones is just a failure.
- Not safe for two processes fetching into one cache at once (they would resume the same
  `.part`): a build fetches before it starts its workers.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import socket
import ssl
import tempfile
import threading
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath, PureWindowsPath
from urllib.parse import quote, urlsplit

from curate.hashing import sha256_file_digest

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1

_CHUNK = 1 << 20
_MAX_BACKOFF = 60.0
_FLUSH_SECONDS = 5.0  # a long fetch saves the manifest this often, so a crash loses little
_RETRY_CODES = {408, 425, 429}  # plus every 5xx: the server may answer the next attempt
_AGENT = "curate"  # some CDNs refuse urllib's default agent
_PROBE = 3  # first segments that, failing alike, stop a fetch
DOWNLOADS = 4  # segments fetched at once, once the first has arrived

# OpenAI's public index files of the VPT contractor data, by file name: the README of
# github.com/openai/Video-Pre-Training ("Contractor Demonstrations", one per recorder version)
# links each of them under this folder.
VPT_INDEX_HOME = "https://github.com/openai/Video-Pre-Training#contractor-demonstrations"
_VPT_SNAPSHOTS = "https://openaipublic.blob.core.windows.net/minecraft-rl/snapshots/"
VPT_INDEX_URLS = {
    name: _VPT_SNAPSHOTS + name
    for name in (
        "all_6xx_Jun_29.json",
        "all_7xx_Apr_6.json",
        "all_8xx_Jun_29.json",
        "all_9xx_Jun_29.json",
        "all_10xx_Jun_29.json",
    )
}


class DownloadError(ValueError):
    """An index that cannot be used, or one file that could not be fetched; names file or URL.

    `kind` is the reason without its details (`connection refused`, `HTTP 404`), to tell the
    failures that share a cause.
    """

    def __init__(
        self, where: Path | str, reason: str, kind: str | None = None, *, retried: bool = False
    ) -> None:
        self.where, self.reason, self.kind = str(where), reason, kind or reason
        self.retried = retried  # the reason outlasted the retries (not a definite answer)
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class VptIndex:
    """A public VPT index: segment paths (`data/<version>/<name>.mp4`) relative to `basedir`."""

    basedir: str
    relpaths: tuple[str, ...]


@dataclass(frozen=True)
class FetchResult:
    """What `fetch_index` got: the builder reads `paths` and quarantines `failures`."""

    # each fetched segment's local .jsonl, in index order
    paths: list[Path]
    # index relpath (.mp4) -> "<url>: <reason>" of each segment not fetched
    failures: dict[str, str]
    # cache relpath (.jsonl and .mp4) -> sha256 of every file of the fetched segments
    sha256: dict[str, str]


class _Transient(Exception):
    """A failure the next attempt may not see: connection lost, timeout, 5xx, short body."""

    def __init__(self, reason: str, kind: str = "transfer failed") -> None:
        super().__init__(reason)
        self.kind = kind


def jsonl_path(relpath: str) -> str:
    """The `.jsonl` that sits beside an index entry's `.mp4` (same folder, other suffix).

    >>> jsonl_path("data/10.0/cheeky-cornflower-setter-02e496ce4abb-20220421-092639.mp4")
    'data/10.0/cheeky-cornflower-setter-02e496ce4abb-20220421-092639.jsonl'
    """
    return str(PurePosixPath(relpath).with_suffix(".jsonl"))


def read_index(path: Path | str) -> VptIndex:
    """Read and check an index file; raise `DownloadError` naming the file and the bad entry.

    Every relpath is checked here, not only the first `limit`: an index with one entry that would
    write outside the cache (absolute, `..`, a drive) is not to be trusted at all.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise DownloadError(path, f"no such index file: {_where_to_get(path)}") from None
    except OSError as exc:
        raise DownloadError(path, f"cannot read the index: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DownloadError(path, f"not a VPT index: invalid JSON ({exc})") from None
    if not isinstance(data, dict) or not {"basedir", "relpaths"} <= data.keys():
        raise DownloadError(path, 'not a VPT index: expected {"basedir": ..., "relpaths": [...]}')
    basedir, relpaths = data["basedir"], data["relpaths"]
    if not isinstance(basedir, str) or not basedir:
        raise DownloadError(path, "not a VPT index: basedir must be a non-empty string")
    if not isinstance(relpaths, list):
        raise DownloadError(path, "not a VPT index: relpaths must be a list")
    for i, relpath in enumerate(relpaths):
        reason = _bad_relpath(relpath)
        if reason:
            raise DownloadError(path, f"relpaths[{i}] ({relpath!r}): {reason}")
    return VptIndex(basedir, tuple(relpaths))


def _where_to_get(path: Path) -> str:
    url = VPT_INDEX_URLS.get(path.name)
    if url:
        return f"download it from {url} into {path.parent}"
    names = ", ".join(VPT_INDEX_URLS)
    return (
        f"OpenAI's public VPT index files ({names}) are at {_VPT_SNAPSHOTS}<name>,"
        f" listed in {VPT_INDEX_HOME}"
    )


def _bad_relpath(relpath: object) -> str | None:
    if not isinstance(relpath, str) or not relpath:
        return "not a non-empty string"
    if (
        "\\" in relpath
        or PurePosixPath(relpath).is_absolute()
        or PureWindowsPath(relpath).anchor
        or any(part in ("", ".", "..") for part in relpath.split("/"))
    ):
        return "would escape the cache (absolute, '..', '.', empty part or backslash)"
    if not relpath.endswith(".mp4"):
        return "expected a .mp4 segment path"
    return None


def fetch_index(
    index: Path | str,
    cache: Path | str,
    *,
    limit: int,
    base_url: str | None = None,
    video: bool = True,
    progress: Callable[[int], None] | None = None,
    timeout: float = 30.0,
    retries: int = 3,
    backoff: float = 1.0,
    parallel: int = DOWNLOADS,
) -> FetchResult:
    """Fetch the first `limit` segments of `index` into `cache`; failed segments are reported.

    `base_url` replaces the index's basedir (a mirror). `video=False` fetches only the `.jsonl`
    (action-only builds). `progress` receives the byte count of each chunk received, for a bar.
    `timeout` bounds each connect or read that stalls; `retries` counts attempts that made no
    progress (a dropped transfer that grew the `.part` resumes without using one up), spaced by
    `backoff * 2**k` seconds; `parallel` segments download at once. Raises `DownloadError` for
    a bad index, or when the first segments that needed the network all failed for one reason;
    `OSError` for local errors.
    """
    if limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    vpt = read_index(index)
    base = (base_url or vpt.basedir).rstrip("/") + "/"
    cache = Path(cache)
    cache.mkdir(parents=True, exist_ok=True)
    manifest = _Manifest(cache / MANIFEST)
    paths: list[Path] = []
    failures: dict[str, str] = {}
    hashes: dict[str, str] = {}
    fetch = partial(
        _ensure,
        cache=cache,
        manifest=manifest,
        progress=_serialised(progress) if progress else None,
        timeout=timeout,
        retries=retries,
        backoff=backoff,
    )
    wanted = list(dict.fromkeys(vpt.relpaths))[:limit]  # a path listed twice is fetched once

    def segment(relpath: str) -> dict[str, str]:
        return {rel: fetch(base + quote(rel), rel) for rel in _files(relpath, video)}

    # Every failure so far, while all failed alike and no segment was fetched; None after.
    probe: list[DownloadError] | None = []
    k = 0
    pool = ThreadPoolExecutor(parallel)
    try:
        # The probe: one segment at a time until one arrives over the network, so a dead mirror
        # costs _PROBE requests and no more; then `parallel` at once, taken in index order.
        while probe is not None and k < len(wanted):
            relpath, k = wanted[k], k + 1
            cached = all(manifest.verified(cache, rel) for rel in _files(relpath, video))
            try:
                hashes.update(segment(relpath))
            except DownloadError as exc:
                failures[relpath] = str(exc)
                probe = [*probe, exc] if all(e.kind == exc.kind for e in probe) else None
                if probe and len(probe) == _PROBE and (exc.retried or not paths):
                    raise _stopped(index, base, cache, probe, len(paths)) from None
            else:
                paths.append(cache / jsonl_path(relpath))
                if not cached:
                    probe = None
            manifest.save(every=_FLUSH_SECONDS)
        rest = wanted[k:]
        for relpath, future in zip(rest, [pool.submit(segment, r) for r in rest], strict=True):
            try:
                hashes.update(future.result())
            except DownloadError as exc:
                failures[relpath] = str(exc)
            else:
                paths.append(cache / jsonl_path(relpath))
            manifest.save(every=_FLUSH_SECONDS)
    finally:
        pool.shutdown(cancel_futures=True)
        manifest.save()
    if probe and not paths:  # fewer than _PROBE segments, all failed alike
        raise _stopped(index, base, cache, probe, 0)
    return FetchResult(paths, failures, hashes)


def _files(relpath: str, video: bool) -> list[str]:
    """The files of one segment to fetch: its .jsonl, and its .mp4 unless action-only."""
    return [jsonl_path(relpath)] + ([relpath] if video else [])


def _serialised(progress: Callable[[int], None]) -> Callable[[int], None]:
    """`progress`, called by one download thread at a time."""
    lock = threading.Lock()

    def report(n: int) -> None:
        with lock:
            progress(n)

    return report


def _stopped(
    index: Path | str, base: str, cache: Path, probe: list[DownloadError], cached: int
) -> DownloadError:
    """Why a fetch stopped early, and what to do about it. `cached`: the segments before the
    failures, all found in the cache (a fetched one would have ended the probe)."""
    kind, host = probe[0].kind, urlsplit(base).netloc or base
    which = "the only segment" if len(probe) == 1 else f"each of {len(probe)} segments"
    reason = (
        f"{kind} for {which} asked of {host} (first: {probe[0]}), so the fetch"
        f" stopped: check the network, and that {base} serves the files the index names"
        " (a recipe's `base_url` replaces the index's basedir), or put each segment's .jsonl"
        f" (and .mp4) by hand into {cache} at the path the index names"
    )
    if cached:
        reason += f"; the cache holds the segments before them: `limit: {cached}` uses those alone"
    return DownloadError(index, reason, kind)


def _ensure(url: str, rel: str, *, cache: Path, manifest: _Manifest, **options) -> str:
    """The sha256 of `cache/rel`, downloading it unless the manifest vouches for the file."""
    known = manifest.verified(cache, rel)
    if known:
        return known
    dest = cache / rel
    if dest.is_file():
        if rel in manifest.entries:  # changed since verified: not to be trusted as a prefix
            dest.unlink()
        else:  # verified once, entry lost: a Range request past its end confirms it (416)
            os.replace(dest, _part(dest))
    dest.parent.mkdir(parents=True, exist_ok=True)
    size, sha = _download(url, dest, **options)
    manifest.put(rel, size, sha)
    return sha


def _download(
    url: str,
    dest: Path,
    *,
    progress: Callable[[int], None] | None,
    timeout: float,
    retries: int,
    backoff: float,
) -> tuple[int, str]:
    """Bring `dest` in through `dest.part` with bounded retries; return (size, sha256)."""
    part = _part(dest)
    best, fruitless = _size(part), 0
    while True:
        try:
            return _attempt(url, part, dest, progress, timeout)
        except _Transient as exc:
            if _size(part) > best:
                best, fruitless = _size(part), 0
            else:
                fruitless += 1
            if fruitless > retries:
                reason = f"gave up after {retries + 1} tries: {exc}"
                raise DownloadError(url, reason, exc.kind, retried=True) from None
            time.sleep(min(backoff * 2 ** max(fruitless - 1, 0), _MAX_BACKOFF))


def _attempt(
    url: str, part: Path, dest: Path, progress: Callable[[int], None] | None, timeout: float
) -> tuple[int, str]:
    """One request: resume or restart `part`, stream it while hashing, verify, rename."""
    offset = _size(part)
    headers = {"User-Agent": _AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        response = urllib.request.urlopen(
            urllib.request.Request(url, headers=headers), timeout=timeout
        )
    except urllib.error.HTTPError as exc:
        with exc:
            if exc.code == 416 and offset:
                # The partial file reaches the end already, or is longer than the remote file.
                if _content_range(exc.headers.get("Content-Range"))[1] == offset:
                    return _finish(part, dest, sha256_file_digest(part))
                part.unlink()
                raise _Transient(f"HTTP 416 for a {offset}-byte partial file") from None
            status = f"HTTP {exc.code}"
            if exc.code >= 500 or exc.code in _RETRY_CODES:
                raise _Transient(f"{status} {exc.reason}", status) from None
            raise DownloadError(url, f"{status} {exc.reason}", status) from None
    except (http.client.HTTPException, OSError) as exc:  # URLError is an OSError
        reason = getattr(exc, "reason", exc)
        raise _Transient(f"cannot connect: {reason}", _connect_kind(reason)) from None
    with response:
        if response.status == 206:
            start, total = _content_range(response.headers.get("Content-Range"))
            if start != offset:
                part.unlink()
                raise _Transient(f"asked for bytes from {offset}, got them from {start}")
        else:  # the server ignored Range (or none was sent): the body is the whole file
            offset, total = 0, _int(response.headers.get("Content-Length"))
        sha = sha256_file_digest(part) if offset else hashlib.sha256()
        with part.open("ab" if offset else "wb") as out:
            while True:
                try:
                    chunk = response.read1(_CHUNK)  # what has arrived: a stall loses nothing
                except (http.client.HTTPException, OSError) as exc:
                    raise _Transient(f"connection lost: {exc!r}", "connection lost") from None
                if not chunk:
                    break
                out.write(chunk)
                sha.update(chunk)
                if progress:
                    progress(len(chunk))
    size = _size(part)
    # http.client returns a short body without complaint when the peer closes early; a body
    # without any length (chunked) is complete when the chunk framing ended cleanly.
    if total is not None and size != total:
        if size > total:
            part.unlink()
        raise _Transient(f"got {size} of {total} bytes")
    return _finish(part, dest, sha)


def _connect_kind(reason: object) -> str:
    """What kind of connection failure `reason` (a URLError's reason, or the error) is."""
    if isinstance(reason, socket.gaierror):
        return "cannot resolve the host name"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, TimeoutError):
        return "connection timed out"
    if isinstance(reason, ssl.SSLError):
        return "TLS handshake failed"
    return "cannot connect"


def _finish(part: Path, dest: Path, sha: hashlib._Hash) -> tuple[int, str]:
    size = _size(part)
    os.replace(part, dest)
    return size, sha.hexdigest()


def _content_range(value: str | None) -> tuple[int | None, int | None]:
    """(first byte, total) of `bytes 100-999/1000` or `bytes */1000`; None where unknown."""
    match = re.fullmatch(r"\s*bytes\s+(?:(\d+)-\d+|\*)/(\d+|\*)\s*", value or "")
    if not match:
        return None, None
    return _int(match[1]), _int(match[2])


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _part(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


class _Manifest:
    """`cache/manifest.json`: `{"version": 1, "files": {relpath: {"size", "sha256"}}}`.

    Saved atomically; a save merges into what is on disk, so another fetch's entries survive.
    A corrupt manifest is dropped with a warning: every file is then re-checked, none is lost.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries = self._load(warn=True)
        self.new: dict[str, dict] = {}
        self.saved = time.monotonic()
        self.lock = threading.Lock()  # download threads put, the fetch's thread saves

    def _load(self, warn: bool = False) -> dict[str, dict]:
        try:
            data = json.loads(self.path.read_bytes())
            files = data["files"]
            if data.get("version") != MANIFEST_VERSION or not isinstance(files, dict):
                raise ValueError(f"version {data.get('version')!r}")
        except FileNotFoundError:
            return {}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            if warn:
                message = f"{self.path}: unreadable download manifest ({exc}); re-checking files"
                warnings.warn(message, stacklevel=4)  # at the caller of fetch_index
            return {}
        return {
            rel: entry
            for rel, entry in files.items()
            if isinstance(entry, dict)
            and isinstance(entry.get("size"), int)
            and isinstance(entry.get("sha256"), str)
        }

    def verified(self, cache: Path, rel: str) -> str | None:
        """The sha256 of `cache/rel` if it is the file this manifest verified (same size)."""
        entry, dest = self.entries.get(rel), cache / rel
        if entry and dest.is_file() and dest.stat().st_size == entry["size"]:
            return entry["sha256"]
        return None

    def put(self, rel: str, size: int, sha256: str) -> None:
        with self.lock:
            self.entries[rel] = self.new[rel] = {"size": size, "sha256": sha256}

    def save(self, every: float = 0.0) -> None:
        if not self.new or time.monotonic() - self.saved < every:
            return
        with self.lock:
            new, self.new = self.new, {}
        files = {**self._load(), **new}
        text = json.dumps({"version": MANIFEST_VERSION, "files": files}, indent=1, sort_keys=True)
        with tempfile.NamedTemporaryFile(
            "w", dir=self.path.parent, prefix=MANIFEST, suffix=".tmp", delete=False
        ) as tmp:
            tmp.write(text + "\n")
        os.replace(tmp.name, self.path)
        self.saved = time.monotonic()
