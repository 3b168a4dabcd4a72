"""A release's SFT rows as the reference model reads them: loaded with `datasets` exactly as a
user loads them, each turned once into token ids and small frames.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from PIL import Image

from curate.formats.chat import CONVERSATION, conversation
from curate.reference.tokenizer import ASSISTANT, BOS, EOS, IMAGE, PAD, USER, Tokenizer

if TYPE_CHECKING:
    from datasets import Dataset


@dataclass(frozen=True)
class Example:
    """One row: its prompt (everything before the target), its target, its frames."""

    episode_id: str
    prompt: list[int]  # ids up to and including the last `<assistant>`
    target: list[int]  # the answer's ids and `<eos>`
    frames: np.ndarray  # (n, H, W, 3) uint8, in reading order
    answer: str  # the reference answer as written in the release
    previous: str | None  # the last earlier assistant turn, when the row has history


def load_rows(
    release: Path, config: str, split: str, cache_dir: Path | None = None, images: bool = True
) -> Dataset:
    """The rows of one split, through `datasets.load_dataset` as a user loads them. Images stay
    JPEG bytes until `encode` makes each frame small, so memory holds no decoded frame; without
    `images`, only the messages are read."""
    from datasets import Image as ImageFeature
    from datasets import load_dataset

    from curate.release.verify import quiet_datasets

    with quiet_datasets():
        dataset = load_dataset(str(release.resolve()), name=config, split=split,
                               cache_dir=str(cache_dir) if cache_dir else None)  # fmt: skip
        if not images:
            said = [c for c in CONVERSATION if c in dataset.column_names]
            return dataset.select_columns(["episode_id", *said])
        return dataset.cast_column("images", [ImageFeature(decode=False)])


def fit_tokenizer(rows: Iterable[dict]) -> Tokenizer:
    """A tokenizer of the rows' answers and prompts."""
    said: dict[str, list[str]] = {"user": [], "assistant": []}
    for row in rows:
        for message in conversation(row):
            said[message["role"]] += [p["text"] for p in message["content"] if p["text"]]
    return Tokenizer.fit(said["assistant"], said["user"])


def encode(row: dict, tokenizer: Tokenizer, image_tokens: int, size: tuple[int, int]) -> Example:
    """A row as ids: each turn opens with its role, each frame is a run of `<image>`."""
    ids = [tokenizer.id(BOS)]
    *history, last = conversation(row)
    previous = None
    for message in history:
        ids.append(tokenizer.id(USER if message["role"] == "user" else ASSISTANT))
        for part in message["content"]:
            if part["type"] == "image":
                ids += [tokenizer.id(IMAGE)] * image_tokens
            else:
                ids += tokenizer.encode(part["text"], whole_lines=message["role"] == "user")
        if message["role"] == "assistant":
            ids.append(tokenizer.id(EOS))
            previous = message["content"][0]["text"]
    ids.append(tokenizer.id(ASSISTANT))
    answer = last["content"][0]["text"]
    frames = np.stack([_small(image["bytes"], size) for image in row["images"]])
    target = [*tokenizer.encode(answer), tokenizer.id(EOS)]
    return Example(row["episode_id"], ids, target, frames, answer, previous)


def _small(jpeg: bytes, size: tuple[int, int]) -> np.ndarray:
    with Image.open(io.BytesIO(jpeg)) as image:
        return np.asarray(image.convert("RGB").resize(size, Image.Resampling.BILINEAR))


@dataclass
class Batch:
    ids: torch.Tensor  # (B, T) long
    real: torch.Tensor  # (B, T) bool, False on padding
    images: torch.Tensor  # (N, 3, H, W) uint8
    labels: torch.Tensor  # (B, T) long: the next token where it is a target's, else -100

    def to(self, device: torch.device) -> Batch:
        return Batch(*(t.to(device) for t in (self.ids, self.real, self.images, self.labels)))


def collate(examples: Sequence[Example], tokenizer: Tokenizer, with_target: bool = True) -> Batch:
    """Right-padded sequences (prompt + target), or, without the target, left-padded prompts
    that generation extends."""
    pad = tokenizer.id(PAD)
    seqs = [e.prompt + (e.target if with_target else []) for e in examples]
    width = max(map(len, seqs))
    ids = torch.full((len(seqs), width), pad, dtype=torch.long)
    labels = torch.full((len(seqs), width), -100, dtype=torch.long)
    real = torch.zeros((len(seqs), width), dtype=torch.bool)
    for i, (seq, e) in enumerate(zip(seqs, examples, strict=True)):
        start = 0 if with_target else width - len(seq)
        ids[i, start : start + len(seq)] = torch.tensor(seq)
        real[i, start : start + len(seq)] = True
        if with_target:  # position t predicts token t + 1
            first = len(e.prompt) - 1
            labels[i, first : first + len(e.target)] = torch.tensor(e.target)
    frames = np.concatenate([e.frames for e in examples])
    images = torch.from_numpy(frames).permute(0, 3, 1, 2).contiguous()
    return Batch(ids, real, images, labels)
