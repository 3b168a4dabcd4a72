"""The label-QA report flags planted problems by name, under the right check, and leaves the
unaltered recordings beside them alone. Each problem is planted in a copy of a recording of the
world: its jsonl edited, or its video re-encoded."""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from curate.contract import CAMERA_SCALE
from curate.episode import TICK_SCHEMA
from curate.qa.checks import episode_qa, runs, spans
from curate.readers.video import iter_frames
from curate.readers.vpt import read_vpt
from curate.release.build import build
from curate.release.recipe import RecipeError
from curate.world.record import VideoWriter, synthesize

Lines = list[dict]


def edit(jsonl: Path, change: Callable[[Lines], None]) -> None:
    lines = [json.loads(line) for line in jsonl.read_text().splitlines() if line.strip()]
    change(lines)
    jsonl.write_text("".join(json.dumps(line) + "\n" for line in lines))


def copy(jsonl: Path, folder: Path, name: str) -> Path:
    for ext in (".jsonl", ".mp4"):
        shutil.copy(jsonl.with_suffix(ext), (folder / name).with_suffix(ext))
    return (folder / name).with_suffix(".jsonl")


def one_tick_late(lines: Lines) -> None:
    """Each line's action moved to the line before: the log runs a tick ahead of its video."""
    actions = [(line["mouse"], line["keyboard"]) for line in lines]
    for line, (mouse, keyboard) in zip(lines, [*actions[1:], actions[-1]], strict=True):
        line["mouse"], line["keyboard"] = mouse, keyboard


def swap_axes(lines: Lines) -> None:
    for line in lines:
        line["mouse"]["dx"], line["mouse"]["dy"] = line["mouse"]["dy"], line["mouse"]["dx"]


def whole_degrees(lines: Lines) -> None:
    """The camera truncated to whole degrees, as some converters store it."""
    for line in lines:
        for axis in ("dx", "dy"):
            degrees = math.trunc(line["mouse"][axis] * CAMERA_SCALE)
            line["mouse"][axis] = degrees / CAMERA_SCALE


def build_report(folder: Path, qa: dict | None = None) -> dict:
    recipe = folder.parent / f"{folder.name}.yaml"
    recipe.write_text(json.dumps({
        "name": "qa", "version": "0.1.0", "sources": [{"format": "vpt", "path": folder.name}],
        "configs": ["ticks"], "validation": 0, "qa": qa or {},
    }))  # fmt: skip
    out = build(recipe, folder.parent / f"{folder.name}-out").folder
    assert "## Label QA" in (out / "README.md").read_text()
    return json.loads((out / "meta" / "qa.json").read_text())


def flagged(report: dict) -> dict[str, list[str]]:
    return {check: r["flagged"] for check, r in report["checks"].items() if r["flagged"]}


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> list[Path]:
    """Three recordings of the world's player, 15 s each."""
    return synthesize(tmp_path_factory.mktemp("world"), episodes=3, seconds=15, seed=3)


def test_a_late_log_swapped_axes_and_a_truncated_camera_are_flagged_by_name(world, tmp_path):
    folder = tmp_path / "recordings"
    folder.mkdir()
    for jsonl in world:
        copy(jsonl, folder, jsonl.stem)
    for name, change in (("late", one_tick_late), ("swapped", swap_axes),
                         ("truncated", whole_degrees)):  # fmt: skip
        edit(copy(world[0], folder, name), change)

    # The world's player turns up to 25 degrees a tick, past VPT's 10-degree clip, on more than
    # a twentieth of its ticks: that check is not what this test is about.
    report = build_report(folder, {"camera_clipped": 1.0})

    assert flagged(report) == {
        "camera_lag": ["late"],
        "camera_axes": ["swapped"],
        "camera_gain": ["truncated"],
    }, {c: r["values"] for c, r in report["checks"].items() if c.startswith("camera")}
    values = {c: r["values"] for c, r in report["checks"].items()}
    assert values["camera_lag"]["late"] == 2  # its moves show two ticks after they are logged
    assert values["camera_gain"]["truncated"] > 1.12  # less recorded than the view turned
    for sibling in (p.stem for p in world):
        assert values["camera_lag"][sibling] == 1
        assert values["camera_axes"][sibling] == "ok"
        assert abs(values["camera_gain"][sibling] - 1) < 0.1


@pytest.fixture(scope="module")
def crafting(tmp_path_factory) -> Path:
    """A recording of the world's player crafting, with its GUI open and closed."""
    folder = tmp_path_factory.mktemp("crafting")
    tasks = ["craft_item:crafting_table"]
    return synthesize(folder, episodes=1, seconds=15, seed=1, tasks=tasks)[0]


def longest_turn(jsonl: Path) -> tuple[int, int]:
    """The ticks (first, last + 1) of the recording's longest run of turns of over 1.5 degrees."""
    ticks = read_vpt(jsonl, video=False).ticks
    turning = np.hypot(np.asarray(ticks["camera_yaw"]), np.asarray(ticks["camera_pitch"])) > 1.5
    best, start = (0, 0), None
    for t, on in enumerate([*turning, False]):
        if on and start is None:
            start = t
        if not on and start is not None:
            best, start = max(best, (start, t), key=lambda r: r[1] - r[0]), None
    assert best[1] - best[0] > 12, f"{jsonl.name} never turns for long"
    return best


def idle_while_turning(jsonl: Path) -> None:
    first, last = longest_turn(jsonl)

    def change(lines: Lines) -> None:
        for line in lines[first:last]:
            line["mouse"].update(dx=0.0, dy=0.0, buttons=[], newButtons=[])
            line["keyboard"].update(keys=[], newKeys=[])

    edit(jsonl, change)


def frozen_while_turning(jsonl: Path) -> None:
    first, last = longest_turn(jsonl)
    video = jsonl.with_suffix(".mp4")
    frames = list(iter_frames(read_vpt(jsonl).frames))  # type: ignore[arg-type]
    writer = VideoWriter(video)
    for t, frame in enumerate(frames):
        writer.write(frames[first] if first <= t < last else frame)
    writer.close()


def gui_two_ticks_early(lines: Lines) -> None:
    shown = [line["isGuiOpen"] for line in lines]
    for line, flag in zip(lines, [*shown[2:], shown[-1], shown[-1]], strict=True):
        line["isGuiOpen"] = flag


def use_held_throughout(lines: Lines) -> None:
    for line in lines:
        line["mouse"]["buttons"] = sorted({*line["mouse"]["buttons"], 1})


def a_block_mined_by_nothing(lines: Lines) -> None:
    """A `mine_block` stat that grows at the start, where the player attacks nothing."""
    for k, line in enumerate(lines):
        line["stats"]["minecraft.mine_block:minecraft.stone"] = int(k >= 5)
        if k < 50:
            line["mouse"]["buttons"] = [b for b in line["mouse"]["buttons"] if b != 0]


def camera_at_the_clip(lines: Lines) -> None:
    for line in lines:
        line["mouse"]["dx"] = 12 / CAMERA_SCALE


def test_each_planted_problem_is_named_under_its_check(world, crafting, tmp_path):
    folder = tmp_path / "recordings"
    folder.mkdir()
    copy(crafting, folder, "crafting")
    plants = {
        "noop_while_moving": ("idle", world[1], idle_while_turning),
        "frozen_frames": ("frozen", world[1], frozen_while_turning),
        "gui_lag": ("gui-early", crafting, lambda j: edit(j, gui_two_ticks_early)),
        "stuck_input": ("use-held", world[2], lambda j: edit(j, use_held_throughout)),
        "orphan_events": ("orphan", world[2], lambda j: edit(j, a_block_mined_by_nothing)),
        "camera_clipped": ("clipped", world[2], lambda j: edit(j, camera_at_the_clip)),
    }
    for name, source, plant in plants.values():
        plant(copy(source, folder, name))

    report = build_report(folder, {"stuck_input": 14.9, "camera_clipped": 0.99})

    by_episode: dict[str, set[str]] = {}
    for check, ids in flagged(report).items():
        for episode in ids:
            by_episode.setdefault(episode, set()).add(check)
    assert "crafting" not in by_episode
    for check, (name, _, _) in plants.items():
        assert check in by_episode[name], (check, report["checks"][check])
        if name != "clipped":  # a camera at 12 degrees a tick the picture does not follow
            assert by_episode[name] == {check}, name
    values = {c: r["values"] for c, r in report["checks"].items()}
    assert values["gui_lag"] == {**dict.fromkeys(values["gui_lag"]), "crafting": 0,
                                 "gui-early": 2}  # fmt: skip
    assert values["stuck_input"]["use-held"] == 15.0
    assert values["orphan_events"]["orphan"] == 1
    assert values["camera_clipped"]["clipped"] == 1.0
    assert report["stats"]["gui_share"]["crafting"] > 0
    assert set(report["recorders"]) == {"unversioned"}


def test_strict_fails_on_a_flagged_episode_and_names_it(world, tmp_path):
    folder = tmp_path / "recordings"
    folder.mkdir()
    copy(world[0], folder, "sibling")
    edit(copy(world[0], folder, "swapped"), swap_axes)
    recipe = folder.parent / "strict.yaml"
    recipe.write_text(json.dumps({
        "name": "qa", "version": "0.1.0", "sources": [{"format": "vpt", "path": "recordings"}],
        "configs": ["ticks"], "validation": 0, "qa": {"camera_clipped": 1.0},
    }))  # fmt: skip
    with pytest.raises(RecipeError, match=r"label QA flagged episodes: camera_axes .*: swapped\."):
        build(recipe, tmp_path / "out", strict=True)
    assert not (tmp_path / "out").exists()
    assert build(recipe, tmp_path / "out").meta.quarantine == []  # without --strict: a warning


def ticks_of(n: int, **columns: list) -> pa.Table:
    """A tick table of `n` idle ticks, with the given columns set."""
    values: dict[str, list] = {f.name: [0] * n for f in TICK_SCHEMA}
    values |= {"tick": list(range(n)), "events": [[] for _ in range(n)], "cursor_x": [None] * n,
               "cursor_y": [None] * n, "null": [True] * n, "gui_open": [False] * n}  # fmt: skip
    return pa.table(values | columns).cast(TICK_SCHEMA)


def test_spans_mark_where_a_check_s_value_comes_from():
    n = 12
    ticks = ticks_of(
        n,
        forward=[1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0],
        attack=[0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0],
        camera_yaw=[0.0, 0.0, 10.0, -12.0, 0, 0, 0, 0, 0, 0, 0, 3.0],
        camera_pitch=[0.0] * (n - 1) + [10.0],
        events=[[], ["mine_block:dirt"], [], [], [], [], [], [], [], ["mine_block:stone"], [], []],
    )
    assert spans("stuck_input", ticks) == [(3, 5)]  # forward's longest hold
    assert spans("orphan_events", ticks) == [(1, 1)]  # no attack before the dirt; one before stone
    assert spans("camera_clipped", ticks) == [(2, 3), (11, 11)]
    assert spans("camera_lag", ticks) == []  # judged on a sample of frames: the whole episode
    assert spans("stuck_input", ticks_of(3)) == []
    values = episode_qa(ticks, None)
    assert values["orphan_events"] == 1 and values["camera_clipped"] == round(3 / n, 4)
    assert runs(np.array([0, 1, 1, 0, 1], dtype=bool)) == [(1, 2), (4, 4)]
