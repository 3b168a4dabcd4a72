"""`curate view` writes one page that plays the recording at one frame a tick, with the labels of
curate's labelers or of a release's `ticks` rows, its notes and its QA; mistakes are one line."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
from pathlib import Path

import av
import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import curate.view
from curate.cli import app
from curate.readers import read_episode
from curate.readers.video import iter_frames
from curate.release.build import build
from curate.view import COLUMNS, ViewError, view
from curate.world.record import synthesize

runner = CliRunner()


def page_data(page: Path) -> dict:
    found = re.search(r'<script id="data" type="application/json">(.*?)</script>', page.read_text())
    assert found
    return json.loads(found[1])


def columns(data: dict) -> dict[str, list]:
    """The page's columns, one value a tick."""
    return {
        name: c if isinstance(c, list) else [c["values"][i] for i in c["index"]]
        for name, c in data["columns"].items()
    }


def decoded(video: Path) -> list[np.ndarray]:
    with av.open(str(video)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def embedded(page: Path, into: Path) -> Path:
    found = re.search(r'src="data:video/mp4;base64,([^"]+)"', page.read_text())
    assert found, "the video is not embedded"
    into.write_bytes(base64.b64decode(found[1]))
    return into


def rows_of(release: Path, episode_id: str) -> list[dict]:
    shards = sorted((release / "data" / "ticks").glob("*.parquet"))
    table = pq.read_table(shards, filters=[("episode_id", "==", episode_id)])
    return table.sort_by("tick").to_pylist()


def test_tick_i_is_frame_i_of_the_page_s_video(world, tmp_path):
    _, recordings = world
    source = recordings / "synth-0-000.jsonl"
    viewed = view(source, tmp_path / "page.html")
    assert viewed.video is None and not list(tmp_path.glob("*.mp4*"))
    ours = decoded(embedded(viewed.page, tmp_path / "ours.mp4"))
    episode = read_episode(source)
    assert episode.frames is not None
    theirs = [f.astype(np.int16) for f in iter_frames(episode.frames)]
    assert len(ours) == len(theirs) == len(episode) == viewed.ticks
    for i, frame in enumerate(ours):
        near = range(max(i - 1, 0), min(i + 2, len(theirs)))
        errors = {j: float(np.abs(frame - theirs[j]).mean()) for j in near}
        assert errors[i] < 8, (i, errors)  # H.264 at crf 23 on busy textures: 2 to 5 levels
        for j in near:  # never a neighbour's frame, unless the two frames are alike
            alike = float(np.abs(theirs[i] - theirs[j]).mean()) < 1
            assert errors[i] <= errors[j] or alike, (i, errors)


def test_with_a_release_the_page_shows_its_published_rows_notes_and_qa(world, tmp_path):
    release, recordings = world
    source = recordings / "synth-0-001.jsonl"
    viewed = view(source, tmp_path / "page.html", release)
    data = page_data(viewed.page)
    assert data["origin"] == "release viewed 0.1.0, its ticks rows"
    rows = rows_of(release, "synth-0-001")
    shown = columns(data)
    assert set(shown) == set(COLUMNS)
    for name in COLUMNS:
        published = [round(v, 4) if isinstance(v, float) else v for v in (r[name] for r in rows)]
        assert shown[name] == published, name
    report = json.loads((release / "meta" / "qa.json").read_text())["checks"]
    for entry in data["qa"]:
        assert entry["value"] == report[entry["check"]]["values"]["synth-0-001"]
        assert entry["flagged"] == ("synth-0-001" in report[entry["check"]]["flagged"])
    clipped = next(e for e in data["qa"] if e["check"] == "camera_clipped")
    assert clipped["flagged"] and clipped["spans"]  # the world turns past VPT's clip
    for first, last in clipped["spans"]:
        assert all(max(abs(rows[t]["camera_yaw"]), abs(rows[t]["camera_pitch"])) >= 10
                   for t in range(first, last + 1))  # fmt: skip
    gui = [r["gui_open"] for r in rows]
    assert sum(b - a + 1 for a, b in data["timeline"]["gui"]) == sum(gui)
    for first, last, what in data["timeline"]["grounding"]:
        said = {f"{r['grounding_verb']} {r['grounding_label']}" for r in rows[first : last + 1]}
        assert said == {what}


def test_without_a_release_the_labels_are_the_labelers_own(world, tmp_path):
    release, recordings = world
    source = recordings / "synth-0-001.jsonl"
    fresh = page_data(view(source, tmp_path / "fresh.html").page)
    published = page_data(view(source, tmp_path / "published.html", release).page)
    assert fresh["origin"].endswith("'s labelers, default parameters")
    assert fresh["columns"] == published["columns"]  # the release was built with the defaults
    assert any(p is not None for p in columns(fresh)["grounding_point"])


def test_a_video_too_large_to_embed_goes_beside_the_page(world, tmp_path, monkeypatch):
    _, recordings = world
    monkeypatch.setattr(curate.view, "EMBED_MAX_BYTES", 0)
    viewed = view(recordings / "synth-0-000.jsonl", tmp_path / "page.html")
    assert viewed.video == tmp_path / "page.view.mp4"
    assert 'src="page.view.mp4"' in viewed.page.read_text()
    assert "base64" not in viewed.page.read_text()
    assert len(decoded(viewed.video)) == viewed.ticks
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.html", "page.view.mp4"]


def test_the_recording_must_be_the_one_the_release_was_built_from(world, tmp_path):
    release, recordings = world
    changed = tmp_path / "synth-0-000.jsonl"
    lines = (recordings / changed.name).read_text().splitlines(keepends=True)
    changed.write_text("".join(lines[:-1]))
    shutil.copy(recordings / "synth-0-000.mp4", changed.with_suffix(".mp4"))
    with pytest.raises(ViewError, match="not the recording synth0/synth-0-000.jsonl .* view it "
                       "without --release"):  # fmt: skip
        view(changed, tmp_path / "page.html", release)
    other = tmp_path / "other.jsonl"
    shutil.copy(changed, other)
    shutil.copy(changed.with_suffix(".mp4"), other.with_suffix(".mp4"))
    with pytest.raises(ViewError, match="not a recording of release viewed 0.1.0"):
        view(other, tmp_path / "page.html", release)
    with pytest.raises(ViewError, match="not a release"):
        view(changed, tmp_path / "page.html", tmp_path)
    assert not list(tmp_path.glob("page*"))


def test_the_recording_s_own_files_are_never_written(world, tmp_path, monkeypatch):
    _, recordings = world
    folder = shutil.copytree(recordings, tmp_path / "recordings")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    monkeypatch.chdir(folder)
    monkeypatch.setattr(curate.view, "EMBED_MAX_BYTES", 0)  # the video goes beside the page
    result = runner.invoke(app, ["view", "synth-0-000.jsonl"])  # the page lands beside it
    assert result.exit_code == 0, result.output
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.name in before} == before
    assert {"synth-0-000.html", "synth-0-000.view.mp4"} == set(os.listdir(folder)) - set(before)
    with pytest.raises(ViewError, match="would overwrite the recording"):
        view(folder / "synth-0-000.jsonl", folder / "synth-0-000.mp4")


def test_no_data_can_end_the_page_s_script(world, tmp_path):
    _, recordings = world
    source = recordings / "synth-0-000.jsonl"
    page = view(source, tmp_path / "page.html").page.read_text()
    block = re.search(r'<script id="data" type="application/json">(.*?)</script>', page, re.S)
    assert block and not set("<>&") & set(block[1])  # not even `<!--` or `</script>` in a string


def test_a_release_without_ticks_rows_says_to_view_without_it(world, tmp_path):
    release, recordings = world
    copy = shutil.copytree(release, tmp_path / "release")
    meta = json.loads((copy / "meta" / "release.json").read_text())
    meta["files"] = {f: s for f, s in meta["files"].items() if not f.startswith("data/ticks/")}
    (copy / "meta" / "release.json").write_text(json.dumps(meta))
    with pytest.raises(ViewError, match="does not build the `ticks` config"):
        view(recordings / "synth-0-000.jsonl", tmp_path / "pages" / "page.html", copy)
    assert not (tmp_path / "pages").exists()


def test_a_recording_the_release_left_out_shows_why(world, tmp_path):
    _, recordings = world
    raw = tmp_path / "raw"
    (short,) = synthesize(raw, episodes=1, seconds=5, seed=1)
    for suffix in (".jsonl", ".mp4"):
        shutil.copy(recordings / f"synth-0-000{suffix}", raw)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(json.dumps({
        "name": "long", "version": "0.1.0", "validation": 0, "configs": ["ticks"],
        "sources": [{"format": "vpt", "path": str(raw)}], "filters": {"min_ticks": 200},
    }))  # fmt: skip
    release = build(recipe, tmp_path / "release").folder
    data = page_data(view(short, tmp_path / "page.html", release).page)
    assert data["notes"][0].startswith("filtered out of release long 0.1.0: 100 ticks, fewer than")
    assert data["origin"].endswith("'s labelers, default parameters")


def test_cli_writes_the_page_and_says_so(world, tmp_path, monkeypatch):
    release, recordings = world
    monkeypatch.chdir(tmp_path)
    source = recordings / "synth-0-000.jsonl"
    result = runner.invoke(app, ["view", str(source), "--release", str(release)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "synth-0-000.html").is_file()
    assert "wrote synth-0-000.html: 300 ticks, labels from release viewed 0.1.0" in result.stderr
    assert "frames: 300/300" in result.stderr  # progress, also without a terminal
    (tmp_path / "pages").mkdir()
    result = runner.invoke(app, ["view", str(source), "--out", "pages"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "pages" / "synth-0-000.html").is_file()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "absent.jsonl", "absent.jsonl: .*no such file"),
        (lambda d: d / "no-video", "no video beside it"),
    ],
)
def test_cli_mistakes_are_one_line_and_write_nothing(world, tmp_path, make, message):
    _, recordings = world
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(recordings / "synth-0-000.jsonl", folder / "no-video.jsonl")
    source = make(folder)
    source = source.with_suffix(".jsonl") if source.name == "no-video" else source
    out = tmp_path / "page.html"
    result = runner.invoke(app, ["view", str(source), "--out", str(out)])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and re.search(message, result.stderr, re.I)
    assert not out.exists() and not list(tmp_path.glob("page*"))


def test_a_real_minestudio_rollout_shows_its_gui_as_its_frames_do(rollouts, tmp_path):
    rollout = next(r for r in rollouts if "craft_item" in r.name)
    viewed = view(rollout, tmp_path / "page.html")
    data = page_data(viewed.page)
    shown = columns(data)
    assert viewed.ticks == len(shown["gui_open"]) == len(read_episode(rollout))
    stretches = data["timeline"]["gui"]
    assert stretches and sum(b - a + 1 for a, b in stretches) == sum(shown["gui_open"])
    # MineStudio draws its own cursor and records no position: the page draws none over it
    assert set(shown["cursor_x"]) == {None}
