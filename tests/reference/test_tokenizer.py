"""The reference tokenizer: exact round trips, digits one by one, prompt lines as one token."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from curate.reference.tokenizer import UNK, Tokenizer, pieces


@given(st.text())
def test_pieces_join_back_to_the_text(text):
    assert "".join(pieces(text)) == text


def test_numbers_never_seen_are_written_digit_by_digit():
    tok = Tokenizer.fit(["Action: move(1, 0) and press()"])
    text = "Action: move(-987, 65) and press()"
    assert tok.decode(tok.encode(text)) == text
    assert tok.id(UNK) not in tok.encode(text)


def test_repeated_prompt_lines_are_one_token_and_new_ones_are_read_in_pieces():
    prompts = ["Play well.\nTask: Mine dirt."] * 5 + ["Play well.\nTask: Kill a pig."]
    tok = Tokenizer.fit([], prompts)
    assert tok.lines == {"Play well.", "Task: Mine dirt."}
    assert len(tok.encode("Play well.\nTask: Mine dirt.", whole_lines=True)) == 3
    unseen = tok.encode("Play well.\nTask: Kill a pig.", whole_lines=True)
    assert len(unseen) > 3 and tok.decode(unseen) == "Play well.\nTask: Kill a pig."
    assert len(tok.encode("Play well.")) > 1  # answers are always read in pieces
