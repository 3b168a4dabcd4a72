"""A release's SFT rows in the shape of OpenHA's released datasets, for OpenHA's own training
scripts: their SFT recipe reads `conversations` and opens each frame of `image` by its path.

`curate export openha RELEASE OUT` writes, per SFT config of the release, the splits `train`
and `valid` (OpenHA's name for validation) under `OUT/data/<config>/<split>/`, the frames once
each under `OUT/images/` (named by their content, so a frame that several rows show is stored
once), and a card that documents every field. The conversations are curate's: the prompt begins
the first user text, as OpenHA's rows have it. With `openha_strings`, the answers follow
OpenHA's string conventions where curate's differ (ACTION_SPACES.md section 7): every line ends
with a space, so Chain-of-Action lines are joined by ` \\n, `.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from datasets import Features, List, Value
from PIL import Image

from curate.exports import ExportError
from curate.formats.chat import PART, conversation, parquet_options
from curate.formats.sft import ROWS_PER_WRITE
from curate.release.meta import SPLITS, ReleaseMeta

SPLIT_NAMES = {"train": "train", "validation": "valid"}  # curate's split -> OpenHA's
# a folder a split: OpenHA's SFT recipe reads every file of the folder it is given
DATA_PATH = "data/{config}/{split}/data-00000-of-00001.parquet"
FEATURES = Features(
    {
        "id": Value("string"),
        "label": Value("string"),
        "image": List({"image_path": Value("string"), "resolution": List(Value("int32"))}),
        "image_bytes": List(Value("binary")),
        "conversations": List({"role": Value("string"), "content": List(PART)}),
    }
)
WRITE_OPTIONS = parquet_options(FEATURES.arrow_schema, "image_bytes.list.element")
FIELDS = {
    "id": "`<episode id>-<tick>`: the episode and the tick of the row's answer",
    "label": "the answer the row trains: its last assistant turn, as in `conversations`",
    "image": "the row's frames, oldest first: `image_path` (relative to the export's folder) "
    "and `resolution` ([width, height])",
    "image_bytes": "the same frames as JPEG bytes, for trainers that do not read files",
    "conversations": "the turns: `role` (user, assistant) and `content` parts (`type` text or "
    "image, `text`); the prompt and the task begin the first user text, each image part "
    "stands for the next frame of `image`",
}


def export_openha(
    release: Path, out: Path, openha_strings: bool = False, image_root: str = ""
) -> dict[str, dict]:
    """Write the export of `release` into `out`; returns config -> OpenHA split -> rows.
    `image_root` prefixes every `image_path` (OpenHA's scripts open it from where they run)."""
    try:
        meta = ReleaseMeta.read(release)
    except (OSError, ValueError) as exc:
        raise ExportError(str(exc)) from None
    configs = [c for c in meta.counts if c != "ticks"]
    if not configs:
        raise ExportError(f"{release.name} has no SFT config to export (only `ticks`)")
    counts: dict[str, dict] = {}
    for config in configs:
        counts[config] = {}
        for split in SPLITS:
            shards = sorted((release / "data" / config).glob(f"{split}-*.parquet"))
            if not shards:
                continue
            name = SPLIT_NAMES[split]
            path = out / DATA_PATH.format(config=config, split=name)
            path.parent.mkdir(parents=True, exist_ok=True)
            rows = 0
            with pq.ParquetWriter(path, FEATURES.arrow_schema, **WRITE_OPTIONS) as writer:
                for batch in _batches(shards):
                    records = [_row(r, out, openha_strings, image_root) for r in batch]
                    writer.write_table(pa.Table.from_pylist(records, schema=FEATURES.arrow_schema))
                    rows += len(records)
            counts[config][name] = rows
    (out / "README.md").write_text(card(meta, counts, openha_strings))
    return counts


def _batches(shards: list[Path]) -> Iterator[list[dict]]:
    for shard in shards:
        for batch in pq.ParquetFile(shard).iter_batches(batch_size=ROWS_PER_WRITE):
            yield batch.to_pylist()


def _row(row: dict, out: Path, openha_strings: bool, image_root: str) -> dict:
    said = conversation(row)
    if openha_strings:
        said = [
            {**m, "content": [{**p, "text": openha_text(p["text"])} for p in m["content"]]}
            if m["role"] == "assistant" else m
            for m in said
        ]  # fmt: skip
    frames = [image["bytes"] for image in row["images"]]
    return {
        "id": f"{row['episode_id']}-{row['tick']}",
        "label": said[-1]["content"][0]["text"],
        "image": [_stored(jpeg, out, image_root) for jpeg in frames],
        "image_bytes": frames,
        "conversations": said,
    }


def openha_text(answer: str) -> str:
    """An answer in OpenHA's strings: each line ends with a space (`Motion: x \\n, Action: y `)."""
    return "\n, ".join(f"{line} " for line in answer.split("\n, "))


def _stored(jpeg: bytes, out: Path, image_root: str) -> dict:
    """A frame's entry in `image`, the frame written once under `out/images/`."""
    rel = f"images/{hashlib.sha256(jpeg).hexdigest()[:20]}.jpg"
    if not (out / rel).exists():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(jpeg)
    path = f"{image_root.rstrip('/')}/{rel}" if image_root else rel
    with Image.open(io.BytesIO(jpeg)) as image:
        return {"image_path": path, "resolution": list(image.size)}


def card(meta: ReleaseMeta, counts: dict[str, dict], openha_strings: bool) -> str:
    """The export's README.md: the configs `datasets` loads, and what every field holds."""
    front = {
        "configs": [
            {"config_name": config,
             "data_files": [{"split": s, "path": DATA_PATH.format(config=config, split=s)}
                            for s in splits]}
            for config, splits in counts.items()
        ],
    }  # fmt: skip
    strings = (
        "OpenHA's string conventions (every answer line ends with a space; OpenHA's chat "
        "template strips each message, so the last one's does not reach training)"
        if openha_strings
        else "curate's strings (no trailing space; Chain-of-Action lines joined by `\\n, `)"
    )
    return "\n".join([
        "---", yaml.safe_dump(front, sort_keys=False).rstrip(), "---", "",
        f"# {meta.name} v{meta.version}, in OpenHA's row format", "",
        f"The SFT rows of release {meta.name} v{meta.version} (content hash "
        f"`{meta.content_hash}`), exported by curate for OpenHA's training scripts, with "
        f"{strings}.", "",
        "| config | train | valid |", "| --- | --- | --- |",
        *(f"| `{c}` | {s.get('train', 0)} | {s.get('valid', 0)} |" for c, s in counts.items()),
        "", "| field | what it holds |", "| --- | --- |",
        *(f"| `{name}` | {what} |" for name, what in FIELDS.items()),
        "",
    ])  # fmt: skip
