"""The bad-input corpus: each kind of broken recording, made here from good ones, goes into a
build beside two good recordings. The build finishes; the good episodes are there, with the rows
of a build without the bad one; the bad one is quarantined with a machine-readable code and a
reason that names its file; inputs = built + quarantined + filtered."""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Callable
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

import pyarrow.parquet as pq
import pytest

from curate.release import plan
from curate.release.build import build
from curate.release.meta import ReleaseMeta
from curate.testing import write_rollout
from curate.world.record import synthesize

CONFIGS = ["ticks", "text_action"]  # an image config: frame faults surface too


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    """Two short recordings of the world, and a third to break."""
    folder = tmp_path_factory.mktemp("good")
    synthesize(folder, episodes=3, seconds=2, seed=3)
    return folder


def recipe(folder: Path, source: Path, fmt: str = "vpt") -> Path:
    path = folder / f"recipe-{source.name}.yaml"
    path.write_text(json.dumps({
        "name": "c", "version": "0.1.0",
        "sources": [{"format": fmt, "path": str(source)}],
        "configs": CONFIGS, "validation": 0,
        "images": {"width": 32, "height": 18, "stride": 4},
        "max_quarantined": 0.5,
    }))  # fmt: skip
    return path


def two_good(good: Path, source: Path) -> list[Path]:
    """`source` made with the first two good recordings; returns all three."""
    source.mkdir()
    recordings = sorted(good.glob("*.jsonl"))
    for jsonl in recordings[:2]:
        for ext in (".jsonl", ".mp4"):
            shutil.copy(jsonl.with_suffix(ext), source / jsonl.with_suffix(ext).name)
    return recordings


def rows_by_episode(folder: Path) -> dict[str, list]:
    """Every config's rows, per episode id: what must not change when a bad recording joins."""
    rows: dict[str, list] = {}
    for config in CONFIGS:
        for shard in sorted((folder / "data" / config).glob("*.parquet")):
            for row in pq.read_table(shard).to_pylist():
                rows.setdefault(f"{config}/{row['episode_id']}", []).append(row)
    return rows


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def rewrite(path: Path, edit: Callable[[list[dict]], None]) -> None:
    data = lines(path)
    edit(data)
    path.write_text("".join(json.dumps(line) + "\n" for line in data))


def set_line(k: int, **fields) -> Callable[[list[dict]], None]:
    def edit(data: list[dict]) -> None:
        for name, value in fields.items():
            target = data[k]["mouse"] if name in ("dx", "dy") else data[k]
            target[name] = value

    return edit


def swap_bytes(path: Path, old: bytes, new: bytes) -> None:
    text = path.read_bytes()
    assert old in text, f"{path.name} has no {old!r} to break"
    path.write_bytes(text.replace(old, new, 1))


def zeros_in_the_middle(jsonl: Path) -> None:
    """20 KB of zeros halfway through the video: it opens and probes, then fails to decode."""
    video = jsonl.with_suffix(".mp4")
    data = bytearray(video.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 20_000] = bytes(20_000)
    video.write_bytes(bytes(data))


# kind -> (how to break the copy `jsonl` of a good recording, the code it is quarantined with)
VPT_KINDS: dict[str, tuple[Callable[[Path], None], str]] = {
    "zero-byte mp4": (lambda j: j.with_suffix(".mp4").write_bytes(b""), "bad_video"),
    "truncated mp4": (
        lambda j: j.with_suffix(".mp4").write_bytes(j.with_suffix(".mp4").read_bytes()[:3000]),
        "bad_video",
    ),
    "mp4 that is not a video": (
        lambda j: j.with_suffix(".mp4").write_bytes(b"not a video " * 500),
        "bad_video",
    ),
    "mp4 missing": (lambda j: j.with_suffix(".mp4").unlink(), "missing_video"),
    "video that fails mid-stream": (zeros_in_the_middle, "bad_video"),
    "invalid jsonl line": (lambda j: swap_bytes(j, b'{"mouse"', b'{"mouse" oops'), "bad_line"),
    "non-UTF-8 bytes": (lambda j: swap_bytes(j, b'"keys":[', b'"keys":["\xff\xfe",'), "bad_line"),
    "missing required field": (lambda j: rewrite(j, lambda d: d[3].pop("mouse")), "bad_line"),
    "wrong type": (lambda j: rewrite(j, set_line(2, hotbar="one")), "bad_line"),
    "null in a required field": (lambda j: rewrite(j, set_line(2, keyboard=None)), "bad_line"),
    "delta over a full turn": (lambda j: rewrite(j, set_line(5, dx=2401.0)), "bad_line"),
    "infinite delta": (lambda j: swap_bytes(j, b'"dx":0.0', b'"dx":1e999'), "bad_line"),
    "hotbar outside 0..8": (lambda j: rewrite(j, set_line(4, hotbar=9)), "bad_line"),
    "log longer than the video": (
        lambda j: rewrite(j, lambda d: d.extend([d[-1]] * 5)),
        "length_mismatch",
    ),
    "log shorter than the video": (
        lambda j: rewrite(j, lambda d: d.__delitem__(slice(-5, None))),
        "length_mismatch",
    ),  # fmt: skip
    "empty jsonl": (lambda j: j.write_text("\n\n"), "no_ticks"),
}


@pytest.fixture(scope="module")
def reference(good, tmp_path_factory) -> dict[str, list]:
    """The rows of a build of the two good recordings alone."""
    folder = tmp_path_factory.mktemp("reference")
    two_good(good, folder / "raw")
    return rows_by_episode(build(recipe(folder, folder / "raw"), folder / "out").folder)


@pytest.mark.parametrize("kind", sorted(VPT_KINDS))
def test_a_bad_vpt_recording_loses_nothing_else(kind, good, reference, tmp_path):
    breaks, code = VPT_KINDS[kind]
    source = tmp_path / "raw"
    recordings = two_good(good, source)
    bad = source / "zz-bad.jsonl"
    shutil.copy(recordings[2], bad)
    shutil.copy(recordings[2].with_suffix(".mp4"), bad.with_suffix(".mp4"))
    breaks(bad)

    report = build(recipe(tmp_path, source), tmp_path / "out")
    meta = report.meta
    assert [(q.name, q.code) for q in meta.quarantine] == [("vpt0/zz-bad.jsonl", code)], kind
    reason = meta.quarantine[0].reason
    assert reason.startswith("zz-bad."), reason  # names the file (and line), no folder
    assert str(tmp_path) not in reason
    built = sum(len(ids) for ids in meta.episodes.values())
    assert built + len(meta.quarantine) + len(meta.filtered) == len(meta.inputs) == 3
    assert rows_by_episode(report.folder) == reference
    card = (report.folder / "README.md").read_text()
    assert f"Quarantined `vpt0/zz-bad.jsonl` ({code})" in card


def test_within_the_tolerance_a_longer_log_is_trimmed_with_a_note(good, tmp_path):
    source = tmp_path / "raw"
    source.mkdir()
    jsonl = sorted(good.glob("*.jsonl"))[0]
    shutil.copy(jsonl, source / jsonl.name)
    shutil.copy(jsonl.with_suffix(".mp4"), source / jsonl.with_suffix(".mp4").name)
    rewrite(source / jsonl.name, lambda d: d.append(d[-1]))  # one line more than frames
    meta = build(recipe(tmp_path, source), tmp_path / "out").meta
    assert meta.quarantine == [] and sum(len(ids) for ids in meta.episodes.values()) == 1
    assert "trimmed 1 tick(s) from the end of the jsonl" in meta.warnings[0].reason


def write_rollouts(folder: Path) -> Path:
    for name in ("a", "b", "zz-bad"):
        write_rollout(folder / name, [{"forward": 1}, {"jump": 1}, {"forward": 1}] * 2)
    return folder


MINESTUDIO_KINDS: dict[str, tuple[Callable[[Path], None], str]] = {
    "files of different lengths": (
        lambda f: (f / "info.jsonl").write_text(
            "".join((f / "info.jsonl").read_text().splitlines(True)[:-1])
        ),
        "length_mismatch",
    ),
    "a corrupt PNG frame": (
        lambda f: swap_bytes(f / "episode.jsonl", b'"base64": "', b'"base64": "AAAA'),
        "bad_frame",
    ),
    "a file missing": (lambda f: os.remove(f / "info.jsonl"), "missing_files"),
    "an invalid action line": (
        lambda f: swap_bytes(f / "action.jsonl", b'"camera"', b'"camera" oops'),
        "bad_line",
    ),
}


@pytest.mark.parametrize("kind", sorted(MINESTUDIO_KINDS))
def test_a_bad_minestudio_rollout_loses_nothing_else(kind, tmp_path):
    breaks, code = MINESTUDIO_KINDS[kind]
    rollouts = write_rollouts(tmp_path / "rollouts")
    whole = build(recipe(tmp_path, rollouts, "minestudio"), tmp_path / "before").folder
    breaks(rollouts / "zz-bad")
    report = build(recipe(tmp_path, rollouts, "minestudio"), tmp_path / "out")
    meta = report.meta
    assert [(q.name, q.code) for q in meta.quarantine] == [("minestudio0/zz-bad", code)], kind
    expected = {k: v for k, v in rows_by_episode(whole).items() if "zz-bad" not in k}
    assert rows_by_episode(report.folder) == expected
    built = sum(len(ids) for ids in meta.episodes.values())
    assert built + len(meta.quarantine) + len(meta.filtered) == len(meta.inputs) == 3


def test_a_duplicate_episode_is_quarantined_by_its_code(good, tmp_path):
    source = tmp_path / "raw"
    jsonl = sorted(good.glob("*.jsonl"))[0]
    for sub in ("a", "b"):  # one recording twice, in two folders: one episode id
        (source / sub).mkdir(parents=True)
        for ext in (".jsonl", ".mp4"):
            shutil.copy(jsonl.with_suffix(ext), source / sub / jsonl.with_suffix(ext).name)
    meta = build(recipe(tmp_path, source), tmp_path / "out").meta
    assert [(q.name, q.code) for q in meta.quarantine] == [
        (f"vpt0/b/{jsonl.name}", "duplicate_episode")
    ]
    assert ReleaseMeta.read(tmp_path / "out").quarantine[0].code == "duplicate_episode"


def test_a_recording_that_changes_after_the_plan_is_quarantined(good, reference, tmp_path):
    source = tmp_path / "raw"
    source.mkdir()
    recordings = sorted(good.glob("*.jsonl"))
    for jsonl in recordings:
        for ext in (".jsonl", ".mp4"):
            shutil.copy(jsonl.with_suffix(ext), source / jsonl.with_suffix(ext).name)
    moving = source / recordings[2].name

    class EditWhenEpisodesStart:  # a Reporter: the plan (and its hashes) is done by then
        def start(self, what, total):
            if what == "building episodes":
                rewrite(moving, set_line(0, hotbar=3))

        def update(self, done, note=""):
            pass

    meta = build(recipe(tmp_path, source), tmp_path / "out", report=EditWhenEpisodesStart()).meta
    assert [(q.name, q.code) for q in meta.quarantine] == [(f"vpt0/{moving.name}", "changed")]
    assert "changed during the build" in meta.quarantine[0].reason
    assert "rerun" in meta.quarantine[0].reason
    assert rows_by_episode(tmp_path / "out") == reference


def test_a_null_in_an_optional_field_counts_as_missing(good, tmp_path):
    source = tmp_path / "raw"
    source.mkdir()
    jsonl = sorted(good.glob("*.jsonl"))[0]
    for ext in (".jsonl", ".mp4"):
        shutil.copy(jsonl.with_suffix(ext), source / jsonl.with_suffix(ext).name)
    rewrite(source / jsonl.name, set_line(3, hotbar=None, isGuiOpen=None, stats=None, dx=None))
    meta = build(recipe(tmp_path, source), tmp_path / "out").meta
    assert meta.quarantine == [] and sum(len(ids) for ids in meta.episodes.values()) == 1


class Served(BaseHTTPRequestHandler):
    """Serves the files of `server.root`; a name in `server.cut` is promised whole and sent half
    (every time, Range or not), like an upload that was truncated at its source."""

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        path = self.server.root / unquote(self.path).lstrip("/")  # type: ignore[attr-defined]
        if not path.is_file():
            return self.send_error(404)
        body = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        cut = path.name in self.server.cut  # type: ignore[attr-defined]
        self.wfile.write(body[: len(body) // 2] if cut else body)
        self.close_connection = cut


@pytest.fixture
def mirror(good, tmp_path, monkeypatch):
    """The three recordings served on loopback, and an index of them plus one that is not there."""
    root = tmp_path / "served"
    root.mkdir()
    for jsonl in sorted(good.glob("*.jsonl")):
        for ext in (".jsonl", ".mp4"):
            shutil.copy(jsonl.with_suffix(ext), root / jsonl.with_suffix(ext).name)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Served)
    httpd.root, httpd.cut = root, set()  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    for name in ("http_proxy", "HTTP_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.setattr(plan, "fetch_index", partial(plan.fetch_index, backoff=0.001))
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def index_recipe(folder: Path, httpd, relpaths: list[str]) -> Path:
    folder.mkdir()
    index = folder / "index.json"
    base = f"http://127.0.0.1:{httpd.server_address[1]}/"
    index.write_text(json.dumps({"basedir": base, "relpaths": relpaths}))
    path = recipe(folder, folder)
    data = json.loads(path.read_text())
    data["sources"] = [{"index": str(index), "limit": 10, "cache": str(folder / "cache")}]
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("kind", ["an index entry that returns 404", "a truncated download"])
def test_a_recording_that_cannot_be_fetched_loses_nothing_else(kind, good, mirror, tmp_path):
    names = [p.with_suffix(".mp4").name for p in sorted(good.glob("*.jsonl"))]
    before = build(index_recipe(tmp_path / "a", mirror, names[:2]), tmp_path / "a" / "out")
    if kind == "a truncated download":
        mirror.cut.add(names[2])
        bad = names[2]
    else:
        bad = "gone.mp4"
    report = build(index_recipe(tmp_path / "b", mirror, [*names[:2], bad]), tmp_path / "b" / "out")
    meta = report.meta
    jsonl = bad.replace(".mp4", ".jsonl")
    assert [(q.name, q.code) for q in meta.quarantine] == [(f"vpt0/{jsonl}", "download_failed")]
    reason = meta.quarantine[0].reason
    assert Path(bad).stem in reason, reason
    assert ("404" if "404" in kind else "gave up after 4 tries") in reason, reason
    assert "rerun the build" in reason, reason
    built = sum(len(ids) for ids in meta.episodes.values())
    assert built + len(meta.quarantine) + len(meta.filtered) == len(meta.inputs) == 3
    assert rows_by_episode(report.folder) == rows_by_episode(before.folder)
    assert "(1 listed by an index but not fetched" in (report.folder / "README.md").read_text()


def test_a_recording_over_the_size_limit_is_refused_unparsed(good, reference, tmp_path):
    source = tmp_path / "raw"
    recordings = two_good(good, source)
    limit = max(p.stat().st_size + p.with_suffix(".mp4").stat().st_size for p in recordings[:2])
    bad = source / "zz-big.jsonl"
    bad.write_bytes(b"not json, never parsed\n" * (limit // 22 + 1))  # parsed, it is a bad_line
    shutil.copy(recordings[2].with_suffix(".mp4"), bad.with_suffix(".mp4"))
    path = recipe(tmp_path, source)
    path.write_text(json.dumps({**json.loads(path.read_text()), "max_recording_bytes": limit}))
    meta = build(path, tmp_path / "out").meta
    assert [(q.name, q.code) for q in meta.quarantine] == [("vpt0/zz-big.jsonl", "too_large")]
    assert meta.quarantine[0].reason.startswith("zz-big.jsonl: ")
    assert "raise `max_recording_bytes`" in meta.quarantine[0].reason
    built = sum(len(ids) for ids in meta.episodes.values())
    assert built + len(meta.quarantine) + len(meta.filtered) == len(meta.inputs) == 3
    assert rows_by_episode(tmp_path / "out") == reference
