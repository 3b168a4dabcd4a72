"""SFT rows in TRL's vision chat format: `messages` (or `prompt` and `completion`) with
text/image parts, `images` as JPEG.

A row is one kept tick (every `stride`-th tick, its action aggregated over the stride). With
history h, the row shows the h kept ticks before it as earlier turns, whose assistant turns keep
only their `Action:` part (ACTION_SPACES.md section 7; the single abstract forms, motion_action and
grounding_action, keep their own line); the last assistant turn is the target.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from datasets import Features, Image, List, Value

from curate.formats import MIXTURE_FORMS
from curate.formats.prompts import first_user_text

PART = {"type": Value("string"), "text": Value("string")}
MESSAGE = {"role": Value("string"), "content": List(PART)}
# How a row holds its conversation (the recipe's `layout`): one `messages` list, TRL's language
# modelling form; or `prompt` (history included) and `completion` (the answer), TRL's
# prompt-completion form, whose completion-only loss trains the answer alone.
LAYOUTS = {"messages": ("messages",), "prompt_completion": ("prompt", "completion")}
CONVERSATION = ("messages", "prompt", "completion")  # the columns of either layout


def features(layout: str = "messages") -> Features:
    """The columns of an SFT config's rows in `layout`."""
    return Features(
        {
            "episode_id": Value("string"),
            "tick": Value("int32"),
            "source": Value("string"),
            "instruction": Value("string"),
            **{column: List(MESSAGE) for column in LAYOUTS[layout]},
            "images": List(Image()),
        }
    )


def schema(layout: str = "messages") -> pa.Schema:
    return features(layout).arrow_schema


def conversation(row: Mapping) -> list[dict]:
    """A row's whole conversation, whichever its layout."""
    return row["messages"] if "messages" in row else [*row["prompt"], *row["completion"]]


def _parquet_columns(schema: pa.Schema) -> list[str]:
    """The parquet column paths of a schema (a nested field is `images.list.element.bytes`)."""
    buffer = io.BytesIO()
    pq.write_table(schema.empty_table(), buffer)
    written = pq.ParquetFile(buffer).schema
    return [written.column(i).path for i in range(len(written))]


ROW_GROUP = 100  # rows a parquet row group holds: image rows are large


def write_options(layout: str = "messages") -> dict:
    """How chat rows are written to parquet (`parquet_options`)."""
    return parquet_options(schema(layout), "images.list.element.bytes")


def parquet_options(written: pa.Schema, image_bytes: str) -> dict:
    """Parquet options for rows with JPEG bytes in the column `image_bytes`: zstd for the text;
    the JPEG bytes as they are (already entropy-coded: zstd saves under 1% on real Minecraft
    frames for as much CPU as encoding them) and without dictionary or min/max statistics
    (hashing 60 KB blobs for nothing)."""
    text = [c for c in _parquet_columns(written) if c != image_bytes]
    return {
        "compression": dict.fromkeys(text, "zstd") | {image_bytes: "none"},
        "use_dictionary": text,
        "write_statistics": text,
    }


@dataclass(frozen=True)
class Turn:
    """What a kept tick contributes: its labels in every form, by name."""

    tick: int
    action: str | None
    motion: str | None
    grounding: str | None
    instruction: str | None


def target(form: str, turn: Turn) -> str:
    """The assistant text of `form` for one kept tick (CoA: abstract line, `\\n, `, action)."""
    parts = {
        "text_action": [turn.action],
        "motion_action": [turn.motion],
        "grounding_action": [turn.grounding],
        "motion_coa": [turn.motion, turn.action],
        "grounding_coa": [turn.grounding, turn.action],
    }[form]
    known = [p for p in parts if p is not None]
    if len(known) < len(parts):
        raise ValueError(f"{form} needs labels this build did not make")
    return "\n, ".join(known)


def history_text(form: str, turn: Turn) -> str:
    """An earlier assistant turn: its `Action:` part (section 7), except in the single abstract
    forms, whose answers have no `Action:` part and whose history speaks their own language."""
    own = (form == "motion_action" and turn.motion is not None) or (
        form == "grounding_action" and turn.grounding is not None
    )  # a tick without grounding speaks as its action
    return target(form if own else "text_action", turn)


def _text(text: str) -> dict:
    return {"type": "text", "text": text}


def _image() -> dict:
    return {"type": "image", "text": None}


def prompt(
    form: str,
    history: Sequence[Turn],
    instruction: str | None,
    stride: int = 1,
    own: Mapping[str, str] | None = None,
) -> list[dict]:
    """The messages before a row's answer: the form's prompt (the recipe's `own` where it has
    one) with the task and the first frame, then per earlier turn its answer (section 7) and the
    next frame."""
    first = first_user_text(form, instruction, stride, own)
    out = [{"role": "user", "content": [_text(first), _image()]}]
    for turn in history:
        out.append({"role": "assistant", "content": [_text(history_text(form, turn))]})
        out.append({"role": "user", "content": [_image()]})
    return out


def messages(
    form: str, turns: Sequence[Turn], stride: int = 1, own: Mapping[str, str] | None = None
) -> list[dict]:
    """The conversation of one row: `turns[:-1]` are history, `turns[-1]` the target tick; each
    turn stands for `stride` ticks."""
    *history, last = turns
    answer = {"role": "assistant", "content": [_text(target(form, last))]}
    return [*prompt(form, history, last.instruction, stride, own), answer]


def chat_table(
    config: str,
    turns: Sequence[Turn],
    rows: Sequence[int],
    jpeg: Mapping[int, bytes],
    *,
    episode_id: str,
    source: str,
    history: int,
    stride: int = 1,
    forms: Sequence[str] | None = None,
    layout: str = "messages",
    prompts: Mapping[str, str] | None = None,
) -> pa.Table:
    """The rows of one SFT config for one episode.

    `rows` index into `turns` (the kept ticks that survived filtering); `forms` gives each row's
    form for the All-in-One mixture, else every row uses `config`.
    """
    records = []
    for n, i in enumerate(rows):
        window = turns[max(0, i - history) : i + 1]
        form = forms[n] if forms is not None else config
        said = messages(form, window, stride, prompts)
        records.append(
            {
                "episode_id": episode_id,
                "tick": turns[i].tick,
                "source": source,
                "instruction": turns[i].instruction,
                **(
                    {"messages": said}
                    if layout == "messages"
                    else {"prompt": said[:-1], "completion": said[-1:]}
                ),  # fmt: skip
                "images": [{"bytes": jpeg[t.tick], "path": None} for t in window],
            }
        )
    return pa.Table.from_pylist(records, schema=schema(layout))


def mixture_forms(
    n: int,
    weights: Mapping[str, float],
    rng: np.random.Generator,
    grounded: Sequence[bool] | None = None,
) -> list[str]:
    """The form of each All-in-One row, drawn by the recipe's weights. A row drawn as
    grounding_coa whose tick has no grounding (`grounded`) draws again among the other forms."""
    forms = [f for f in MIXTURE_FORMS if weights.get(f, 0) > 0]
    p = np.array([weights[f] for f in forms], np.float64)
    drawn = [forms[i] for i in rng.choice(len(forms), size=n, p=p / p.sum())]
    others = [f for f in forms if f != "grounding_coa"]
    if grounded is None or len(others) == len(forms):
        return drawn
    q = np.array([weights[f] for f in others], np.float64)
    again = rng.choice(len(others), size=n, p=q / q.sum())  # one per row: seeded, content-free
    return [others[a] if f == "grounding_coa" and not g else f
            for f, g, a in zip(drawn, grounded, again, strict=True)]  # fmt: skip
