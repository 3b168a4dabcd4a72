r"""The reference model's tokenizer: pieces of the release's own strings, numbers digit by digit.

A piece is a word, one digit, or one other character, each with the space before it, so joining
the pieces gives the text back exactly; numbers are written digit by digit after their sign, so
a camera value never seen in training can still be written. The vocabulary is the pieces of the
training rows, the special tokens, and the lines that prompts repeat (a config's instructions, a
task line): a prompt line seen often is one token, which keeps rows short; a line never seen is
read in pieces.

>>> tok = Tokenizer.fit(["Action: move(12, -3) and press(w)"], prompts=["Say it.\nTask: a."] * 9)
>>> tok.decode(tok.encode("Action: move(21, -3) and press(w)"))
'Action: move(21, -3) and press(w)'
>>> len(tok.encode("Say it.\nTask: b.", whole_lines=True))  # one token, a newline, 4 pieces
6
"""

from __future__ import annotations

import re
from collections.abc import Iterable

PAD, BOS, EOS, UNK, IMAGE, USER, ASSISTANT = (
    "<pad>",
    "<bos>",
    "<eos>",
    "<unk>",
    "<image>",
    "<user>",
    "<assistant>",
)
SPECIALS = (PAD, BOS, EOS, UNK, IMAGE, USER, ASSISTANT)
# Every number can be written: its sign and digits, each with or without the space before it.
NUMBER_PIECES = [f"{space}{c}" for space in ("", " ") for c in "-0123456789"]
_PIECE = re.compile(r" ?[A-Za-z_]+| ?\d| ?[^\sA-Za-z_\d]|\s")


def pieces(text: str) -> list[str]:
    """The pieces of `text`; `"".join(pieces(text)) == text`."""
    return _PIECE.findall(text)


MIN_LINE_COUNT = 5  # a prompt line seen this often becomes one token


class Tokenizer:
    """Pieces and prompt lines <-> ids; the special tokens come first, so `<pad>` is 0."""

    def __init__(self, vocab: list[str], lines: Iterable[str] = ()) -> None:
        self.vocab = vocab
        self.ids = {piece: i for i, piece in enumerate(vocab)}
        self.lines = frozenset(lines)  # the entries of `vocab` that are whole prompt lines

    @classmethod
    def fit(cls, answers: Iterable[str], prompts: Iterable[str] = ()) -> Tokenizer:
        seen = dict.fromkeys(NUMBER_PIECES)
        counts: dict[str, int] = {}
        for text in answers:
            seen.update(dict.fromkeys(pieces(text)))
        for text in prompts:
            for line in text.split("\n"):
                counts[line] = counts.get(line, 0) + 1
                seen.update(dict.fromkeys(pieces(line)))
        seen["\n"] = None
        lines = sorted(
            line for line, n in counts.items() if n >= MIN_LINE_COUNT and len(pieces(line)) > 1
        )
        vocab = [*SPECIALS, *sorted(p for p in seen if p not in SPECIALS), *lines]
        return cls(vocab, lines)

    def __len__(self) -> int:
        return len(self.vocab)

    def id(self, special: str) -> int:
        return self.ids[special]

    def encode(self, text: str, whole_lines: bool = False) -> list[int]:
        """Ids of `text`; with `whole_lines` (prompts), a known line is one id."""
        if not whole_lines:
            unk = self.ids[UNK]
            return [self.ids.get(p, unk) for p in pieces(text)]
        out: list[int] = []
        for k, line in enumerate(text.split("\n")):
            if k:
                out.append(self.ids["\n"])
            out += [self.ids[line]] if line in self.lines else self.encode(line)
        return out

    def decode(self, ids: Iterable[int]) -> str:
        """The text of `ids` up to the first `<eos>`, special tokens left out."""
        out = []
        for i in ids:
            piece = self.vocab[i]
            if piece == EOS:
                break
            if piece not in SPECIALS:
                out.append(piece)
        return "".join(out)
