"""The public CLI contract: `curate label` writes JSON lines per tick, bad input is one line and
exit 2; `curate build` shows progress as plain lines in a log and says how to resume."""

from __future__ import annotations

import json
import re
import socket

import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.testing import vpt_line, write_vpt

runner = CliRunner()


def label(*args):
    result = runner.invoke(app, ["label", *map(str, args)])
    return result


@pytest.fixture
def recording(tmp_path):
    lines = [vpt_line(keys=["w"], dx=20.0), vpt_line(inventory=[]), vpt_line(buttons=[0], hotbar=2)]
    return write_vpt(tmp_path / "rec.jsonl", lines)


def rows(result) -> list[dict]:
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_env(recording):
    out = rows(label("env", recording))
    assert [r["tick"] for r in out] == [0, 1, 2]
    assert out[0]["action"]["forward"] == 1 and out[0]["action"]["camera"] == [0.0, 3.0]
    assert out[1]["null"] is True and out[2]["action"]["hotbar.3"] == 1


def test_vpt_and_bins(recording):
    assert [r["camera"] for r in rows(label("vpt", recording))] == [
        5 * 11 + 8,
        60,
        60,
    ]  # yaw 3 deg is bin 8
    assert rows(label("vpt", recording, "--bins", "21"))[1] == {
        "tick": 1,
        "buttons": 0,
        "camera": 220,
    }


def test_text_modes(recording):
    assert [r["text"] for r in rows(label("text", recording, "--mode", "compact"))] == [
        "Action: move(20, 0) and press(w)",
        "Action: no_op",
        "Action: press(3) and click(left)",
    ]
    # reserved is the default, as in OpenHA's released data and in `curate build`
    assert rows(label("text", recording))[1]["text"] == "Action: move(0, 0) and press()"


def test_grounding(tmp_path):
    """A mined block: the attack run gets the event's verb at the crosshair; no video beside
    the recording, so the point is carried by the camera alone."""
    stats = {"minecraft.mine_block:minecraft.dirt": 1}
    lines = [vpt_line(), vpt_line(buttons=[0]), vpt_line(buttons=[0], stats=stats), vpt_line()]
    path = write_vpt(tmp_path / "g.jsonl", lines)
    missing = label("grounding", path)
    assert missing.exit_code == 2 and "g.mp4: missing" in missing.stderr
    assert "--no-refine" in missing.stderr
    got = rows(label("grounding", path, "--horizon", "1", "--no-refine"))
    assert [r["verb"] for r in got] == [None, "Mine", "Mine", None]
    assert got[1]["label"] == "dirt" and got[1]["point"] == [500, 500]
    assert got[2]["text"].startswith("Grounding: Mine <|object_ref_start|>dirt<|object_ref_end|>")
    assert label("text", tmp_path / "g.jsonl", "--no-refine").exit_code == 2


def test_out_file(recording, tmp_path):
    out = tmp_path / "labels.jsonl"
    assert label("text", recording, "--out", out).exit_code == 0
    assert len(out.read_text().splitlines()) == 3


def test_bad_input_one_line_exit_2_nothing_written(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(vpt_line()) + "\n{oops\n")
    out = tmp_path / "labels.jsonl"
    result = label("env", path, "--out", out)
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "bad.jsonl:2" in result.stderr
    assert not out.exists() and not list(tmp_path.glob("labels*"))


def test_a_broken_video_fails_only_the_spaces_that_read_frames(tmp_path):
    path = write_vpt(tmp_path / "v.jsonl", [vpt_line(), vpt_line(buttons=[0]), vpt_line()])
    path.with_suffix(".mp4").write_bytes(b"not a video")
    text = label("text", path)
    assert text.exit_code == 0 and len(rows(text)) == 3
    assert "v.mp4: unreadable video" in text.stderr and "from the actions alone" in text.stderr
    grounding = label("grounding", path)
    assert grounding.exit_code == 2 and "v.mp4: unreadable video" in grounding.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (("fly",), "unknown labeler 'fly'"),
        (("text", "--mode", "long"), "--mode: Input should be 'compact' or 'reserved'"),
        (("motion", "--bins", "21"), "--bins is not an option of the motion labeler"),
    ],
)
def test_bad_arguments(recording, args, message):
    result = label(args[0], recording, *args[1:])
    assert result.exit_code == 2 and message in result.stderr


def test_minestudio_folder(rollouts):
    out = rows(label("text", rollouts[0]))
    steps = sum(1 for line in (rollouts[0] / "action.jsonl").open() if line.strip())
    assert len(out) == steps - 1


def test_help_on_every_command():
    for command in app.registered_commands:
        result = runner.invoke(app, [command.name or command.callback.__name__, "--help"])
        assert result.exit_code == 0 and "Usage" in result.stdout


def test_build_in_a_log_prints_plain_progress_lines_and_a_summary(tmp_path):
    from curate.world.record import synthesize

    synthesize(tmp_path / "raw", episodes=2, seconds=1, seed=0)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        "name: t\nversion: 0.1.0\nsources: [{format: vpt, path: raw}]\nvalidation: 0.5\n"
    )
    result = runner.invoke(app, ["build", str(recipe), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert "building episodes: 0/2" in lines
    done = next(line for line in lines if line.startswith("building episodes: 2/2 ("))
    assert re.search(r"[\d.]+ episodes/s, [\d,]+ ticks/s, [\d,]+ frames/s\)$", done), done
    assert "hashing recordings of source 0: 2" in lines  # where a stage without a total ended
    summary = next(line for line in lines if line.startswith("built "))
    assert re.match(r"built \S+ in [\d.]+ s: ", summary)
    assert "episodes 1 train, 1 validation (50% of them, asked 50%)" in summary
    assert "episodes built at" in summary and "frames/s" in summary
    # rates are for the person watching, never in the release
    release = (tmp_path / "out" / "meta" / "release.json").read_text()
    assert "frames/s" not in release and "seconds" not in release


def test_a_ray_build_never_falls_back_to_local(tmp_path):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("name: t\nversion: 0.1.0\nsources: [{format: synth, seconds: 1}]\n")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]  # nothing listens there once the socket is closed
    out = tmp_path / "out"
    result = runner.invoke(app, ["build", str(recipe), "--out", str(out), "--executor", "ray",
                                 "--address", f"127.0.0.1:{closed}"])  # fmt: skip
    assert result.exit_code == 2
    assert "cannot reach a Ray cluster" in result.stderr and "never falls back" in result.stderr
    assert not out.exists()


def test_an_interrupted_build_says_how_to_resume(tmp_path, monkeypatch):
    import curate.release.build as build_module

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(build_module, "build", interrupt)
    (tmp_path / "r.yaml").write_text("name: t\n")
    result = runner.invoke(app, ["build", str(tmp_path / "r.yaml")])
    assert result.exit_code == 130 and "run the same command again to resume" in result.stderr


def test_synth_plays_the_tasks_it_is_given(tmp_path):
    result = runner.invoke(app, ["synth", str(tmp_path), "--episodes", "1", "--seconds", "4",
                                 "--tasks", "craft_item:oak_planks"])  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in next(tmp_path.glob("*.jsonl")).read_text().splitlines()]
    assert any(line["isGuiOpen"] for line in lines)
    assert lines[-1]["stats"]["minecraft.craft_item:minecraft.oak_planks"] == 4
    bad = runner.invoke(app, ["synth", str(tmp_path), "--tasks", "fly:away"])
    assert bad.exit_code == 2 and "unknown task 'fly:away'" in bad.stderr


def test_training_commands_say_which_extra_they_need(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "torch" else real(name, *a))  # fmt: skip
    for args in (["train", str(tmp_path), "--config", "text_action"], ["validate", str(tmp_path)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2 and "pip install 'curate[train]'" in result.stderr
