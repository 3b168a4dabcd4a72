"""Both layouts of the SFT rows go through TRL's own vision collator (the installed version's
`DataCollatorForVisionLanguageModeling`), with a small processor built here: a PIL image
processor, a word-level tokenizer and a chat template, so no model is downloaded. In `messages`
TRL supervises the whole conversation; in `prompt_completion`, with its completion-only loss,
exactly the answer, as OpenHA trains."""

from __future__ import annotations

import json

import pytest
from datasets import load_dataset

from curate.formats.chat import conversation
from curate.release.build import build

trl = pytest.importorskip("trl", reason="TRL is in curate's test extra: pip install -e '.[test]'")

TEMPLATE = (
    "{% for m in messages %}<{{ m['role'] }}>{% for p in m['content'] %}"
    "{% if p['type'] == 'image' %} <image>{% else %} {{ p['text'] }}{% endif %}{% endfor %} </s> "
    "{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}"
)
SPECIAL = ["<pad>", "<unk>", "<image>", "</s>", "<user>", "<assistant>"]


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict:
    """The same small release in both layouts: layout -> its folder."""
    folder = tmp_path_factory.mktemp("layouts")
    built = {}
    for layout in ("messages", "prompt_completion"):
        recipe = folder / f"{layout}.yaml"
        recipe.write_text(json.dumps({
            "name": "trl", "version": "0.1.0", "layout": layout, "history": 2, "validation": 0,
            "sources": [{"format": "synth", "episodes": 1, "seconds": 3, "cache": "synth"}],
            "configs": ["motion_coa"], "images": {"width": 64, "height": 36, "stride": 4},
        }))  # fmt: skip
        built[layout] = build(recipe, folder / layout).folder
    return built


@pytest.fixture(scope="module")
def releases(folders, tmp_path_factory) -> dict:
    """layout -> the rows of its `motion_coa` train split, as `datasets` loads them."""
    cache = tmp_path_factory.mktemp("hf")
    return {layout: load_dataset(str(folder), "motion_coa", split="train", cache_dir=str(cache))
            for layout, folder in folders.items()}  # fmt: skip


def processor(rows):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlavaProcessor, PreTrainedTokenizerFast
    from transformers.models.clip import CLIPImageProcessorPil

    words = {w for row in rows for m in conversation(row) for p in m["content"] if p["text"]
             for w in p["text"].split()}  # fmt: skip
    vocabulary = {w: i for i, w in enumerate([*SPECIAL, *sorted(words)])}
    model = Tokenizer(models.WordLevel(vocabulary, unk_token="<unk>"))
    model.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=model, pad_token="<pad>", unk_token="<unk>",
        extra_special_tokens={"image_token": "<image>"},
    )  # fmt: skip
    square = {"height": 32, "width": 32}
    images = CLIPImageProcessorPil(size={"shortest_edge": 32}, crop_size=square)
    return LlavaProcessor(image_processor=images, tokenizer=tokenizer, patch_size=16,
                          vision_feature_select_strategy="default", chat_template=TEMPLATE,
                          num_additional_image_tokens=1)  # fmt: skip


def supervised(batch, tokenizer) -> list[list[str]]:
    """Per row, the tokens whose labels are trained."""
    return [tokenizer.convert_ids_to_tokens([i for i in row.tolist() if i >= 0])
            for row in batch["labels"]]  # fmt: skip


def test_both_layouts_hold_the_same_rows(releases):
    messages, split = releases["messages"], releases["prompt_completion"]
    assert "messages" in messages.column_names and "messages" not in split.column_names
    assert {"prompt", "completion"} <= set(split.column_names)
    assert len(messages) == len(split) > 2
    for a, b in zip(messages, split, strict=True):
        assert conversation(a) == conversation(b) and len(b["completion"]) == 1
    first, later = split[0], split[2]  # the episode's first row has no history yet
    assert len(first["images"]) == 1 < len(later["images"]) == 3


def test_trl_supervises_the_conversation_in_messages_and_the_answer_in_prompt_completion(releases):
    from trl.trainer.sft_trainer import DataCollatorForVisionLanguageModeling

    rows = {layout: [dict(r) for r in data.select(range(4))] for layout, data in releases.items()}
    proc = processor(rows["messages"])
    tokens = proc.tokenizer

    whole = DataCollatorForVisionLanguageModeling(proc)([dict(r) for r in rows["messages"]])
    for trained, row in zip(supervised(whole, tokens), rows["messages"], strict=True):
        assert trained[0] == "<user>" and "<image>" in trained  # the prompt and its frames too
        assert trained[-len(_answer(row)) - 1 :] == [*_answer(row), "</s>"]

    answers = DataCollatorForVisionLanguageModeling(proc, completion_only_loss=True)(
        [dict(r) for r in rows["prompt_completion"]]
    )
    for trained, row in zip(supervised(answers, tokens), rows["prompt_completion"], strict=True):
        assert trained == [*_answer(row), "</s>"]  # the answer alone
        assert "Motion:" in trained[0] and "Action:" in trained  # chain of action: both lines


def _answer(row: dict) -> list[str]:
    return conversation(row)[-1]["content"][0]["text"].split()


def test_the_reference_model_reads_both_layouts_alike(folders, tmp_path):
    from curate.reference.data import encode, fit_tokenizer, load_rows

    rows = {layout: list(load_rows(folder, "motion_coa", "train", tmp_path))
            for layout, folder in folders.items()}  # fmt: skip
    tokenizer = fit_tokenizer(rows["messages"])
    assert fit_tokenizer(rows["prompt_completion"]).vocab == tokenizer.vocab
    for a, b in zip(rows["messages"], rows["prompt_completion"], strict=True):
        one, other = (encode(r, tokenizer, 4, (32, 18)) for r in (a, b))
        assert (one.prompt, one.target, one.answer) == (other.prompt, other.target, other.answer)
