"""The reference model: cached keys and values give the logits of a full pass; padding is
invisible."""

from __future__ import annotations

import torch

from curate.reference.model import ModelConfig, ReferenceModel

NO_IMAGES = torch.zeros((0, 3, 1, 1), dtype=torch.uint8)


def model() -> ReferenceModel:
    torch.manual_seed(0)
    return ReferenceModel(ModelConfig(vocab=50, d_model=32, layers=2, heads=2), image_id=4).eval()


def test_cached_keys_and_values_give_the_full_pass():
    m = model()
    ids = torch.randint(5, 50, (3, 20))
    real = torch.ones(3, 20, dtype=torch.bool)
    real[0, :5] = False  # a left-padded row
    full, _ = m(ids, real, NO_IMAGES)
    first, past = m(ids[:, :12], real[:, :12], NO_IMAGES)
    rest, _ = m(ids[:, 12:], real, NO_IMAGES, past)
    assert torch.allclose(full, torch.cat([first, rest], 1), atol=1e-5)


def test_left_padding_changes_nothing_of_a_row():
    m = model()
    ids = torch.randint(5, 50, (1, 10))
    alone, _ = m(ids, torch.ones(1, 10, dtype=torch.bool), NO_IMAGES)
    padded = torch.cat([torch.zeros(1, 4, dtype=torch.long), ids], 1)
    real = torch.cat([torch.zeros(1, 4, dtype=torch.bool), torch.ones(1, 10, dtype=torch.bool)], 1)
    logits, _ = m(padded, real, NO_IMAGES)
    assert torch.allclose(alone, logits[:, 4:], atol=1e-5)


def test_each_frame_fills_its_run_of_image_tokens():
    m = model()
    p = m.image_tokens
    ids = torch.tensor([[5] + [4] * p + [6]])
    real = torch.ones_like(ids, dtype=torch.bool)
    dark = torch.zeros((1, 3, 36, 64), dtype=torch.uint8)
    a, _ = m(ids, real, dark)
    b, _ = m(ids, real, dark + 200)
    assert not torch.allclose(a[:, -1], b[:, -1])  # the last token reads the frame


def test_an_example_s_own_sampler_makes_its_answer_independent_of_its_batch():
    import numpy as np

    from curate.reference.data import Example
    from curate.reference.sample import generate
    from curate.reference.tokenizer import BOS, IMAGE, Tokenizer

    tokenizer = Tokenizer.fit(["Action: move(12, -3) and press(w) and click(left)"])
    torch.manual_seed(0)
    m = ReferenceModel(ModelConfig(len(tokenizer), d_model=32, layers=2, heads=2),
                       tokenizer.id(IMAGE)).eval()  # fmt: skip
    frames = np.zeros((0, 36, 64, 3), np.uint8)
    examples = [Example("e", [tokenizer.id(BOS), *tokenizer.encode(text)], [], frames, "", None)
                for text in ("Action:", "Action: move(1", " press")]  # fmt: skip

    def streams(*seeds: int) -> list[torch.Generator]:
        return [torch.Generator().manual_seed(s) for s in seeds]

    together = generate(m, tokenizer, examples, max_new=8, sampler=streams(1, 2, 3))
    alone = generate(m, tokenizer, examples[1:2], max_new=8, sampler=streams(2))
    assert alone == together[1:2]
    # a temperature near zero is greedy
    greedy = generate(m, tokenizer, examples, max_new=8)
    assert generate(m, tokenizer, examples, max_new=8, sampler=streams(1, 2, 3),
                    temperature=1e-4) == greedy  # fmt: skip
