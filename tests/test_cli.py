"""The public `curate label` contract: JSON lines per tick; bad input is one line, exit 2."""

from __future__ import annotations

import json

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
    assert [r["text"] for r in rows(label("text", recording))] == [
        "Action: move(20, 0) and press(w)",
        "Action: no_op",
        "Action: press(3) and click(left)",
    ]
    assert rows(label("text", recording, "--mode", "reserved"))[1]["text"] == (
        "Action: move(0, 0) and press()"
    )


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


@pytest.mark.parametrize("args", [("fly", "x.jsonl"), ("text", "x.jsonl", "--mode", "long")])
def test_bad_arguments(recording, args):
    result = label(args[0], recording, *args[2:])
    assert result.exit_code == 2 and "error" in result.stderr


def test_minestudio_folder(rollouts):
    out = rows(label("text", rollouts[0]))
    steps = sum(1 for line in (rollouts[0] / "action.jsonl").open() if line.strip())
    assert len(out) == steps - 1


def test_help_on_every_command():
    for command in app.registered_commands:
        result = runner.invoke(app, [command.name or command.callback.__name__, "--help"])
        assert result.exit_code == 0 and "Usage" in result.stdout
