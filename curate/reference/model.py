"""The reference vision-language-action model: a small image encoder and a small transformer
decoder that writes the assistant turn token by token.

A row is one sequence: `<bos> <user> prompt <image>*P <assistant> answer <eos> <user> <image>*P
... <assistant> target <eos>`. Each `<image>` run is replaced by the P patch embeddings of that
frame, so the decoder reads the prompt, the frames and the history in order, and is trained to
write the target (the loss covers the target and its `<eos>` only).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F

KV = tuple[Tensor, Tensor]  # one layer's keys and values, (B, heads, T, head width)


@dataclass(frozen=True)
class ModelConfig:
    vocab: int
    d_model: int = 128
    layers: int = 3
    heads: int = 4
    max_len: int = 512
    image_width: int = 64
    image_height: int = 36
    dropout: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def patches(width: int, height: int) -> int:
    """How many patch embeddings a frame becomes: four stride-2 convolutions halve each side,
    rounding up, four times (64x36 -> 4x3)."""
    for _ in range(4):
        width, height = (width + 1) // 2, (height + 1) // 2
    return width * height


class ImageEncoder(nn.Module):
    """Four stride-2 convolutions: a frame becomes a small grid of patch embeddings."""

    def __init__(self, d_model: int) -> None:
        super().__init__()
        widths = [3, 32, 64, 128, d_model]
        layers: list[nn.Module] = []
        for a, b in zip(widths, widths[1:], strict=False):
            layers += [nn.Conv2d(a, b, 3, stride=2, padding=1), nn.GELU()]
        self.net = nn.Sequential(*layers[:-1])

    def forward(self, images: Tensor) -> Tensor:
        """(N, 3, H, W) uint8 -> (N, P, d_model)."""
        x = self.net(images.float() / 127.5 - 1.0)
        return x.flatten(2).transpose(1, 2)


class Block(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        d = config.d_model
        self.heads = config.heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))
        self.drop = nn.Dropout(config.dropout)

    def forward(self, x: Tensor, mask: Tensor, past: KV | None = None) -> tuple[Tensor, KV]:
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
        q, k, v = (z.view(b, t, self.heads, d // self.heads).transpose(1, 2) for z in (q, k, v))
        if past is not None:  # the keys and values of the tokens before these
            k, v = torch.cat([past[0], k], 2), torch.cat([past[1], v], 2)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        x = x + self.drop(self.proj(y.transpose(1, 2).reshape(b, t, d)))
        return x + self.drop(self.mlp(self.ln2(x))), (k, v)


class ReferenceModel(nn.Module):
    def __init__(self, config: ModelConfig, image_id: int) -> None:
        super().__init__()
        self.config, self.image_id = config, image_id
        self.encoder = ImageEncoder(config.d_model)
        self.image_tokens = patches(config.image_width, config.image_height)  # a frame's run
        self.patch_pos = nn.Parameter(torch.zeros(self.image_tokens, config.d_model))
        self.tokens = nn.Embedding(config.vocab, config.d_model)
        self.positions = nn.Embedding(config.max_len, config.d_model)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.layers))
        self.ln = nn.LayerNorm(config.d_model)
        self.head = nn.Linear(config.d_model, config.vocab, bias=False)
        self.head.weight = self.tokens.weight  # tied, as in GPT-2
        self.apply(_init)
        for name, p in self.named_parameters():
            if name.endswith("proj.weight") or name.endswith("mlp.2.weight"):
                nn.init.normal_(p, std=0.02 / math.sqrt(2 * config.layers))

    def forward(
        self, ids: Tensor, real: Tensor, images: Tensor, past: list[KV] | None = None
    ) -> tuple[Tensor, list[KV]]:
        """Logits (B, T, vocab) of token ids (B, T), and every layer's keys and values so far.

        `images` holds the frames of the `<image>` runs of `ids` in reading order, (N, 3, H, W)
        uint8; `real` marks the tokens that are not padding, over `past` and `ids` together;
        `past` is what an earlier call returned, for the tokens before `ids`."""
        x = self.tokens(ids)
        if images.shape[0]:
            patches = self.encoder(images) + self.patch_pos
            slots = (ids == self.image_id).unsqueeze(-1)
            x = x.masked_scatter(slots, patches.reshape(-1, patches.shape[-1]).to(x.dtype))
        new, total = ids.shape[1], real.shape[1]
        x = x + self.positions((real.long().cumsum(1) - 1).clamp(min=0)[:, -new:])
        causal = torch.ones(total, total, dtype=torch.bool, device=ids.device).tril()[-new:]
        own = torch.eye(total, dtype=torch.bool, device=ids.device)[-new:]  # a pad sees itself
        mask = ((causal & real[:, None, :]) | own).unsqueeze(1)  # (B, 1, new, total)
        cache: list[KV] = []
        earlier: list[KV | None] = list(past) if past else [None] * len(self.blocks)
        for block, kv in zip(self.blocks, earlier, strict=True):
            x, new_kv = block(x, mask, kv)
            cache.append(new_kv)
        return self.head(self.ln(x)), cache

    def parameters_count(self) -> int:
        return sum(p.numel() for p in self.parameters())  # the tied head counts once


def _init(module: nn.Module) -> None:
    if isinstance(module, nn.Linear | nn.Embedding):
        nn.init.normal_(module.weight, std=0.02)
    if isinstance(module, nn.Linear) and module.bias is not None:
        nn.init.zeros_(module.bias)
