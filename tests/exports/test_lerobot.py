"""`curate export lerobot`: a recipe's recordings as a LeRobot v3 dataset. Its actions are the
recipe's ticks taken `stride` at a time, its frames the recordings' frames at the recipe's size;
the real `lerobot` package (in a venv of its own: it pins older torch, datasets and
huggingface_hub) loads it offline and gives back the same frame count, actions and frames."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image
from typer.testing import CliRunner

from curate.cli import app
from curate.contract import BINARY_ACTIONS
from curate.episode import resample
from curate.readers import read_episode
from curate.readers.video import iter_frames

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
LEROBOT = Path(os.environ.get("CURATE_LEROBOT_PYTHON", ROOT / ".venv-lerobot" / "bin" / "python"))
STRIDE = 2


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("lerobot")
    (folder / "recipe.yaml").write_text(json.dumps({
        "name": "lr", "version": "0.1.0", "validation": 0,
        "sources": [{"format": "synth", "episodes": 2, "seconds": 3, "seed": 4, "cache": "synth",
                     "tasks": ["kill_entity:pig"]}],  # the view turns: every frame differs
        "images": {"width": 64, "height": 36, "stride": STRIDE},
    }))  # fmt: skip
    result = runner.invoke(app, ["export", "lerobot", str(folder / "recipe.yaml"),
                                 "--out", str(folder / "out")])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "exported 2 episodes, 60 frames" in result.stderr
    return folder


def expected(folder: Path) -> list[dict]:
    """Per recording: the actions LeRobot should hold (its ticks, STRIDE at a time), and its
    frames at the export's size."""
    out = []
    for jsonl in sorted((folder / "synth").rglob("*.jsonl")):
        episode = read_episode(jsonl)
        kept = resample(episode.ticks, STRIDE)
        names = [*BINARY_ACTIONS, "camera_pitch", "camera_yaw"]
        actions = np.stack([np.asarray(kept.column(n), np.float32) for n in names], axis=1)
        ticks = kept.column("tick").to_pylist()
        frames = [
            np.asarray(Image.fromarray(f).resize((64, 36), Image.Resampling.BILINEAR))
            for f in iter_frames(episode.frames, ticks)
        ]  # type: ignore[arg-type]
        out.append({"actions": actions, "frames": frames})
    return out


def test_the_export_holds_the_recipe_s_ticks_and_says_its_units(export):
    info = json.loads((export / "out" / "meta" / "info.json").read_text())
    assert info["codebase_version"] == "v3.0" and info["fps"] == 20 // STRIDE
    assert info["features"]["action"]["names"][-2:] == ["camera_pitch", "camera_yaw"]
    assert info["curate"]["ticks_per_frame"] == STRIDE
    assert "degrees" in info["curate"]["units"]["action"]
    for k, recording in enumerate(expected(export)):
        table = pq.read_table(export / "out" / "data" / "chunk-000" / f"file-{k:03d}.parquet")
        assert np.array_equal(np.asarray(table.column("action").to_pylist(), np.float32),
                              recording["actions"])  # fmt: skip
    tasks = pq.read_table(export / "out" / "meta" / "tasks.parquet").to_pandas()
    assert "Kill a pig." in tasks.index


def test_an_export_is_byte_identical_when_made_again(export, tmp_path):
    again = tmp_path / "again"
    result = runner.invoke(app, ["export", "lerobot", str(export / "recipe.yaml"), "--out",
                                 str(again)])  # fmt: skip
    assert result.exit_code == 0, result.output

    def files(folder: Path) -> dict[str, bytes]:
        return {p.relative_to(folder).as_posix(): p.read_bytes()
                for p in folder.rglob("*") if p.is_file()}  # fmt: skip

    assert files(again) == files(export / "out")
    stats = json.loads((again / "meta" / "stats.json").read_text())
    assert np.asarray(stats["observation.image"]["mean"]).shape == (3, 1, 1)
    assert {"q01", "q99", "count"} <= set(stats["action"])


def test_a_mistake_is_one_line(export, tmp_path):
    result = runner.invoke(app, ["export", "lerobot", str(export / "recipe.yaml"),
                                 "--out", str(export / "out")])  # fmt: skip
    assert result.exit_code == 2 and "exists: export to a new folder" in result.stderr
    recipe = json.loads((export / "recipe.yaml").read_text())
    recipe["images"]["stride"] = 3
    (tmp_path / "r.yaml").write_text(json.dumps({**recipe, "sources": [
        {**recipe["sources"][0], "cache": str(export / "synth")}]}))  # fmt: skip
    result = runner.invoke(app, ["export", "lerobot", str(tmp_path / "r.yaml"),
                                 "--out", str(tmp_path / "o")])  # fmt: skip
    assert result.exit_code == 2 and "use a stride that divides 20" in result.stderr


ROUND_TRIP = """
import json, sys
import numpy as np
from lerobot.datasets.lerobot_dataset import LeRobotDataset
data = LeRobotDataset("curate/lr", root=sys.argv[1], video_backend="pyav")
episodes = []
for e in range(data.num_episodes):
    meta = data.meta.episodes[e]
    items = [data[i] for i in range(meta["dataset_from_index"], meta["dataset_to_index"])]
    episodes.append({
        "actions": [item["action"].tolist() for item in items],
        "frames": [(item["observation.image"].numpy() * 255).round().tolist() for item in items],
        "tasks": sorted({item["task"] for item in items}),
    })
image = data.meta.stats["observation.image"]
print(json.dumps({"frames": len(data), "fps": data.fps, "episodes": episodes,
                  "image_stats": list(image["mean"].shape), "splits": data.meta.info["splits"]}))
"""


NO_VENV = "no .venv-lerobot: python -m venv .venv-lerobot && .venv-lerobot/bin/pip install lerobot"


@pytest.mark.skipif(not LEROBOT.exists(), reason=NO_VENV)
def test_lerobot_loads_it_offline_with_the_recipe_s_frames_and_actions(export):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(export / "hf")}
    run = subprocess.run([str(LEROBOT), "-c", ROUND_TRIP, str(export / "out")], env=env,
                         capture_output=True, text=True, timeout=600)  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    loaded = json.loads(run.stdout.splitlines()[-1])
    assert loaded["frames"] == 60 and loaded["fps"] == 20 // STRIDE
    assert loaded["image_stats"] == [3, 1, 1] and loaded["splits"] == {"train": "0:2"}
    for theirs, ours in zip(loaded["episodes"], expected(export), strict=True):
        assert np.array_equal(np.asarray(theirs["actions"], np.float32), ours["actions"])
        assert len(theirs["frames"]) == len(ours["frames"])
        sources = np.asarray(ours["frames"], np.float64)
        for k, frame in enumerate(theirs["frames"]):
            decoded = np.asarray(frame).transpose(1, 2, 0)  # C, H, W -> H, W, C
            apart = np.abs(sources - decoded).mean(axis=(1, 2, 3))
            # its own frame through H.264: the nearest (a still view's frames tie), and near
            assert apart[k] < apart.min() + 0.5 and apart[k] < 10, (k, apart)
        assert theirs["tasks"] == ["Kill a pig."]
