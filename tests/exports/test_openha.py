"""`curate export openha`: the release's SFT rows in OpenHA's shape load with `datasets`, their
frames are the release's (as files by path and as bytes), and OpenHA's strings on request."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from datasets import load_dataset
from typer.testing import CliRunner

from curate.cli import app
from curate.exports.openha import FIELDS, openha_text
from curate.formats.chat import conversation
from curate.release.build import build

runner = CliRunner()


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    folder = tmp_path_factory.mktemp("openha")
    recipe = folder / "recipe.yaml"
    recipe.write_text(json.dumps({
        "name": "oh", "version": "0.1.0", "history": 1, "validation": 0.5,
        "sources": [{"format": "synth", "episodes": 2, "seconds": 2, "cache": "synth"}],
        "configs": ["ticks", "text_action", "motion_coa"],
        "images": {"width": 64, "height": 36, "stride": 4},
    }))  # fmt: skip
    return build(recipe, folder / "release").folder


def release_rows(release, config: str, split: str) -> list[dict]:
    shards = sorted((release / "data" / config).glob(f"{split}-*.parquet"))
    return [row for shard in shards for row in pq.read_table(shard).to_pylist()]


def test_the_export_loads_in_openha_s_shape_with_the_release_s_rows(release, tmp_path):
    out = tmp_path / "export"
    result = runner.invoke(app, ["export", "openha", str(release), str(out)])
    assert result.exit_code == 0, result.output
    assert "text_action" in result.stderr and "motion_coa" in result.stderr
    for config in ("text_action", "motion_coa"):
        loaded = load_dataset(str(out), config, cache_dir=str(tmp_path / "hf"))
        assert set(loaded) == {"train", "valid"}
        for split, theirs in (("train", "train"), ("validation", "valid")):
            ours = release_rows(release, config, split)
            rows = loaded[theirs]
            assert rows.column_names == list(FIELDS) and len(rows) == len(ours) > 0
            for row, source in zip(rows, ours, strict=True):
                said = conversation(source)
                assert row["id"] == f"{source['episode_id']}-{source['tick']}"
                assert row["conversations"] == said and row["label"] == row["conversations"][-1][
                    "content"
                ][0]["text"]  # fmt: skip
                first = row["conversations"][0]["content"][0]["text"]
                assert first.startswith("You play Minecraft") and "\nTask: " in first
                frames = [image["bytes"] for image in source["images"]]
                assert row["image_bytes"] == frames
                assert [(out / i["image_path"]).read_bytes() for i in row["image"]] == frames
                assert all(i["resolution"] == [64, 36] for i in row["image"])
    card = (out / "README.md").read_text()
    assert all(f"| `{name}` |" in card for name in FIELDS)
    assert str(tmp_path) not in card and str(release) not in card


def test_openha_strings_end_every_answer_line_with_a_space(release, tmp_path):
    out = tmp_path / "export"
    result = runner.invoke(app, ["export", "openha", str(release), str(out), "--openha-strings"])
    assert result.exit_code == 0, result.output
    rows = load_dataset(str(out), "motion_coa", split="train", cache_dir=str(tmp_path / "hf"))
    for row in rows:
        answer = row["label"]
        assert answer.startswith("Motion: ") and " \n, Action: " in answer and answer.endswith(" ")
        assert not row["conversations"][0]["content"][0]["text"].endswith(" ")  # only answers
    assert openha_text("Action: move(0, 0)") == "Action: move(0, 0) "


def test_image_root_prefixes_every_image_path(release, tmp_path):
    out = tmp_path / "export"
    result = runner.invoke(app, ["export", "openha", str(release), str(out),
                                 "--image-root", "/data/openha-rows"])  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = load_dataset(str(out), "text_action", split="valid", cache_dir=str(tmp_path / "hf"))
    for image in rows[0]["image"]:
        assert image["image_path"].startswith("/data/openha-rows/images/")
        assert (out / image["image_path"].removeprefix("/data/openha-rows/")).is_file()


def test_a_mistake_is_one_line(release, tmp_path):
    taken = tmp_path / "taken"
    taken.mkdir()
    result = runner.invoke(app, ["export", "openha", str(release), str(taken)])
    assert result.exit_code == 2 and "exists: export to a new folder" in result.stderr
    missing = tmp_path / "nothing"
    result = runner.invoke(app, ["export", "openha", str(missing), str(tmp_path / "o")])
    assert result.exit_code == 2 and result.stderr.startswith("error:")
