"""The recording is a VPT recording: fields, types, video, pairing, ground truth, determinism."""

from __future__ import annotations

import json
import math
from pathlib import Path

import av
import jsonschema
import numpy as np
import pytest

from curate.camera import FOCAL, camera_basis, project
from curate.contract import CAMERA_SCALE, KEY_TO_ACTION, QUALIFYING_FAMILIES
from curate.world.record import EPOCH_MS, RecordedEpisode, synthesize

SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "truth.schema.json"

LINE_FIELDS = {
    "mouse": dict,
    "keyboard": dict,
    "isGuiOpen": bool,
    "isGuiInventory": bool,
    "hotbar": int,
    "yaw": float,
    "pitch": float,
    "xpos": float,
    "ypos": float,
    "zpos": float,
    "tick": int,
    "milli": int,
    "inventory": list,
    "serverTick": int,
    "serverTickDurationMs": float,
    "stats": dict,
}
MOUSE_FIELDS = {
    "x": float,
    "y": float,
    "dx": float,
    "dy": float,
    "scaledX": float,
    "scaledY": float,
    "dwheel": float,
    "buttons": list,
    "newButtons": list,
}
KEYBOARD_FIELDS = {"keys": list, "newKeys": list, "chars": str}


def _fields(obj: dict, spec: dict) -> None:
    assert set(obj) == set(spec)
    for name, kind in spec.items():
        assert type(obj[name]) is kind, (name, obj[name])


def test_same_seed_same_bytes_and_other_seed_differs(tmp_path: Path) -> None:
    runs = {name: tmp_path / name for name in ("a", "b", "c")}
    for name, folder in runs.items():
        paths = synthesize(folder, episodes=1, seconds=3.0, seed=7 if name != "c" else 8)
        assert [p.name for p in paths] == [f"synth-{7 if name != 'c' else 8}-000.jsonl"]
    for suffix in (".mp4", ".jsonl", ".truth.json"):
        a = (runs["a"] / f"synth-7-000{suffix}").read_bytes()
        assert a == (runs["b"] / f"synth-7-000{suffix}").read_bytes(), suffix
        assert a != (runs["c"] / f"synth-8-000{suffix}").read_bytes(), suffix


def test_progress_counts_frames_over_all_episodes(tmp_path: Path) -> None:
    seen: list[int] = []
    synthesize(tmp_path, episodes=2, seconds=0.5, seed=1, progress=seen.append)
    assert seen == list(range(1, 21))


def test_every_line_has_every_vpt_field(lines: list[dict]) -> None:
    for i, line in enumerate(lines):
        _fields(line, LINE_FIELDS)
        _fields(line["mouse"], MOUSE_FIELDS)
        _fields(line["keyboard"], KEYBOARD_FIELDS)
        assert (line["mouse"]["x"], line["mouse"]["y"]) == (640.0, 360.0)
        assert set(line["keyboard"]["keys"]) <= set(KEY_TO_ACTION)
        assert set(line["keyboard"]["newKeys"]) <= set(line["keyboard"]["keys"])
        assert set(line["mouse"]["newButtons"]) <= set(line["mouse"]["buttons"]) <= {0, 1, 2}
        assert 0 <= line["hotbar"] <= 8
        assert line["tick"] == i and line["milli"] == EPOCH_MS + 50 * i
        assert all(type(v) is int and v > 0 for v in line["stats"].values())
        assert all(k.count("minecraft.") == 2 for k in line["stats"])
        assert line["stats"]["minecraft.custom:minecraft.play_time"] == i + 1
        assert all(set(item) == {"type", "quantity"} for item in line["inventory"])


def test_video_has_one_frame_per_line(recording: RecordedEpisode, lines: list[dict]) -> None:
    with av.open(str(recording.mp4)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.codec_context.width, stream.codec_context.height) == (640, 360)
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert stream.average_rate == 20
        assert sum(1 for _ in container.decode(stream)) == len(lines)


def test_pose_follows_camera_from_the_next_line(lines: list[dict]) -> None:
    """Line i's pose is frame i's, so line i's mouse delta shows up in line i+1's pose."""
    for now, after in zip(lines, lines[1:], strict=False):
        assert after["yaw"] == pytest.approx(now["yaw"] + now["mouse"]["dx"] * CAMERA_SCALE)
        assert after["pitch"] == pytest.approx(now["pitch"] + now["mouse"]["dy"] * CAMERA_SCALE)


def _turned(px: list[float], yaw: float, pitch: float, dyaw: float, dpitch: float) -> np.ndarray:
    """Where a pixel lands after the camera turns in place (pinhole, 70 degrees vertical FOV)."""
    fwd, right, up = camera_basis(yaw, pitch)
    ray = FOCAL * fwd + (px[0] - 320) * right - (px[1] - 180) * up
    return np.array(project(ray, np.zeros(3), yaw + dyaw, pitch + dpitch))


def test_target_pixel_moves_as_the_recorded_camera_says(lines: list[dict], truth: dict) -> None:
    ticks = truth["ticks"]
    kinds = {k: v["kind"] for k, v in truth["targets"].items()}
    same, shifted_early, moved = [], [], 0
    for i in range(1, len(lines) - 2):
        a, b = ticks[i], ticks[i + 1]
        now, nxt = lines[i], lines[i + 1]
        still = all(now[k] == nxt[k] for k in ("xpos", "ypos", "zpos"))
        if not (still and a["px"] and b["px"] and a["target"] == b["target"]):
            continue
        if kinds[a["target"]] != "block":
            continue  # mobs walk; blocks stay put
        camera = (now["mouse"]["dx"] * CAMERA_SCALE, now["mouse"]["dy"] * CAMERA_SCALE)
        predicted = _turned(a["px"], now["yaw"], now["pitch"], *camera)
        same.append(np.abs(predicted - b["px"]).max())
        wrong = (nxt["mouse"]["dx"] * CAMERA_SCALE, nxt["mouse"]["dy"] * CAMERA_SCALE)
        if wrong != camera:
            early = _turned(a["px"], now["yaw"], now["pitch"], *wrong)
            shifted_early.append(np.abs(early - b["px"]).max())
        moved += camera != (0.0, 0.0)
        if abs(camera[0]) >= 0.5:  # a turn the centroid's sampling (about a pixel) cannot hide
            # turning right (positive yaw) moves what is seen to the left
            assert math.copysign(1, b["px"][0] - a["px"][0]) == -math.copysign(1, camera[0])
    assert moved >= 10, "too few still ticks with a camera move to test the pairing"
    # the truth point is the centroid of what is seen of the target, sampled on the renderer's
    # half-resolution pixels: it turns with the camera up to that sampling
    print(f"median {np.median(same):.2f} px, 95th {np.percentile(same, 95):.2f} px")
    assert np.median(same) < 0.3 and np.percentile(same, 95) < 2.0
    assert np.median(shifted_early) > 1.0  # an off-by-one pairing would not fit


def _stat_events(lines: list[dict]) -> list[tuple[int, str]]:
    """Positive deltas of qualifying stats, tick 0 being the baseline (ACTION_SPACES.md 8)."""
    found = []
    for t in range(1, len(lines)):
        before, now = lines[t - 1]["stats"], lines[t]["stats"]
        for key, value in now.items():
            family, obj = (part.removeprefix("minecraft.") for part in key.split(":"))
            if family in QUALIFYING_FAMILIES and value > before.get(key, 0):
                found.append((t, f"{family}:{obj}"))
    return sorted(found)


def test_truth_events_are_the_stat_deltas(lines: list[dict], truth: dict) -> None:
    events = sorted((e["tick"], e["event"]) for e in truth["events"])
    assert events == _stat_events(lines)
    assert {"mine_block", "kill_entity", "pickup"} <= {e.split(":")[0] for _, e in events}


def test_every_tick_names_the_next_interactions_target(truth: dict) -> None:
    """The next event that is not a pickup (a drop is collected underfoot, unseen; grounding
    counts no pickup, ACTION_SPACES.md section 8)."""
    events = [e for e in truth["events"] if not e["event"].startswith("pickup:")]
    for row in truth["ticks"]:
        upcoming = [e for e in events if e["tick"] >= row["tick"]]
        assert row["target"] == (upcoming[0]["target"] if upcoming else None)
        if row["target"] is None:
            assert row["px"] is None
    assert sum(row["px"] is not None for row in truth["ticks"]) > len(truth["ticks"]) // 4
    for event in events:
        assert truth["ticks"][event["tick"]]["px"] is not None  # under the crosshair


def test_truth_follows_its_schema(truth: dict) -> None:
    schema = json.loads(SCHEMA.read_text())
    assert set(truth) == set(schema["required"])
    assert (truth["fps"], truth["width"], truth["height"], truth["fov_deg"]) == (20, 640, 360, 70)
    assert all(set(t) == {"kind", "type"} for t in truth["targets"].values())
    assert all(e["target"] in truth["targets"] for e in truth["events"])
    assert [row["tick"] for row in truth["ticks"]] == list(range(len(truth["ticks"])))
    for row in truth["ticks"]:
        assert set(row) == {"tick", "target", "px"}
        assert row["px"] is None or (0 <= row["px"][0] < 640 and 0 <= row["px"][1] < 360)
    jsonschema.validate(truth, schema)
