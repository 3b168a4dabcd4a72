"""Answers of the reference model, greedy or sampled: a batch of left-padded prompts at a time,
each new token reading the keys and values cached for the ones before it."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from curate.reference.data import Example, collate
from curate.reference.model import ReferenceModel
from curate.reference.tokenizer import EOS, PAD, Tokenizer


@torch.no_grad()
def generate(
    model: ReferenceModel,
    tokenizer: Tokenizer,
    examples: Sequence[Example],
    batch_size: int = 64,
    max_new: int = 64,
    sampler: torch.Generator | Sequence[torch.Generator] | None = None,
    temperature: float = 1.0,
) -> list[str]:
    """The model's answer to each example's prompt: greedy, or drawn token by token from the
    model's distribution sharpened by `temperature`, with `sampler` (one generator for all, or
    one per example, so an example's draws do not depend on the others in its batch)."""
    device = next(model.parameters()).device
    eos, pad = tokenizer.id(EOS), tokenizer.id(PAD)
    no_images = torch.zeros((0, 3, 1, 1), dtype=torch.uint8, device=device)
    out: list[str] = []
    for start in range(0, len(examples), batch_size):
        chunk = examples[start : start + batch_size]
        draws = sampler[start : start + batch_size] if isinstance(sampler, Sequence) else sampler
        batch = collate(chunk, tokenizer, with_target=False).to(device)
        real = batch.real
        logits, past = model(batch.ids, real, batch.images)
        done = torch.zeros(batch.ids.shape[0], dtype=torch.bool, device=device)
        written = []
        for _ in range(max_new):
            token = torch.where(done, pad, _pick(logits[:, -1], draws, temperature))
            written.append(token)
            real = torch.cat([real, ~done[:, None]], 1)
            done |= token == eos
            if done.all():
                break
            logits, past = model(token[:, None], real, no_images, past)
        answers = torch.stack(written, 1).tolist()
        out += [tokenizer.decode(row) for row in answers]
    return out


def _pick(
    logits: torch.Tensor,
    sampler: torch.Generator | Sequence[torch.Generator] | None,
    temperature: float,
) -> torch.Tensor:
    """The next token of each row: the likeliest, or one drawn with `sampler`."""
    if sampler is None:
        return logits.argmax(-1)
    # drawn on the CPU: the same on any device
    probs = torch.softmax(logits.float() / temperature, -1).cpu()
    if isinstance(sampler, torch.Generator):
        return torch.multinomial(probs, 1, generator=sampler)[:, 0].to(logits.device)
    rows = [torch.multinomial(p, 1, generator=g) for p, g in zip(probs, sampler, strict=True)]
    return torch.cat(rows).to(logits.device)
