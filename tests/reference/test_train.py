"""Training: on the train split only, deterministic for a seed on the CPU, a checkpoint that
loads back to the same answers."""

from __future__ import annotations

import torch

from curate.reference.train import Checkpoint, TrainOptions, train
from curate.release.meta import ReleaseMeta

FEW = TrainOptions(steps=3, batch_size=4, d_model=32, layers=1, heads=2)


def test_training_reads_only_the_train_split_and_records_it(tiny, cache):
    checkpoint = train(tiny, "motion_coa", FEW, device="cpu", cache_dir=cache)
    meta = ReleaseMeta.read(tiny)
    assert checkpoint.episodes == sorted(meta.episodes["train"])
    assert checkpoint.release["fingerprint"] == meta.fingerprint
    assert [step for step, _ in checkpoint.loss] == [1, 2, 3]


def test_the_same_seed_gives_the_same_weights(tiny, cache):
    a = train(tiny, "text_action", FEW, device="cpu", cache_dir=cache).model.state_dict()
    b = train(tiny, "text_action", FEW, device="cpu", cache_dir=cache).model.state_dict()
    c = train(tiny, "text_action", TrainOptions(**{**FEW.__dict__, "seed": 1}), device="cpu",
              cache_dir=cache).model.state_dict()  # fmt: skip
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_a_checkpoint_loads_back(tiny, cache, tmp_path):
    checkpoint = train(tiny, "all_in_one", FEW, device="cpu", cache_dir=cache)
    checkpoint.save(tmp_path / "ck")
    loaded = Checkpoint.load(tmp_path / "ck")
    assert loaded.tokenizer.vocab == checkpoint.tokenizer.vocab
    assert loaded.episodes == checkpoint.episodes and loaded.options == checkpoint.options
    for key, value in checkpoint.model.state_dict().items():
        assert torch.equal(value, loaded.model.state_dict()[key])
