"""Fetching VPT index segments: resume, verify, retries, quarantine, offline reuse.

A loopback HTTP server in a thread serves hand-made segments; it implements Range itself and can
be told, per URL path, to misbehave on its next requests (see `Server.faults`).
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from curate.readers import read_episode
from curate.sources.download import (
    MANIFEST,
    VPT_INDEX_URLS,
    DownloadError,
    fetch_index,
    jsonl_path,
    read_index,
)
from curate.testing import vpt_line, write_vpt

FAST = {"backoff": 0.001, "timeout": 5.0}
RELPATHS = [f"data/10.0/seg-{i}.mp4" for i in range(3)]


class Server(ThreadingHTTPServer):
    daemon_threads = True
    files: dict[str, bytes]  # URL path -> body
    faults: dict[
        str, list[str]
    ]  # URL path -> its next requests' faults: 503 drop stall ignore_range
    requests: list[tuple[str, str | None]]  # (URL path, Range header) of every request
    in_flight: int  # requests being answered now, and the most at once
    peak: int


class Handler(BaseHTTPRequestHandler):
    server: Server

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        served = self.server
        served.in_flight += 1
        served.peak = max(served.peak, served.in_flight)
        try:
            self._answer(served)
        finally:
            served.in_flight -= 1

    def _answer(self, served: Server) -> None:
        requested = self.headers.get("Range")
        served.requests.append((self.path, requested))
        queue = served.faults.get(self.path) or []
        fault = queue.pop(0) if queue else None
        if fault == "slow":
            time.sleep(0.3)
        body = served.files.get(self.path)
        if fault == "503":
            return self.send_error(503)
        if body is None:
            return self.send_error(404)
        start = 0
        if requested and fault != "ignore_range":
            start = int(re.fullmatch(r"bytes=(\d+)-", requested)[1])
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                return self.end_headers()
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        payload = body[start:]
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if fault == "drop":  # promise the whole body, send half, hang up
            payload = payload[: len(payload) // 2]
            self.close_connection = True
        if fault == "stall":  # send half, then nothing for longer than the client waits
            self.wfile.write(payload[: len(payload) // 2])
            time.sleep(2.0)
            return
        self.wfile.write(payload)


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch) -> None:
    """Keep every request on loopback even where the user's environment names a proxy."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1")


@pytest.fixture
def server(tmp_path):
    """Serves three segments under /minecraft-rl/; `server.index` is the index file naming them."""
    httpd = Server(("127.0.0.1", 0), Handler)
    httpd.files, httpd.faults, httpd.requests = {}, {}, []
    httpd.in_flight = httpd.peak = 0
    for i, relpath in enumerate(RELPATHS):
        lines = [vpt_line(keys=["w"] * (k % 2), dx=float(i + k)) for k in range(5)]
        jsonl = write_vpt(tmp_path / "src" / jsonl_path(relpath), lines).read_bytes()
        httpd.files["/minecraft-rl/" + jsonl_path(relpath)] = jsonl
        httpd.files["/minecraft-rl/" + relpath] = bytes((k * 7 + i) % 256 for k in range(4000))
    httpd.base = f"http://127.0.0.1:{httpd.server_address[1]}/minecraft-rl/"
    httpd.index = write_index(tmp_path / "index.json", httpd.base, RELPATHS)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def write_index(path: Path, basedir: str, relpaths: list) -> Path:
    path.write_text(json.dumps({"basedir": basedir, "relpaths": relpaths}))
    return path


def served(server, rel: str) -> bytes:
    return server.files["/minecraft-rl/" + rel]


def test_fresh_download_writes_verified_files_and_manifest(server, tmp_path):
    cache = tmp_path / "cache"
    received: list[int] = []
    result = fetch_index(server.index, cache, limit=3, progress=received.append, **FAST)

    assert result.paths == [cache / jsonl_path(r) for r in RELPATHS]
    assert result.failures == {}
    manifest = json.loads((cache / MANIFEST).read_text())
    assert manifest["version"] == 1
    for relpath in RELPATHS:
        for rel in (relpath, jsonl_path(relpath)):
            body = served(server, rel)
            assert (cache / rel).read_bytes() == body
            assert not (cache / (rel + ".part")).exists()
            sha = hashlib.sha256(body).hexdigest()
            assert result.sha256[rel] == sha
            assert manifest["files"][rel] == {"size": len(body), "sha256": sha}
    assert sum(received) == sum(len(b) for b in server.files.values())
    # The cache keeps the recorder version folder, so the reader sees a VPT segment (its fake
    # mp4 aside: the reader checks any video it finds).
    (cache / RELPATHS[0]).unlink()
    assert read_episode(result.paths[0]).ticks.num_rows == 5


def test_segments_after_the_first_download_at_once_and_come_back_in_order(server, tmp_path):
    for relpath in RELPATHS:
        server.faults["/minecraft-rl/" + jsonl_path(relpath)] = ["slow"]
    result = fetch_index(server.index, tmp_path / "cache", limit=3, parallel=4, **FAST)
    assert server.peak == 2  # the first alone (the probe), then the other two together
    assert result.paths == [tmp_path / "cache" / jsonl_path(r) for r in RELPATHS]
    assert result.failures == {}


def test_second_fetch_needs_no_network(server, tmp_path):
    cache = tmp_path / "cache"
    first = fetch_index(server.index, cache, limit=3, **FAST)
    count = len(server.requests)
    again = fetch_index(server.index, cache, limit=3, **FAST)
    assert len(server.requests) == count
    assert again == first
    # Offline: a mirror that does not answer changes nothing for a complete cache.
    offline = fetch_index(
        server.index, cache, limit=3, base_url="http://127.0.0.1:9/", retries=0, **FAST
    )
    assert offline == first


def test_limit_takes_the_first_segments_in_index_order(server, tmp_path):
    result = fetch_index(server.index, tmp_path / "cache", limit=2, **FAST)
    assert result.paths == [tmp_path / "cache" / jsonl_path(r) for r in RELPATHS[:2]]
    assert {path for path, _ in server.requests} == {
        "/minecraft-rl/" + rel for r in RELPATHS[:2] for rel in (r, jsonl_path(r))
    }


def test_video_false_fetches_only_the_jsonl(server, tmp_path):
    result = fetch_index(server.index, tmp_path / "cache", limit=3, video=False, **FAST)
    assert len(result.paths) == 3
    assert all(path.endswith(".jsonl") for path, _ in server.requests)
    assert not list((tmp_path / "cache").rglob("*.mp4"))


def test_resume_asks_for_the_rest_of_a_partial_file(server, tmp_path):
    cache, rel = tmp_path / "cache", RELPATHS[0]
    body = served(server, rel)
    part = cache / (rel + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes(body[:1234])
    result = fetch_index(server.index, cache, limit=1, **FAST)
    assert ("/minecraft-rl/" + rel, "bytes=1234-") in server.requests
    assert (cache / rel).read_bytes() == body
    assert result.sha256[rel] == hashlib.sha256(body).hexdigest()  # the prefix is hashed too


def test_server_ignoring_range_restarts_from_zero(server, tmp_path):
    cache, rel = tmp_path / "cache", RELPATHS[0]
    body = served(server, rel)
    part = cache / (rel + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes(body[:1000])
    server.faults["/minecraft-rl/" + rel] = ["ignore_range"]
    fetch_index(server.index, cache, limit=1, **FAST)
    assert (cache / rel).read_bytes() == body


def test_dropped_connection_resumes_from_the_part(server, tmp_path):
    cache, rel = tmp_path / "cache", RELPATHS[0]
    body = served(server, rel)
    server.faults["/minecraft-rl/" + rel] = ["drop"]
    result = fetch_index(server.index, cache, limit=1, **FAST)
    ranges = [r for path, r in server.requests if path == "/minecraft-rl/" + rel]
    assert ranges == [None, f"bytes={len(body) // 2}-"]
    assert (cache / rel).read_bytes() == body
    assert result.sha256[rel] == hashlib.sha256(body).hexdigest()


def test_drops_that_make_progress_do_not_use_up_retries(server, tmp_path):
    rel = RELPATHS[0]
    server.faults["/minecraft-rl/" + rel] = ["drop"] * 6  # each attempt gets half of the rest
    result = fetch_index(server.index, tmp_path / "cache", limit=1, retries=0, **FAST)
    assert result.failures == {}
    assert (tmp_path / "cache" / rel).read_bytes() == served(server, rel)


def test_stalled_transfer_times_out_and_resumes(server, tmp_path):
    cache, rel = tmp_path / "cache", RELPATHS[0]
    body = served(server, rel)
    server.faults["/minecraft-rl/" + rel] = ["stall"]
    fetch_index(server.index, cache, limit=1, timeout=0.5, backoff=0.001)
    assert ("/minecraft-rl/" + rel, f"bytes={len(body) // 2}-") in server.requests
    assert (cache / rel).read_bytes() == body


def test_partial_file_longer_than_the_remote_one_starts_over(server, tmp_path):
    cache, rel = tmp_path / "cache", RELPATHS[0]
    body = served(server, rel)
    part = cache / (rel + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes(body + b"stale tail")
    fetch_index(server.index, cache, limit=1, **FAST)
    ranges = [r for path, r in server.requests if path == "/minecraft-rl/" + rel]
    assert ranges == [f"bytes={len(body) + 10}-", None]  # 416, then the whole file
    assert (cache / rel).read_bytes() == body


def test_base_url_replaces_the_index_basedir(server, tmp_path):
    index = write_index(tmp_path / "elsewhere.json", "http://127.0.0.1:9/gone/", RELPATHS)
    result = fetch_index(index, tmp_path / "cache", limit=1, base_url=server.base, **FAST)
    assert result.failures == {}
    assert result.paths == [tmp_path / "cache" / jsonl_path(RELPATHS[0])]


def test_server_error_once_is_retried(server, tmp_path):
    rel = jsonl_path(RELPATHS[1])
    server.faults["/minecraft-rl/" + rel] = ["503"]
    result = fetch_index(server.index, tmp_path / "cache", limit=3, **FAST)
    assert result.failures == {}
    assert [path for path, _ in server.requests].count("/minecraft-rl/" + rel) == 2


def test_retries_are_bounded(server, tmp_path):
    rel = jsonl_path(RELPATHS[1])
    server.faults["/minecraft-rl/" + rel] = ["503"] * 10
    result = fetch_index(server.index, tmp_path / "cache", limit=3, retries=2, **FAST)
    assert list(result.failures) == [RELPATHS[1]]
    assert "gave up after 3 tries: HTTP 503" in result.failures[RELPATHS[1]]
    assert [path for path, _ in server.requests].count("/minecraft-rl/" + rel) == 3


def test_missing_segment_is_reported_and_the_others_are_fetched(server, tmp_path):
    missing = RELPATHS[1]
    del server.files["/minecraft-rl/" + missing]  # the jsonl is there, the mp4 is not
    result = fetch_index(server.index, tmp_path / "cache", limit=3, **FAST)
    assert result.paths == [tmp_path / "cache" / jsonl_path(r) for r in (RELPATHS[0], RELPATHS[2])]
    assert list(result.failures) == [missing]
    assert result.failures[missing] == f"{server.base}{missing}: HTTP 404 Not Found"
    assert missing not in result.sha256 and jsonl_path(missing) not in result.sha256
    # A 404 is not retried.
    assert [path for path, _ in server.requests].count("/minecraft-rl/" + missing) == 1


def test_complete_file_without_manifest_entry_is_confirmed_not_downloaded(server, tmp_path):
    """A crash between the rename and the manifest write: a Range past the end gets a 416."""
    cache = tmp_path / "cache"
    first = fetch_index(server.index, cache, limit=1, **FAST)
    (cache / MANIFEST).unlink()
    rel = RELPATHS[0]
    (cache / rel).rename(cache / (rel + ".part"))  # and a complete .part behaves the same
    server.requests.clear()
    received: list[int] = []
    again = fetch_index(server.index, cache, limit=1, progress=received.append, **FAST)
    assert again == first
    assert sorted(r for _, r in server.requests) == [
        f"bytes={len(served(server, jsonl_path(rel)))}-",
        f"bytes={len(served(server, rel))}-",
    ]
    assert received == []
    assert json.loads((cache / MANIFEST).read_text())["files"][rel]["sha256"] == first.sha256[rel]


def test_changed_cached_file_is_downloaded_again(server, tmp_path):
    cache, rel = tmp_path / "cache", RELPATHS[0]
    fetch_index(server.index, cache, limit=1, **FAST)
    (cache / rel).write_bytes(b"truncated")
    fetch_index(server.index, cache, limit=1, **FAST)
    assert (cache / rel).read_bytes() == served(server, rel)


def test_corrupt_manifest_warns_and_rechecks(server, tmp_path):
    cache = tmp_path / "cache"
    fetch_index(server.index, cache, limit=1, **FAST)
    (cache / MANIFEST).write_text("{not json")
    with pytest.warns(UserWarning, match="unreadable download manifest"):
        result = fetch_index(server.index, cache, limit=1, **FAST)
    assert result.failures == {}
    assert json.loads((cache / MANIFEST).read_text())["version"] == 1


@pytest.mark.parametrize(
    "relpath", ["../evil.mp4", "/etc/evil.mp4", "data/../../evil.mp4", "C:/evil.mp4", "a\\b.mp4"]
)
def test_relpath_escaping_the_cache_is_rejected(server, tmp_path, relpath):
    index = write_index(tmp_path / "bad.json", server.base, [RELPATHS[0], relpath])
    with pytest.raises(DownloadError, match=r"bad\.json: relpaths\[1\].*escape the cache"):
        fetch_index(index, tmp_path / "cache", limit=1, **FAST)
    assert server.requests == []


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[1, 2]", "not a VPT index"),
        ('{"relpaths": []}', "not a VPT index"),
        ('{"basedir": 3, "relpaths": []}', "basedir must be a non-empty string"),
        ('{"basedir": "http://x/", "relpaths": "data/10.0/a.mp4"}', "relpaths must be a list"),
        ('{"basedir": "http://x/", "relpaths": [7]}', r"relpaths\[0\].*non-empty string"),
        ('{"basedir": "http://x/", "relpaths": ["data/a.jsonl"]}', r"expected a \.mp4"),
        ("{oops", "invalid JSON"),
    ],
)
def test_read_index_names_the_file_and_the_problem(tmp_path, text, reason):
    path = tmp_path / "index.json"
    path.write_text(text)
    with pytest.raises(DownloadError, match=rf"index\.json: .*{reason}"):
        read_index(path)


def test_read_index_of_a_missing_file(tmp_path):
    with pytest.raises(DownloadError, match="no such index file") as error:
        read_index(tmp_path / "nope.json")
    # Not one of the public index files: say where those come from.
    assert "github.com/openai/Video-Pre-Training" in str(error.value)
    assert "all_10xx_Jun_29.json" in str(error.value)


def test_a_missing_public_index_names_its_address(tmp_path):
    path = tmp_path / "indices" / "all_10xx_Jun_29.json"
    url = "https://openaipublic.blob.core.windows.net/minecraft-rl/snapshots/all_10xx_Jun_29.json"
    with pytest.raises(DownloadError) as error:
        read_index(path)
    assert str(error.value) == (
        f"{path}: no such index file: download it from {url} into {path.parent}"
    )


def test_the_public_index_addresses():
    """As the README of github.com/openai/Video-Pre-Training links them."""
    snapshots = "https://openaipublic.blob.core.windows.net/minecraft-rl/snapshots/"
    names = ["6xx_Jun_29", "7xx_Apr_6", "8xx_Jun_29", "9xx_Jun_29", "10xx_Jun_29"]
    expected = {f"all_{n}.json": f"{snapshots}all_{n}.json" for n in names}
    assert expected == VPT_INDEX_URLS


def closed_port() -> int:
    """A port on 127.0.0.1 that was free a moment ago: a connection there is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def many_relpaths(n: int) -> list[str]:
    return [f"data/10.0/more-{i}.mp4" for i in range(n)]


def test_an_unreachable_host_stops_the_fetch_after_three_segments(tmp_path):
    port = closed_port()
    index = write_index(tmp_path / "index.json", f"http://127.0.0.1:{port}/x/", many_relpaths(50))
    started = time.monotonic()
    with pytest.raises(DownloadError) as error:
        fetch_index(index, tmp_path / "cache", limit=50, retries=3, backoff=0.01, timeout=5.0)
    assert time.monotonic() - started < 5  # 3 segments of 4 tries, not 50
    message = str(error.value)
    assert message.startswith(f"{index}: connection refused for each of 3 segments")
    assert f"asked of 127.0.0.1:{port}" in message
    assert f"(first: http://127.0.0.1:{port}/x/data/10.0/more-0.jsonl: gave up after 4" in message
    assert "check the network" in message and "base_url" in message
    assert f"by hand into {tmp_path / 'cache'}" in message
    assert error.value.kind == "connection refused"


def test_an_unreachable_host_with_fewer_segments_stops_too(tmp_path):
    index = write_index(tmp_path / "index.json", f"http://127.0.0.1:{closed_port()}/", RELPATHS)
    with pytest.raises(DownloadError, match="connection refused for the only segment"):
        fetch_index(index, tmp_path / "cache", limit=1, retries=1, **FAST)
    with pytest.raises(DownloadError, match="connection refused for each of 2 segments"):
        fetch_index(index, tmp_path / "cache", limit=2, retries=1, **FAST)


def test_an_unreachable_host_stops_even_after_cached_segments(server, tmp_path):
    cache = tmp_path / "cache"
    fetch_index(server.index, cache, limit=2, **FAST)
    index = write_index(tmp_path / "more.json", server.base, RELPATHS[:2] + many_relpaths(5))
    offline = f"http://127.0.0.1:{closed_port()}/"
    with pytest.raises(DownloadError) as error:
        fetch_index(index, cache, limit=7, base_url=offline, retries=1, **FAST)
    message = str(error.value)
    assert "connection refused for each of 3 segments" in message
    assert message.endswith("the cache holds the segments before them: `limit: 2` uses those alone")
    # The cache alone still serves what it holds.
    result = fetch_index(index, cache, limit=2, base_url=offline, retries=0, **FAST)
    assert len(result.paths) == 2 and result.failures == {}


def test_a_wrong_base_url_stops_after_three_missing_segments(server, tmp_path):
    index = write_index(tmp_path / "index.json", server.base, many_relpaths(20))
    with pytest.raises(DownloadError, match=r"HTTP 404 for each of 3 segments asked of 127\.0\.0"):
        fetch_index(index, tmp_path / "cache", limit=20, **FAST)
    assert len(server.requests) == 3  # the first three .jsonl, each asked once


def test_a_failing_server_stops_after_three_segments(server, tmp_path):
    for relpath in RELPATHS:
        server.faults["/minecraft-rl/" + jsonl_path(relpath)] = ["503"] * 10
    with pytest.raises(DownloadError, match=r"HTTP 503 for each of 3 segments.*gave up after 2"):
        fetch_index(server.index, tmp_path / "cache", limit=3, retries=1, **FAST)
    assert len(server.requests) == 6


def test_a_missing_first_segment_is_just_a_failure(server, tmp_path):
    del server.files["/minecraft-rl/" + jsonl_path(RELPATHS[0])]
    result = fetch_index(server.index, tmp_path / "cache", limit=3, **FAST)
    assert list(result.failures) == [RELPATHS[0]]
    assert len(result.paths) == 2


def test_missing_segments_after_cached_ones_are_just_failures(server, tmp_path):
    """A rebuild finds the good segments in the cache and the missing ones missing again."""
    cache, missing = tmp_path / "cache", many_relpaths(4)
    index = write_index(tmp_path / "index.json", server.base, RELPATHS + missing)
    first = fetch_index(index, cache, limit=7, **FAST)
    again = fetch_index(index, cache, limit=7, **FAST)
    assert list(first.failures) == list(again.failures) == missing
    assert again.paths == first.paths == [cache / jsonl_path(r) for r in RELPATHS]


def test_read_real_indices(real):
    folder = real / "solaris-wm__solaris" / "vpt_indices"
    index = read_index(folder / "all_10xx_Jun_29.json")
    assert index.basedir == "https://openaipublic.blob.core.windows.net/minecraft-rl/"
    assert len(index.relpaths) == 5661
    assert all(jsonl_path(r).startswith("data/10.0/") for r in index.relpaths)
    assert jsonl_path(index.relpaths[0]) == index.relpaths[0].removesuffix(".mp4") + ".jsonl"
    for other in sorted(folder.glob("all_*.json")):  # every public index passes the checks
        assert read_index(other).relpaths
