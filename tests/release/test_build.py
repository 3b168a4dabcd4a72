"""`curate build` end to end: every config loads with `datasets`, rebuilds are byte-identical,
bad recordings are quarantined, interrupted builds resume, unbuildable configs are refused."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from datasets import load_dataset

from curate.release.build import build
from curate.release.meta import ReleaseMeta
from curate.release.recipe import RecipeError
from curate.release.verify import verify
from curate.testing import write_rollout
from curate.world.record import synthesize

BUILDABLE = ["ticks", "text_action", "motion_action", "motion_coa", "all_in_one"]  # no grounding:
# three seconds of play hold no interaction event (grounding configs: their own test below)


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
        # these builds mix one bad recording into a handful: a share past the default limit
        # (which has its own test)
        "max_quarantined": 1,
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


def test_verify_passes(release, monkeypatch):
    assert verify(release) == []
    monkeypatch.chdir(release)
    assert verify(".") == []  # `datasets` needs a name; "." has none


def test_meta_names_inputs_without_absolute_paths(release, raw):
    meta = ReleaseMeta.read(release)
    assert [i.name for i in meta.inputs] == [f"vpt0/{p.name}" for p in sorted(raw.glob("*.jsonl"))]
    text = (release / "meta" / "release.json").read_text() + (release / "README.md").read_text()
    assert str(raw) not in text and str(release) not in text
    assert sum(len(v) for v in meta.episodes.values()) == len(meta.inputs)


def test_rebuild_is_byte_identical_in_another_folder(release, tmp_path):
    # the same recipe, another output folder, two worker processes: the same bytes
    again = build(release.parent / "recipe.yaml", tmp_path / "again", workers=2)
    before, after = files(release), files(again.folder)
    assert after == before, [p for p in sorted({*before, *after}) if before.get(p) != after.get(p)]
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


def test_strict_fails_on_a_bad_recording_and_says_what_it_kept(raw, tmp_path):
    mixed = tmp_path / "mixed"
    shutil.copytree(raw, mixed)
    (mixed / "empty.jsonl").write_text("\n")
    names = r"--strict: 1 recording\(s\) quarantined: vpt0/empty.jsonl: .*kept in .*out\.partial"
    with pytest.raises(RecipeError, match=names):
        build(write_recipe(tmp_path, mixed), tmp_path / "out", strict=True)
    assert not (tmp_path / "out").exists()


def test_a_build_with_too_much_quarantined_fails_and_resumes_under_a_higher_limit(raw, tmp_path):
    mixed = tmp_path / "mixed"
    shutil.copytree(raw, mixed)
    (mixed / "empty.jsonl").write_text("\n")  # 1 of 4 recordings: 25%
    too_many = r"1 of 4 recordings \(25%\) were quarantined, more than max_quarantined = 20%"
    with pytest.raises(RecipeError, match=too_many + r".*empty.jsonl: .*raise `max_quarantined`"):
        build(write_recipe(tmp_path, mixed, max_quarantined=0.2), tmp_path / "out")
    assert not (tmp_path / "out").exists()
    # the limit says how to check a build, not what it is: the next run resumes every episode
    report = build(write_recipe(tmp_path, mixed, max_quarantined=0.25), tmp_path / "out")
    assert len(report.meta.quarantine) == 1 and report.run and report.run.resumed == 4
    assert report.run.rates() == "all 4 resumed from an earlier run"


def test_filters_leave_short_episodes_out(raw, tmp_path):
    with pytest.raises(RecipeError, match="no episode was built"):
        build(write_recipe(tmp_path, raw, filters={"min_ticks": 10_000}), tmp_path / "out")


def test_interrupted_build_resumes(raw, release, tmp_path, monkeypatch):
    recipe = write_recipe(tmp_path, raw)

    class CrashAfterFirstEpisode:
        stage = ""

        def start(self, what, total):
            self.stage = what

        def update(self, done, note=""):
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
            {"configs": ["all_in_one"], "mixture": {"grounding_coa": 1, "text_action": 1}},
            "all_in_one needs the grounding",
        ),
    ],
)
def test_configs_without_their_labeler_are_refused(raw, tmp_path, extra, missing, monkeypatch):
    from curate import labelers

    monkeypatch.delitem(labelers.BUILTIN, "grounding")  # as in a curate without it
    labelers.registry.cache_clear()
    try:
        with pytest.raises(RecipeError, match=missing):
            build(write_recipe(tmp_path, raw, **extra), tmp_path / "out")
    finally:
        labelers.registry.cache_clear()
    assert not (tmp_path / "out").exists()


def test_a_mixture_of_grounding_alone_is_refused(raw, tmp_path):
    with pytest.raises(RecipeError, match="needs a weight on text_action or motion_coa"):
        build(write_recipe(tmp_path, raw, mixture={"grounding_coa": 1}), tmp_path / "out")


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
    assert [(i.name, i.sha256 is None) for i in meta.inputs] == [
        *((f"vpt0/data/10.0/{p.name}", False) for p in sorted(raw.glob("*.jsonl"))),
        ("vpt0/data/10.0/missing-segment.jsonl", True),  # listed, not fetched: in the count
    ]
    assert [q.name for q in meta.quarantine] == ["vpt0/data/10.0/missing-segment.jsonl"]
    assert "404" in meta.quarantine[0].reason
    assert sum(len(v) for v in meta.episodes.values()) == 3


def test_a_missing_video_quarantines_unless_the_source_is_action_only(raw, tmp_path):
    lone = tmp_path / "lone"
    shutil.copytree(raw, lone)
    gone = sorted(lone.glob("*.mp4"))[0]
    gone.unlink()
    meta = build(write_recipe(tmp_path, lone, configs=["ticks"]), tmp_path / "out").meta
    assert [(q.name, q.reason.split(":")[0]) for q in meta.quarantine] == [
        (f"vpt0/{gone.with_suffix('.jsonl').name}", gone.name)
    ]
    assert "video: false" in meta.quarantine[0].reason
    recipe = write_recipe(tmp_path / "b", lone, configs=["ticks"])
    data = json.loads(recipe.read_text())
    data["sources"][0]["video"] = False
    recipe.write_text(json.dumps(data))
    meta = build(recipe, tmp_path / "b" / "out").meta
    assert not meta.quarantine and len(meta.inputs) == 3


def test_a_reason_keeps_words_that_spell_a_folder_name(raw, tmp_path):
    data = tmp_path / "data"  # "Invalid data found ...": the word must survive
    shutil.copytree(raw, data)
    bad = sorted(data.glob("*.mp4"))[0]
    bad.write_bytes(b"not a video" * 100)
    meta = build(write_recipe(tmp_path, data, configs=["ticks"]), tmp_path / "out").meta
    reason = meta.quarantine[0].reason
    assert reason.startswith(f"{bad.name}: ") and "Invalid data found" in reason
    assert str(tmp_path) not in reason and "/" not in reason


BUGGY = """
from curate.labelers import Labeler


class BuggyLabeler(Labeler):
    space = "buggy"
    version = "1"

    def label(self, episode, frames=None):
        return 1 / 0

    def output(self, labels):
        return labels
"""


def test_a_bug_in_a_labeler_fails_the_build_instead_of_a_quarantine(raw, tmp_path, monkeypatch):
    (tmp_path / "buggy_labeler.py").write_text(BUGGY)
    monkeypatch.syspath_prepend(str(tmp_path))
    recipe = write_recipe(
        tmp_path, raw, configs=["ticks"], labelers={"buggy": {"from": "buggy_labeler:BuggyLabeler"}}
    )
    with pytest.raises(ZeroDivisionError):
        build(recipe, tmp_path / "out")
    assert not list((tmp_path / "out.partial" / "work").glob("*/done.json"))


def rollout_recipe(folder: Path, rollouts: Path, **extra) -> Path:
    """A recipe over MineStudio rollouts, with small images."""
    images = {"width": 32, "height": 18, "stride": 1, "quality": 70}
    recipe = write_recipe(
        folder, rollouts, configs=["ticks", "text_action"], images=images, **extra
    )
    data = json.loads(recipe.read_text())
    data["sources"] = [{"format": "minestudio", "path": os.path.relpath(rollouts, folder)}]
    recipe.write_text(json.dumps(data))
    return recipe


def test_a_corrupt_frame_quarantines_its_rollout_and_the_rest_is_built(tmp_path):
    rollouts = tmp_path / "rollouts"
    for name in ("a", "b", "c"):
        write_rollout(rollouts / name, [{"forward": 1}] * 5)
    lines = (rollouts / "b" / "episode.jsonl").read_text().splitlines()
    lines[1] = lines[1].replace('"base64": "', '"base64": "AAAA')
    (rollouts / "b" / "episode.jsonl").write_text("\n".join(lines) + "\n")
    meta = build(rollout_recipe(tmp_path, rollouts), tmp_path / "out").meta
    assert [q.name for q in meta.quarantine] == ["minestudio0/b"]
    assert meta.quarantine[0].reason.startswith("episode.jsonl:2: the frame of step 1 is not a")
    assert meta.episodes["train"] + meta.episodes["validation"] != [] and len(meta.inputs) == 3


def test_a_rollout_s_task_comes_from_its_folder_name(tmp_path):
    rollouts = tmp_path / "rollouts"
    write_rollout(rollouts / "20251014-230524_reset_0_craft_item_arrow", [{"forward": 1}] * 4)
    folder = build(rollout_recipe(tmp_path, rollouts, validation=0), tmp_path / "out").folder
    ticks = pq.read_table(next((folder / "data" / "ticks").glob("*.parquet")))
    assert set(ticks["instruction_text"].to_pylist()) == {"Craft an arrow."}
    chat = pq.read_table(next((folder / "data" / "text_action").glob("*.parquet")))
    assert chat["messages"][0].as_py()[0]["content"][0]["text"].endswith("Task: Craft an arrow.")


TOY = """
import polars as pl
import pyarrow as pa

from curate.labelers import Chart, Labeler, Params


class ToyParams(Params):
    every: int = 2


class Means:
    def __init__(self, ticks):
        self.ticks, self.means = ticks, {}

    def take(self, tick, frame):
        self.means[tick] = float(frame.mean())


class BrightnessLabeler(Labeler[ToyParams]):
    space = "brightness"
    version = "1"
    Params = ToyParams
    fields = (pa.field("brightness_mean", pa.float64()),)
    needs_frames = True
    chart = Chart("frames by brightness", bars=2)

    def frame_reader(self, episode):
        return Means(list(range(0, len(episode), self.params.every)))

    def label(self, episode, frames=None):
        means = [frames.means.get(t) for t in range(len(episode))]
        return pl.DataFrame({"brightness_mean": means}, schema={"brightness_mean": pl.Float64})

    def output(self, labels):
        return labels.select(mean="brightness_mean")

    def stats(self, episode, labels):
        m = labels["brightness_mean"].drop_nulls()
        return {"dark": int((m < 128).sum()), "bright": int((m >= 128).sum())}
"""


def test_a_labeler_of_another_module_adds_its_column_and_chart(raw, tmp_path, monkeypatch):
    (tmp_path / "toy_labeler.py").write_text(TOY)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))  # the spawned workers import it too
    labelers = {"brightness": {"from": "toy_labeler:BrightnessLabeler", "every": 3}}
    recipe = write_recipe(tmp_path, raw, configs=["ticks", "text_action"], labelers=labelers)
    report = build(recipe, tmp_path / "out", workers=2)
    ticks = load_dataset(str(report.folder), name="ticks", cache_dir=str(tmp_path / "c"))
    means = [m for split in ticks.values() for m in split["brightness_mean"]]
    assert [m is not None for m in means[:4]] == [True, False, False, True]
    chart = report.meta.charts["brightness"]
    assert sum(chart.counts.values()) == sum(m is not None for m in means)
    assert (report.folder / "meta" / "plots" / "brightness.png").exists()
    assert report.meta.recipe["labelers"]["brightness"] == {
        "from": "toy_labeler:BrightnessLabeler",
        "every": 3,
    }
    assert verify(report.folder) == []


def test_the_card_is_a_function_of_the_release_folder(release, tmp_path):
    from curate.release.card import write_card

    copy = tmp_path / "copy"
    shutil.copytree(release, copy)
    (copy / "README.md").unlink()
    shutil.rmtree(copy / "meta" / "plots")
    write_card(copy, ReleaseMeta.read(copy))
    assert files(copy) == files(release)


def test_the_card_shows_a_whole_row_of_each_config(release):
    card = (release / "README.md").read_text()
    section = card.split("## Examples")[1].split("## Validation")[0]
    for config in BUILDABLE[1:]:
        assert f"### `{config}`" in section
    assert section.count("![frame](meta/examples/") >= 2 * len(BUILDABLE[1:])
    assert "Task: " in section and "(the answer)" in section
    assert "stands for the 4 ticks from the row's frame on (200 ms)" in card


def test_the_text_chart_counts_only_parts_that_act(release):
    meta = ReleaseMeta.read(release)
    text = meta.charts["text"].counts
    assert 0 < text["move("] < meta.ticks and 0 < text["press("] < meta.ticks


def test_an_older_meta_is_refused_with_what_to_do(release, tmp_path):
    copy = tmp_path / "old"
    shutil.copytree(release, copy)
    path = copy / "meta" / "release.json"
    path.write_text(path.read_text().replace('"format_version": 2', '"format_version": 1'))
    with pytest.raises(ValueError, match="format_version 1, this curate reads 2: rebuild it"):
        ReleaseMeta.read(copy)


def test_absolute_paths_in_a_recipe_are_published_relative(raw, tmp_path):
    recipe = write_recipe(tmp_path, raw, configs=["ticks"])
    data = json.loads(recipe.read_text())
    data["sources"][0]["path"] = str(raw.resolve())
    recipe.write_text(json.dumps(data))
    folder = build(recipe, tmp_path / "out").folder
    published = (folder / "README.md").read_text() + (folder / "meta" / "release.json").read_text()
    assert str(raw.resolve()) not in published and str(tmp_path) not in published


def test_a_synth_source_s_task_is_the_instruction(tmp_path):
    (tmp_path / "recipe.yaml").write_text(json.dumps({
        "name": "t", "version": "0.1.0", "configs": ["ticks"], "validation": 0,
        "sources": [{"format": "synth", "episodes": 1, "seconds": 4, "seed": 2,
                     "tasks": ["craft_item:oak_planks"]}],
    }))  # fmt: skip
    folder = build(tmp_path / "recipe.yaml", tmp_path / "out").folder
    ticks = pq.read_table(next((folder / "data" / "ticks").glob("*.parquet")))
    assert set(ticks["instruction_text"].to_pylist()) == {"Craft oak planks."}
    assert "craft_item:oak_planks" in ticks["instruction_event"].to_pylist()  # it crafted them


def test_grounding_configs_hold_only_grounded_ticks(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    raw = tmp_path / "raw"
    synthesize(raw, episodes=2, seconds=12, seed=7)
    configs = ["ticks", "grounding_action", "grounding_coa", "all_in_one"]
    recipe = write_recipe(tmp_path / "r", raw, configs=configs, validation=0,
                          mixture={"text_action": 1, "grounding_coa": 3})  # fmt: skip
    folder = build(recipe, tmp_path / "out").folder

    def rows(config):
        return load_dataset(str(folder), name=config, cache_dir=str(tmp_path / "c"))["train"]

    ticks = rows("ticks")
    grounded = {(e, t) for e, t, g in zip(ticks["episode_id"], ticks["tick"],
                                          ticks["grounding_text"], strict=True) if g}  # fmt: skip
    assert grounded and len(grounded) < len(ticks)
    for config in ("grounding_action", "grounding_coa"):
        data = rows(config)
        assert data.num_rows > 0 and {(r["episode_id"], r["tick"]) for r in data} <= grounded
        answers = [r["messages"][-1]["content"][0]["text"] for r in data]
        assert all(a.startswith("Grounding: ") for a in answers)
    mixed = rows("all_in_one")
    drawn = [(r["episode_id"], r["tick"]) for r in mixed
             if r["messages"][-1]["content"][0]["text"].startswith("Grounding: ")]  # fmt: skip
    assert drawn and set(drawn) <= grounded
    assert mixed.num_rows > rows("grounding_action").num_rows  # ungrounded ticks drew again
    card = (folder / "README.md").read_text()
    assert "of the ticks have no interaction ahead" in card and "meta/plots/grounding.png" in card


def test_a_staging_folder_curate_did_not_make_is_refused_not_removed(raw, tmp_path):
    recipe = write_recipe(tmp_path / "r", raw)
    foreign = tmp_path / "out.partial"
    (foreign / "notes").mkdir(parents=True)
    (foreign / "notes" / "mine.txt").write_text("keep me")
    with pytest.raises(RecipeError, match="not left by a curate build.*Move it away"):
        build(recipe, tmp_path / "out")
    assert (foreign / "notes" / "mine.txt").read_text() == "keep me"


@pytest.mark.parametrize("tidied", [True, False])
def test_a_build_killed_after_its_assembly_is_finished_by_the_next_run(raw, tmp_path, tidied):
    recipe = write_recipe(tmp_path / "r", raw)
    first = build(recipe, tmp_path / "first")
    whole = files(first.folder)
    staging = tmp_path / "out.partial"
    first.folder.rename(staging)  # killed just before its rename...
    if not tidied:  # ... or while removing its work folder, some episodes' parts already gone
        (staging / "work" / "0123456789abcdef").mkdir(parents=True)
        (staging / "work" / "0123456789abcdef" / "done.json").write_text("{}")
        (staging / "FINGERPRINT").write_text(first.meta.fingerprint)
    finished = build(recipe, tmp_path / "out")
    assert files(finished.folder) == whole and not staging.exists()


def test_a_recipe_s_own_prompt_replaces_curate_s_for_its_form(raw, tmp_path):
    folder = tmp_path / "own"
    folder.mkdir()
    own = "You are OpenHA. Say the motion, then the action."
    (folder / "motion.txt").write_text(own + "\n")
    recipe = write_recipe(folder, raw, configs=["motion_coa", "text_action"],
                          prompts={"motion_coa": "motion.txt"})  # fmt: skip
    report = build(recipe, folder / "out")
    first = {}
    for config in ("motion_coa", "text_action"):
        row = pq.read_table(sorted((report.folder / "data" / config).glob("*.parquet"))[0])
        first[config] = row.to_pylist()[0]["messages"][0]["content"][0]["text"]
    assert first["motion_coa"].startswith(own + "\nTask: ")
    assert first["text_action"].startswith("You play Minecraft")  # curate's own for the others
    assert report.meta.prompts == {"motion_coa": own}
    assert report.meta.recipe["prompts"] == {"motion_coa": "motion.txt"}
    card = (report.folder / "README.md").read_text()
    assert "The prompt of `motion_coa` is the recipe's own" in card
    (folder / "motion.txt").write_text("Another prompt.")
    assert build(recipe, folder / "again").meta.fingerprint != report.meta.fingerprint
    (folder / "motion.txt").unlink()
    with pytest.raises(RecipeError, match=r"prompts\.motion_coa: cannot read motion\.txt"):
        build(recipe, folder / "third")
    unused = write_recipe(folder, raw, configs=["text_action"], prompts={"motion_coa": "m.txt"})
    with pytest.raises(RecipeError, match=r"prompts\.motion_coa: this recipe builds no motion_coa"):
        build(unused, folder / "fourth")
