"""A recording that crafts is a VPT recording like any other: the reader reads its GUI state and
cursor, the motion labels name the GUI, the truth names the slots, a built release shows the
cursor where the jsonl says."""

from __future__ import annotations

import io
import json
from collections import Counter

import jsonschema
import numpy as np
import pyarrow.parquet as pq
from PIL import Image
from typer.testing import CliRunner

from curate.cli import app
from curate.cursor import draw_cursor
from curate.readers.video import iter_frames
from curate.readers.vpt import read_vpt
from curate.release.build import build

SCHEMA = json.loads(
    (
        __import__("pathlib").Path(__file__).resolve().parents[2] / "schemas" / "truth.schema.json"
    ).read_text()
)


def lines_of(recording) -> list[dict]:
    return [json.loads(line) for line in recording.jsonl.read_text().splitlines()]


def test_the_reader_reads_the_gui_state_and_the_cursor(crafting):
    lines = lines_of(crafting)
    ticks = read_vpt(crafting.jsonl).ticks.to_pylist()
    assert {line["isGuiInventory"] for line in lines if line["isGuiOpen"]} == {True, False}
    for line, tick in zip(lines, ticks, strict=True):
        assert tick["gui_open"] == line["isGuiOpen"]
        if line["isGuiOpen"]:
            assert tick["gui_inventory"] == line["isGuiInventory"]
            assert (tick["cursor_x"], tick["cursor_y"]) == (line["mouse"]["x"] / 2,
                                                            line["mouse"]["y"] / 2)  # fmt: skip
        else:
            assert tick["cursor_x"] is None


def test_motion_labels_name_the_gui(crafting):
    result = CliRunner().invoke(app, ["label", "motion", str(crafting.jsonl)])
    texts = [
        json.loads(line)["text"].removeprefix("Motion: ") for line in result.stdout.splitlines()
    ]
    phrases = Counter(p for text in texts for p in text.split(", "))
    # the inventory opens and closes by its key; a crafting table opens by a use, and closes
    # by the key or ESC, either of which is `close gui` with a container open
    for phrase in ("open inventory", "close inventory", "open gui", "close gui", "operate gui"):
        assert phrases[phrase] >= 1, phrase
    assert sum(n for p, n in phrases.items() if p.startswith("cursor move")) > 20


def test_the_truth_names_the_slots_clicked(crafting):
    truth = json.loads(crafting.truth.read_text())
    jsonschema.validate(truth, SCHEMA)
    events = [e["event"] for e in truth["events"]]
    for made in ("stick", "wooden_pickaxe", "oak_planks", "crafting_table"):
        assert f"craft_item:{made}" in events
    lines = lines_of(crafting)
    deltas = sorted(
        (t, key.replace("minecraft.", ""))
        for t in range(1, len(lines))
        for key, n in lines[t]["stats"].items()
        if n > lines[t - 1]["stats"].get(key, 0)
        and key.split(":")[0].removeprefix("minecraft.") in ("craft_item", "mine_block", "pickup")
    )
    assert sorted((e["tick"], e["event"]) for e in truth["events"]
                  if not e["event"].startswith("gui_click")) == deltas  # fmt: skip
    lines = lines_of(crafting)
    for event in truth["events"]:
        target = truth["targets"][event["target"]]
        if target["kind"] == "slot":
            x, y = truth["ticks"][event["tick"]]["px"]
            cursor = lines[event["tick"]]["mouse"]
            assert abs(cursor["x"] / 2 - x) <= 9 and abs(cursor["y"] / 2 - y) <= 9  # on the slot


def test_built_frames_show_the_cursor_where_the_jsonl_says(crafting, tmp_path):
    recipe = tmp_path / "recipe.yaml"
    source = crafting.jsonl.parent
    recipe.write_text(json.dumps({
        "name": "craft", "version": "0.1.0", "sources": [{"format": "vpt", "path": str(source)}],
        "configs": ["text_action"], "validation": 0, "images": {"stride": 1, "quality": 95},
    }))  # fmt: skip
    folder = build(recipe, tmp_path / "out").folder
    rows = pq.read_table(next((folder / "data" / "text_action").glob("*.parquet"))).to_pylist()
    lines = lines_of(crafting)
    gui_ticks = [r["tick"] for r in rows if lines[r["tick"]]["isGuiOpen"]][::40]
    frames = dict(zip(gui_ticks, iter_frames(read_vpt(crafting.jsonl).frames, gui_ticks),
                      strict=True))  # fmt: skip
    for row in rows:
        if row["tick"] not in frames:
            continue
        shown = np.asarray(Image.open(io.BytesIO(row["images"][-1]["bytes"])), np.float64)
        mouse = lines[row["tick"]]["mouse"]
        x, y = int(mouse["x"] / 2), int(mouse["y"] / 2)
        region = (slice(y, y + 12), slice(x, x + 8))
        raw = frames[row["tick"]].astype(np.float64)
        with_cursor = draw_cursor(frames[row["tick"]], mouse["x"] / 2, mouse["y"] / 2)
        assert np.abs(shown[region] - with_cursor[region]).mean() < 12
        assert np.abs(shown[region] - raw[region]).mean() > 30
