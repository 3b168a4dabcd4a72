"""`curate build` end to end: every config loads with `datasets`, rebuilds are byte-identical,
bad recordings are quarantined, interrupted builds resume, unbuildable configs are refused."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from datasets import load_dataset

from curate.release.build import build
from curate.release.meta import ReleaseMeta
from curate.release.recipe import RecipeError
from curate.release.verify import verify
from curate.world.record import synthesize

BUILDABLE = ["ticks", "text_action", "motion_action", "motion_coa", "all_in_one"]


@pytest.fixture(scope="session")
def raw(tmp_path_factory) -> Path:
    """Three short recordings of the built-in world, made once for the session."""
    folder = tmp_path_factory.mktemp("raw")
    synthesize(folder, episodes=3, seconds=3, seed=0)
    return folder


def write_recipe(folder: Path, raw: Path, **extra) -> Path:
    recipe = {
        "name": "t",
        "version": "0.1.0",
        "seed": 0,
        "sources": [{"format": "vpt", "path": os.path.relpath(raw, folder)}],
        "configs": BUILDABLE,
        "history": 1,
        "validation": 0.5,
        "images": {"width": 64, "height": 36, "stride": 4, "quality": 70},
        "mixture": {"text_action": 1, "motion_coa": 1},
        **extra,
    }
    path = folder / "recipe.yaml"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(recipe))  # JSON is YAML
    return path


@pytest.fixture(scope="session")
def release(raw, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("build")
    return build(write_recipe(folder, raw), folder / "release").folder


def files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_every_config_loads_with_datasets(release, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    meta = ReleaseMeta.read(release)
    for config in BUILDABLE:
        loaded = load_dataset(str(release), name=config, cache_dir=str(tmp_path))
        for split in ("train", "validation"):
            assert loaded[split].num_rows == meta.counts[config][split]
        assert sum(meta.counts[config].values()) > 0
    chat = load_dataset(str(release), name="motion_coa", cache_dir=str(tmp_path))["train"][0]
    image_parts = [p for m in chat["messages"] for p in m["content"] if p["type"] == "image"]
    assert len(image_parts) == len(chat["images"]) and chat["images"][0].size == (64, 36)
    assert chat["messages"][-1]["content"][0]["text"].startswith("Motion: ")
    assert "\n, Action: " in chat["messages"][-1]["content"][0]["text"]


def test_verify_passes(release):
    assert verify(release) == []


def test_meta_names_inputs_without_absolute_paths(release, raw):
    meta = ReleaseMeta.read(release)
    assert [i.name for i in meta.inputs] == [f"vpt0/{p.name}" for p in sorted(raw.glob("*.jsonl"))]
    text = (release / "meta" / "release.json").read_text() + (release / "README.md").read_text()
    assert str(raw) not in text and str(release) not in text
    assert sum(len(v) for v in meta.episodes.values()) == len(meta.inputs)


def test_rebuild_is_byte_identical_in_another_folder(release, tmp_path):
    # the same recipe, another output folder, two worker processes: the same bytes
    again = build(release.parent / "recipe.yaml", tmp_path / "again", workers=2)
    assert files(again.folder) == files(release)
    assert again.meta.fingerprint == ReleaseMeta.read(release).fingerprint


def test_building_again_reuses_the_release(release, raw, tmp_path):
    report = build(write_recipe(release.parent, raw), release)
    assert report.reused


def test_bad_recordings_are_quarantined_and_counts_add_up(raw, tmp_path):
    mixed = tmp_path / "mixed"
    shutil.copytree(raw, mixed)
    bad = sorted(mixed.glob("*.jsonl"))[1]
    bad.write_text(bad.read_text().replace('"dx"', '"dx": "oops", "x_"', 1))
    (mixed / "empty.jsonl").write_text("\n")
    report = build(write_recipe(tmp_path, mixed), tmp_path / "out")
    meta = report.meta
    reasons = {q.name: q.reason for q in meta.quarantine}
    assert set(reasons) == {f"vpt0/{bad.name}", "vpt0/empty.jsonl"}
    assert (
        f"{bad.name}:1" in reasons[f"vpt0/{bad.name}"] and "no ticks" in reasons["vpt0/empty.jsonl"]
    )
    built = sum(len(v) for v in meta.episodes.values())
    assert built + len(meta.quarantine) + len(meta.filtered) == len(meta.inputs) == 4
    assert verify(report.folder) == []


def test_strict_fails_on_a_bad_recording(raw, tmp_path):
    mixed = tmp_path / "mixed"
    shutil.copytree(raw, mixed)
    (mixed / "empty.jsonl").write_text("\n")
    with pytest.raises(ValueError, match="--strict"):
        build(write_recipe(tmp_path, mixed), tmp_path / "out", strict=True)
    assert not (tmp_path / "out").exists()


def test_filters_leave_short_episodes_out(raw, tmp_path):
    with pytest.raises(RecipeError, match="no episode was built"):
        build(write_recipe(tmp_path, raw, filters={"min_ticks": 10_000}), tmp_path / "out")


def test_interrupted_build_resumes(raw, release, tmp_path, monkeypatch):
    recipe = write_recipe(tmp_path, raw)

    class CrashAfterFirstEpisode:
        stage = ""

        def start(self, what, total):
            self.stage = what

        def update(self, done):
            if self.stage == "building episodes":
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build(recipe, tmp_path / "out", report=CrashAfterFirstEpisode())
    assert not (tmp_path / "out").exists() and (tmp_path / "out.partial").exists()
    assert len(list((tmp_path / "out.partial" / "work").glob("*/done.json"))) == 1

    import curate.release.build as build_module

    rebuilt = []
    step = build_module.build_episode
    monkeypatch.setattr(build_module, "build_episode", lambda t: rebuilt.append(t.name) or step(t))
    report = build(recipe, tmp_path / "out")
    assert len(rebuilt) == 2  # the finished episode is not built again
    assert files(report.folder) == files(release)
    assert not (tmp_path / "out.partial").exists()


@pytest.mark.parametrize(
    "extra, missing",
    [
        (
            {"configs": ["ticks", "grounding_action"]},
            "grounding_action needs the grounding labeler",
        ),
        (
            {"configs": ["all_in_one"], "mixture": {"grounding_coa": 1}},
            "all_in_one needs the grounding",
        ),
    ],
)
def test_configs_without_their_labeler_are_refused(raw, tmp_path, extra, missing):
    with pytest.raises(RecipeError, match=missing):
        build(write_recipe(tmp_path, raw, **extra), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_another_build_in_the_out_folder_is_refused(release, raw, tmp_path):
    with pytest.raises(RecipeError, match="holds another build"):
        build(write_recipe(tmp_path, raw, seed=1), release)


def test_real_minestudio_rollouts(rollouts, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    source = rollouts[0].parent
    path = write_recipe(
        tmp_path,
        source,
        configs=["ticks", "text_action", "motion_action"],
        images={"width": 64, "height": 36, "stride": 1, "quality": 70},
    )
    text = json.loads(path.read_text())
    text["sources"] = [{"format": "minestudio", "path": os.path.relpath(source, tmp_path)}]
    path.write_text(json.dumps(text))
    report = build(path, tmp_path / "out")
    steps = sum(
        sum(1 for line in (f / "action.jsonl").open() if line.strip()) - 1 for f in rollouts
    )
    assert sum(report.meta.counts["ticks"].values()) == steps
    assert not report.meta.quarantine
    assert verify(report.folder) == []


@pytest.fixture
def mirror(raw, tmp_path):
    """The raw recordings served over HTTP on 127.0.0.1, laid out as a VPT index names them."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    root = tmp_path / "mirror"
    shutil.copytree(raw, root / "data" / "10.0")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_index_source_downloads_and_quarantines_what_is_missing(raw, mirror, tmp_path, monkeypatch):
    for proxy in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(proxy, raising=False)
    names = [p.with_suffix(".mp4").name for p in sorted(raw.glob("*.jsonl"))]
    relpaths = [f"data/10.0/{n}" for n in [*names, "missing-segment.mp4"]]
    (tmp_path / "index.json").write_text(json.dumps({"basedir": mirror, "relpaths": relpaths}))
    recipe = write_recipe(tmp_path, raw, configs=["ticks", "text_action"])
    data = json.loads(recipe.read_text())
    data["sources"] = [{"format": "vpt", "index": "index.json", "limit": 4, "cache": "cache"}]
    recipe.write_text(json.dumps(data))
    meta = build(recipe, tmp_path / "out").meta
    assert [i.name for i in meta.inputs] == [
        f"vpt0/data/10.0/{p.name}" for p in sorted(raw.glob("*.jsonl"))
    ]
    assert [q.name for q in meta.quarantine] == ["vpt0/data/10.0/missing-segment.jsonl"]
    assert "404" in meta.quarantine[0].reason
    assert sum(len(v) for v in meta.episodes.values()) == 3


def test_split_by_episode_id_is_stable():
    from curate.release.build import split_of

    ids = [f"episode-{i}" for i in range(2000)]
    splits = [split_of(i, 0.1) for i in ids]
    assert 0.08 < splits.count("validation") / len(ids) < 0.12
    assert splits == [split_of(i, 0.1) for i in ids]  # a pure function of the id
    grown = [i for i, s in zip(ids, splits, strict=True) if s == "validation"]
    assert all(split_of(i, 0.2) == "validation" for i in grown)  # a larger share moves none back
