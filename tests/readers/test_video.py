"""Frames of a recording: count checks, trimming, pairing of frame i with line i, other rates."""

from __future__ import annotations

import numpy as np
import pytest

from curate.readers import RecordingError
from curate.readers.video import iter_frames, probe, read_frames
from curate.readers.vpt import read_vpt
from curate.testing import vpt_line, write_video, write_vpt


def recording(tmp_path, n_lines: int, n_frames: int, fps: int = 20):
    write_video(tmp_path / "rec.mp4", n_frames, fps=fps, size=(64, 36))
    lines = [vpt_line(dx=float(i)) for i in range(n_lines)]  # line i turns by i units
    return write_vpt(tmp_path / "rec.jsonl", lines)


def level(image: np.ndarray) -> int:
    return round(float(image.mean()) / 8)


def test_frame_i_pairs_with_line_i(tmp_path):
    episode = read_vpt(recording(tmp_path, 12, 12))
    assert episode.frames.count == len(episode) == 12 and not episode.warnings
    frames = list(iter_frames(episode.frames))
    yaws = episode.ticks.column("camera_yaw").to_pylist()
    for tick, image in enumerate(frames):
        assert level(image) == tick  # frame i ...
        assert yaws[tick] == pytest.approx(tick * 0.15)  # ... goes with line i


def test_selected_ticks_only(tmp_path):
    episode = read_vpt(recording(tmp_path, 12, 12))
    assert [level(f) for f in iter_frames(episode.frames, [9, 2, 5])] == [2, 5, 9]


@pytest.mark.parametrize("n_frames", [10, 11, 13, 14])
def test_small_differences_are_trimmed_from_the_end(tmp_path, n_frames):
    episode = read_vpt(recording(tmp_path, 12, n_frames))
    assert len(episode) == episode.frames.count == min(12, n_frames)
    assert len(episode.warnings) == 1 and "trimmed" in episode.warnings[0]


@pytest.mark.parametrize("n_frames", [9, 15])
def test_large_differences_quarantine(tmp_path, n_frames):
    with pytest.raises(RecordingError, match="cannot be paired"):
        read_vpt(recording(tmp_path, 12, n_frames))


def test_the_video_is_checked_for_action_only_labelling_too(tmp_path):
    # the ticks of an episode do not depend on whether its frames are wanted
    from typer.testing import CliRunner

    from curate.cli import app

    result = CliRunner().invoke(app, ["label", "env", str(recording(tmp_path, 12, 30))])
    assert result.exit_code == 2 and "cannot be paired" in result.stderr


def test_video_at_another_rate_maps_by_time(tmp_path):
    # 30 fps video, 20 Hz actions: tick t shows the frame on screen at t / 20 s.
    episode = read_vpt(recording(tmp_path, 20, 30, fps=30))
    assert len(episode) == 20
    got = [level(f) for f in iter_frames(episode.frames)]
    assert got == [int(t * 1.5) for t in range(20)]


def test_real_gameplay_video_decodes(real):
    video = real / "CraftJarvis__MineStudio" / "build_pillar_0.mp4"
    assert probe(video) == (600, 30.0)


def test_unreadable_video(tmp_path):
    (tmp_path / "rec.mp4").write_bytes(b"not a video")
    write_vpt(tmp_path / "rec.jsonl", [vpt_line()])
    with pytest.raises(RecordingError, match="unreadable video"):
        read_vpt(tmp_path / "rec.jsonl")


class Keep:
    """A frame reader that keeps the grey level of the ticks it asks for."""

    def __init__(self, ticks):
        self.ticks, self.seen = ticks, {}

    def take(self, tick, frame):
        self.seen[tick] = level(frame)


def test_frames_are_decoded_once_and_shared_by_their_readers(tmp_path, monkeypatch):
    import curate.readers.video as video

    episode = read_vpt(recording(tmp_path, 12, 12))
    calls = []
    real = video._pictures
    monkeypatch.setattr(
        video, "_pictures", lambda ref, ticks: calls.append(ticks) or real(ref, ticks)
    )
    a, b = Keep([0, 3, 5]), Keep([3, 7])
    read_frames(episode.frames, [a, b])
    assert calls == [[0, 3, 5, 7]]
    assert a.seen == {0: 0, 3: 3, 5: 5} and b.seen == {3: 3, 7: 7}


@pytest.mark.parametrize(
    ("x264", "wanted"),
    [
        ("keyint=100:scenecut=0", [0, 3, 4, 250, 251, 480, 699]),
        ("keyint=1000:scenecut=0", [5, 210, 211, 650]),  # the key frame before 210 is frame 0
        ("keyint=250:scenecut=0", [240, 460, 699]),  # ... before 460 is 250: given already
    ],
)
def test_a_sample_of_a_long_video_seeks_and_gets_the_same_frames(tmp_path, x264, wanted):
    """Wanted frames far apart are sought, not decoded in between where a key frame allows,
    and are the frames a full decode gives, each once (frame i: red 8 * i, green 8 * (i // 32),
    so any slip shows)."""
    import av

    from curate.episode import FrameRef
    from curate.readers import video

    path = tmp_path / "long.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=20, options={"x264-params": x264})
        stream.width, stream.height, stream.pix_fmt = 64, 36, "yuv420p"
        for i in range(700):
            image = np.zeros((36, 64, 3), np.uint8)
            image[..., 0], image[..., 1] = (8 * i) % 256, (8 * (i // 32)) % 256
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())
    ref = FrameRef("mp4", path, 700)
    everything = list(iter_frames(ref))
    sampled = list(iter_frames(ref, wanted))
    assert len(sampled) == len(wanted)
    assert all(np.array_equal(a, everything[t]) for a, t in zip(sampled, wanted, strict=True))
    with av.open(str(path)) as container:
        seen = [i for i, _ in video._decoded(path, container, wanted, 20.0)]
    assert seen == sorted(set(seen)) and seen[-1] == wanted[-1]  # in order, each once
    if x264.startswith("keyint=100:"):
        assert seen[:5] == [0, 1, 2, 3, 4] and len(seen) < 400  # sought over the gaps
