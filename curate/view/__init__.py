"""`curate view`: one recording as a page that plays its frames with every label drawn on them.

Whether a label is right is obvious on the frame it belongs to and invisible in a parquet column.
The page is one HTML file, its script and style inline, that works opened from disk with no
server and no network. Its frames are one H.264 video at one frame a tick (tick i is frame i,
whatever the source's rate: the frames are the ones the labelers saw), embedded in the page, or,
when too large to embed, a file beside it that the page plays by name (a `<video>` element may
read a neighbouring file where `fetch()` may not).

Labels come from curate's labelers, run as a build runs them (the MineStudio GUI flag follows the
frames), or, with a release, from that release's `ticks` rows of the episode, so that what is seen
is what was published, with the release's notes on the recording and its label-QA values.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import version as package_version
from pathlib import Path
from urllib.parse import quote

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from curate.contract import BINARY_ACTIONS, FPS, FRAME_HEIGHT, FRAME_WIDTH
from curate.episode import Episode, FrameReader, as_frame
from curate.formats.video import H264
from curate.labelers import BUILTIN, labeler_class
from curate.qa import CHECKS, QA_PATH, over, rule
from curate.qa.checks import Value, episode_qa, runs, spans
from curate.qa.frames import frame_sample
from curate.readers import read_episode
from curate.readers.video import iter_frames, read_frames
from curate.release.meta import META_PATH, ReleaseMeta
from curate.release.progress import Counter, Reporter
from curate.release.recipe import Qa
from curate.release.step import gui_as_drawn, joined
from curate.sources import recording_files, recording_sha256

PAGE = Path(__file__).with_name("page.html")
# A key frame a second, so a seek decodes at most 19 frames; no B-frames, so every frame is
# shown in the order it is stored.
X264 = {"preset": "veryfast", "crf": "23", "g": str(FPS), "bf": "0"}
EMBED_MAX_BYTES = 16 * 2**20  # a larger video goes beside the page, as <page>.view.mp4
VIDEO_SUFFIX = ".view.mp4"  # a name of its own: never a recording's video
# JSON inside a script element: no `<` may start a tag or a comment, whatever the data says.
SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})
# The tick columns the page shows, where the labels have them.
COLUMNS = (
    *BINARY_ACTIONS, "camera_pitch", "camera_yaw", "null", "gui_open", "cursor_x", "cursor_y",
    "hotbar", "events", "vpt_buttons", "vpt_camera", "text_action", "motion_text",
    "instruction_text", "instruction_event", "grounding_text", "grounding_verb", "grounding_label",
    "grounding_point",
)  # fmt: skip


class ViewError(ValueError):
    """A recording or release the viewer cannot show; the message says what to do instead."""


@dataclass
class Labels:
    """An episode's labels, one row per tick, and what is known about them."""

    table: pl.DataFrame  # the `ticks` config's columns
    qa: dict[str, Value]  # each check's value (`curate.qa.CHECKS`)
    thresholds: Mapping[str, float | None]
    origin: str  # where the labels come from, in words
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Viewed:
    page: Path
    video: Path | None  # beside the page, when it was too large to embed
    ticks: int
    origin: str


def view(
    source: Path, out: Path, release: Path | None = None, report: Reporter | None = None
) -> Viewed:
    """Write the page of the recording `source` to `out` (and its video beside it, if large)."""
    episode = read_episode(source)  # a RecordingError names the file and what to fix
    if episode.frames is None:
        raise ViewError(f"{source}: no video beside it; the viewer plays the frames the labels "
                        f"belong to (`curate label` labels a recording without them)")  # fmt: skip
    video = out.with_name(out.stem + VIDEO_SUFFIX)
    fmt = "minestudio" if source.is_dir() else "vpt"
    recording = source if source.is_dir() else source.with_suffix(".jsonl")
    files = recording_files(fmt, recording)
    if any(f.resolve() in (out.resolve(), video.resolve()) for f in files):
        raise ViewError(f"{out}: the page or its video would overwrite the recording; write the "
                        f"page elsewhere with --out")  # fmt: skip
    labels, left_out = _from_release(episode, recording, files, release) if release else (None, "")
    first = next(iter_frames(episode.frames, [0]))
    size = (first.shape[1] // 2 * 2, first.shape[0] // 2 * 2)  # H.264's 4:2:0 wants even sides
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = video.with_name(video.name + ".partial")
    counter = Counter(report, "frames", len(episode), lazy=True)
    try:
        with Frames(partial, size, len(episode), counter) as frames:
            if labels is None:
                labels = _labelled(episode, frames)
            else:
                frames.read(episode)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    if left_out:
        labels.notes.insert(0, left_out)
    beside = None
    if partial.stat().st_size <= EMBED_MAX_BYTES:
        src = "data:video/mp4;base64," + base64.b64encode(partial.read_bytes()).decode()
        partial.unlink()
    else:
        beside = partial.replace(video)
        src = html.escape(quote(video.name))
    data = json.dumps(page_data(episode, labels, size), separators=(",", ":"))
    fields = {
        "TITLE": html.escape(f"{episode.episode_id} · curate view"),
        "DATA": data.translate(SCRIPT_SAFE),
        "VIDEO": src,
    }
    page = re.sub(r"\{\{(\w+)\}\}", lambda m: fields[m[1]], PAGE.read_text(encoding="utf-8"))
    written = out.with_name(out.name + ".partial")
    written.write_text(page, encoding="utf-8")
    written.replace(out)
    return Viewed(out, beside, len(episode), labels.origin)


class Frames(H264):
    """A `FrameReader` of every tick that encodes each frame as it comes."""

    def __init__(self, path: Path, size: tuple[int, int], count: int, counter: Counter) -> None:
        super().__init__(path, size, FPS, X264)
        self.ticks = range(count)
        self.counter = counter

    def take(self, tick: int, frame: np.ndarray) -> None:
        self.write(frame[: self.size[1], : self.size[0]])
        if tick % FPS == FPS - 1 or tick == len(self.ticks) - 1:
            self.counter.set(tick + 1)

    def read(self, episode: Episode, *others: FrameReader) -> None:
        """Decode the episode's frames once, for this and the other readers."""
        assert episode.frames is not None
        read_frames(episode.frames, [self, *others])


def _labelled(episode: Episode, frames: Frames) -> Labels:
    """Labels by curate's labelers with their default parameters, as a build makes them."""
    notes = list(episode.warnings)
    drawn_lag = None
    if episode.source == "minestudio":
        assert episode.frames is not None
        episode, drawn_lag, note = gui_as_drawn(episode, episode.frames)
        notes += [note] if note else []
    labelers = [labeler_class(space)() for space in BUILTIN]
    own = {lab.space: lab.label(episode) for lab in labelers if not lab.needs_frames}
    readers = {lab.space: lab.frame_reader(episode) for lab in labelers if lab.needs_frames}
    assert episode.frames is not None
    sample = frame_sample(episode.ticks) if episode.frames.per_tick else None
    frames.read(episode, *(r for r in readers.values() if r is not None), *filter(None, [sample]))
    for lab in labelers:
        if lab.needs_frames:
            own[lab.space] = lab.label(episode, readers[lab.space])
    qa = episode_qa(episode.ticks, sample)
    if drawn_lag is not None:
        qa["gui_lag"] = drawn_lag
    origin = f"curate {package_version('curate')}'s labelers, default parameters"
    return Labels(joined(episode, own), qa, Qa().model_dump(), origin, notes)


def _from_release(
    episode: Episode, recording: Path, files: list[Path], folder: Path
) -> tuple[Labels | None, str]:
    """The release's labels of the episode, with its notes on the recording and its QA; or, for a
    recording it left out, None and why. The recording must be the very one the release was
    built from: the frames shown must be those labelled."""
    path = folder / META_PATH
    if not path.is_file():
        raise ViewError(f"{folder}: not a release (no {META_PATH}); give a folder that "
                        f"curate build wrote")  # fmt: skip
    meta = ReleaseMeta.model_validate_json(path.read_text())
    release = f"release {meta.name} {meta.version}"
    named = [i for i in meta.inputs if Path(i.name).name == recording.name]
    if not named:
        raise ViewError(f"{recording}: not a recording of {release} (none of its "
                        f"{len(meta.inputs)} inputs is named {recording.name})")  # fmt: skip
    sha = recording_sha256(files)
    same = [i.name for i in named if i.sha256 == sha]
    if not same:
        raise ViewError(f"{recording}: not the recording {named[0].name} that {release} was built "
                        f"from (its files differ), so its frames would not match the published "
                        f"labels; view it without --release")  # fmt: skip
    for left in [*meta.quarantine, *meta.filtered]:
        if left.name == same[0]:
            how = "filtered out of" if left.code == "filtered" else "quarantined by"
            return None, f"{how} {release}: {left.reason} (the labels shown are curate's labelers')"
    shards = sorted(f for f in meta.files if f.startswith("data/ticks/"))
    if not shards:
        raise ViewError(f"{folder}: its recipe does not build the `ticks` config, so its "
                        f"labels per tick are not published; view {recording} without "
                        f"--release")  # fmt: skip
    table = pq.read_table([folder / f for f in shards],
                          filters=[("episode_id", "==", episode.episode_id)])  # fmt: skip
    if table.num_rows != len(episode):
        raise ViewError(f"{folder}: {table.num_rows} ticks rows for {episode.episode_id}, but "
                        f"{recording} has {len(episode)} ticks; rebuild the release")  # fmt: skip
    qa_path = folder / QA_PATH
    report = json.loads(qa_path.read_text()) if qa_path.exists() else {"checks": {}}
    values = {c: r["values"].get(episode.episode_id) for c, r in report["checks"].items()}
    thresholds = {c: r["threshold"] for c, r in report["checks"].items()}
    notes = [x.reason for x in meta.warnings if x.name == same[0]]
    labels = Labels(as_frame(table.sort_by("tick")), values, thresholds,
                    f"{release}, its ticks rows", notes)  # fmt: skip
    return labels, ""


def page_data(episode: Episode, labels: Labels, size: tuple[int, int]) -> dict:
    """What the page's script reads: the columns per tick, the timeline, QA and notes."""
    table = labels.table
    columns = {c: _column(table[c].to_list()) for c in COLUMNS if c in table.columns}
    ticks = table.select(c for c in episode.ticks.column_names if c in table.columns).to_arrow()
    qa = []
    for check, about in CHECKS.items():
        value, threshold = labels.qa.get(check), labels.thresholds.get(check)
        flagged = over(check, value, threshold)
        qa.append({"check": check, "about": about, "value": value, "flagged": flagged,
                   "rule": rule(check, threshold),
                   "spans": spans(check, ticks) if flagged else []})  # fmt: skip
    return {
        "episode": episode.episode_id,
        "origin": labels.origin,
        "notes": labels.notes,
        "fps": FPS,
        "ticks": table.height,
        "video": list(size),
        "frame": [FRAME_WIDTH, FRAME_HEIGHT],  # the coordinates of cursor and points
        "columns": columns,
        "timeline": {
            "gui": runs(table["gui_open"].to_numpy()),
            "grounding": _stretches(table),
        },
        "qa": qa,
    }


def _stretches(table: pl.DataFrame) -> list[tuple[int, int, str]]:
    """Runs of ticks grounded on one target, with its verb and label."""
    if "grounding_verb" not in table.columns:
        return []
    said = (table["grounding_verb"] + " " + table["grounding_label"]).to_list()
    found: list[tuple[int, int, str]] = []
    for tick, text in enumerate(said):
        if text is None:
            continue
        if found and found[-1][1] == tick - 1 and found[-1][2] == text:
            found[-1] = (found[-1][0], tick, text)
        else:
            found.append((tick, tick, text))
    return found


def _column(values: list) -> list | dict:
    """Numbers as a list; anything else as its distinct values and an index a tick, which keeps an
    hour of repeated strings small."""
    if all(v is None or isinstance(v, int | float) for v in values):
        return [round(v, 4) if isinstance(v, float) else v for v in values]
    keys: dict[str, int] = {}
    index = [keys.setdefault(json.dumps(v), len(keys)) for v in values]
    return {"values": [json.loads(k) for k in keys], "index": index}

