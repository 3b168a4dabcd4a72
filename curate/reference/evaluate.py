"""`curate evaluate`: the reference model against three baselines on a release's validation rows.

Every predictor (the model, always no-op, the most frequent training action, the row's previous
action) answers every validation row, and each answer is scored:

- `exact_action`: its `Action:` equals the reference's: the same keys and buttons, and the camera
  equal after VPT's 11-bin quantisation of pitch and yaw (ACTION_SPACES.md section 3);
- `camera_bins`: both camera bins equal; `key_f1`: F1 of each key and button, averaged over the
  keys the rows use; `parse_rate`: the answer has an `Action:` line that parses;
- `motion_exact`: for rows that ask for a `Motion:` line, it equals the reference's;
- `grounding_verb`: for rows that ask for a `Grounding:` line, its verb equals the reference's;
  `grounding_point`: the mean distance between its point and the reference's, in the 0..999
  units of the point (x and y alike), over the rows where both have one (lower is better).

Rows of one episode are correlated, so each figure comes with a 95% interval from a bootstrap
over episodes; with fewer than `RELIABLE_EPISODES` episodes the interval is not reliable.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from curate.formats import MIXTURE_FORMS
from curate.formats.chat import conversation
from curate.labelers.motion import NO_OP as MOTION_NO_OP
from curate.labelers.text import NO_OP as TEXT_NO_OP
from curate.labelers.text import TextActionError, parse_text_action
from curate.labelers.vpt_tokens import camera_bins
from curate.reference.data import Example, encode, load_rows
from curate.reference.sample import generate
from curate.reference.tokenizer import Tokenizer
from curate.reference.train import Checkpoint

NOOP, NOOP_MOTION = TEXT_NO_OP["reserved"], MOTION_NO_OP
PREDICTORS = ("model", "noop", "majority", "previous")
KEYS = ("forward", "back", "left", "right", "jump", "sneak", "sprint", "attack", "use", "drop",
        "inventory", *(f"hotbar.{i}" for i in range(1, 10)), "ESC", "swapHands")  # fmt: skip
BOOTSTRAP = 1000
RELIABLE_EPISODES = 5
_GROUNDING = re.compile(
    r"Grounding: (.*?) <\|object_ref_start\|>.*?<\|object_ref_end\|>"
    r"(?:<\|point_start\|>\((\d+),(\d+)\)<\|point_end\|>)?"
)
HEADLINES = ("exact_action", "motion_exact", "grounding_verb")  # the first a config has leads
_PART = re.compile(r"(Grounding|Motion|Action):\s*(.*?)(?=(?:Grounding:|Motion:|Action:|$))", re.S)


def parts(answer: str) -> dict[str, str]:
    """The parts of an answer by kind (ACTION_SPACES.md section 7), each with its prefix."""
    return {kind: f"{kind}: {text.strip(' ,' + chr(10))}" for kind, text in _PART.findall(answer)}


def action_key(text: str | None) -> tuple | None:
    """What `exact_action` compares of an `Action:` line: every key and button, and the two
    camera bins; None when it does not parse."""
    if text is None:
        return None
    try:
        action = parse_text_action(text)
    except TextActionError:
        return None
    pitch, yaw = camera_bins(np.array(action["camera"]))
    return (*(action[k] for k in KEYS), int(pitch), int(yaw))


def grounding_key(text: str | None) -> tuple[str, tuple[int, int] | None] | None:
    """The verb and point of a `Grounding:` line; None when it does not parse."""
    found = _GROUNDING.match(text or "")
    if found is None:
        return None
    verb, x, y = found.groups()
    return verb, (int(x), int(y)) if x is not None else None


def headline(figs: dict) -> str:
    """The metric that leads a config's figures (and its gate): exact action where the rows have
    an `Action:` line, else motion, else grounding."""
    found = [m for m in HEADLINES if m in figs]
    if not found:
        raise ValueError("the rows ask for no `Action:`, `Motion:` or `Grounding:` line to score")
    return found[0]


@dataclass
class Scores:
    """Per-episode counts of every metric and predictor: metric -> predictor -> (episodes, k)."""

    episodes: list[str]
    counts: dict[str, dict[str, np.ndarray]]

    def __add__(self, other: Scores) -> Scores:
        """Both evaluations' counts summed (the same rows, two seeds' models)."""
        return Scores(self.episodes, {m: {p: c + other.counts[m][p] for p, c in by.items()}
                                      for m, by in self.counts.items()})  # fmt: skip


def score(answers: dict[str, list[str]], examples: Sequence[Example]) -> Scores:
    """Count hits of every predictor's answers against the reference answers."""
    episodes = sorted({e.episode_id for e in examples})
    index = {e: i for i, e in enumerate(episodes)}
    rows = np.array([index[e.episode_id] for e in examples])
    n_keys = len(KEYS)

    def per_episode(values: np.ndarray) -> np.ndarray:  # (rows, k) -> (episodes, k)
        out = np.zeros((len(episodes), values.shape[1]))
        np.add.at(out, rows, values)
        return out

    references = [parts(e.answer) for e in examples]
    truth = _keys([action_key(r.get("Action")) for r in references])
    has_action = ~np.isnan(truth[:, 0])
    asks_motion = np.array(["Motion" in r for r in references])
    asks_grounding = np.array(["Grounding" in r for r in references])
    wanted = [grounding_key(r.get("Grounding")) for r in references]
    counts: dict[str, dict[str, np.ndarray]] = {}
    for predictor, said in answers.items():
        given = [parts(a) for a in said]
        guess = _keys([action_key(g.get("Action")) for g in given])
        parsed = ~np.isnan(guess[:, 0]) & has_action  # an answer that does not parse is wrong
        t, g = truth[:, :n_keys] == 1, guess[:, :n_keys] == 1  # and presses nothing
        exact = parsed & (truth == guess).all(1)
        camera = parsed & (truth[:, n_keys:] == guess[:, n_keys:]).all(1)
        keys = np.stack([t & g, g & ~t, t & ~g], 2) & has_action[:, None, None]  # tp fp fn
        motion = asks_motion & np.array(
            [g.get("Motion") == r.get("Motion") for g, r in zip(given, references, strict=True)]
        )
        # A history of `Action:` lines only (Chain of Action) gives no previous motion.
        says_motion = asks_motion & (predictor != "previous" or any(
            "Motion:" in (e.previous or "") for e in examples))  # fmt: skip
        said_grounding = [grounding_key(g.get("Grounding")) for g in given]
        # a baseline that never writes a grounding line is left out; the model is not: a
        # missing or broken line is wrong
        answers_grounding = predictor == "model" or any("Grounding" in g for g in given)
        gives = asks_grounding & answers_grounding
        verb = np.array([g is not None and w is not None and g[0] == w[0]
                         for g, w in zip(said_grounding, wanted, strict=True)]) & gives  # fmt: skip
        pointed = [(g[1], w[1]) if g and w and g[1] and w[1] else None
                   for g, w in zip(said_grounding, wanted, strict=True)]  # fmt: skip
        distance = np.array([math.dist(*p) if p else 0.0 for p in pointed])
        both = gives & np.array([p is not None for p in pointed], bool)
        for metric, values in (
            ("exact_action", np.stack([exact, has_action], 1)),
            ("camera_bins", np.stack([camera, has_action], 1)),
            ("parse_rate", np.stack([parsed, has_action], 1)),
            ("key_f1", keys.reshape(len(examples), -1)),
            ("motion_exact", np.stack([motion, says_motion], 1)),
            ("grounding_verb", np.stack([verb, gives], 1)),
            ("grounding_point", np.stack([np.where(both, distance, 0.0), both], 1)),
        ):
            counts.setdefault(metric, {})[predictor] = per_episode(values.astype(np.float64))
    return Scores(episodes, counts)


def _keys(keys: list[tuple | None]) -> np.ndarray:
    """(rows, keys + 2) floats; a row that does not parse is NaN."""
    width = len(KEYS) + 2
    return np.array([k if k is not None else (np.nan,) * width for k in keys], np.float64).reshape(
        len(keys), width
    )


def _pressed(counts: np.ndarray) -> np.ndarray:
    """The keys the reference rows press, from key F1's (tp, fp, fn) counts of each key."""
    tp, _, fn = counts.sum(0).reshape(-1, 3).T
    return (tp + fn) > 0


def _value(metric: str, total: np.ndarray, used: np.ndarray | None) -> float:
    """A metric's value from its summed counts; key F1 averages over the keys `used`."""
    if used is not None:
        tp, fp, fn = total.reshape(-1, 3).T
        f1 = np.divide(2 * tp, 2 * tp + fp + fn, out=np.zeros_like(tp), where=(tp + fp + fn) > 0)
        return float(f1[used].mean()) if used.any() else 0.0
    return float(total[0] / total[1]) if total[1] else 0.0


def figures(scores: Scores, seed: int = 0) -> dict:
    """Every metric of every predictor as [value, lo95, hi95], by a bootstrap over episodes; a
    metric no row asks for (no `Action:` line in motion_action rows) is left out, and so is a
    predictor with no answer of its kind (no previous motion in Chain-of-Action rows)."""
    rng = np.random.default_rng(seed)
    n = len(scores.episodes)
    draws = rng.integers(0, n, size=(BOOTSTRAP, n))
    out: dict = {"episodes": n, "reliable": n >= RELIABLE_EPISODES}
    for metric, by in scores.counts.items():
        # key F1 averages over the keys the reference rows press, fixed before resampling
        used = _pressed(by["model"]) if metric == "key_f1" else None
        answered = {
            predictor: counts
            for predictor, counts in by.items()
            if (used.any() if used is not None else counts[:, 1].sum() > 0)
        }
        if "model" not in answered:
            continue
        out[metric] = {}
        for predictor, counts in answered.items():
            value = _value(metric, counts.sum(0), used)
            sampled = [_value(metric, counts[d].sum(0), used) for d in draws]
            lo, hi = np.percentile(sampled, [2.5, 97.5])
            out[metric][predictor] = [round(value, 4), round(float(lo), 4), round(float(hi), 4)]
    return out


def baseline_answers(
    examples: Sequence[Example], train_answers: Sequence[str]
) -> dict[str, list[str]]:
    """The answers of the three baselines: always no-op, the most frequent training action (and
    motion), and the row's previous action (its last history turn; no-op without one). The
    most frequent action is counted as `exact_action` compares actions: by keys and camera bins,
    not by string."""
    written = [parts(a) for a in train_answers]
    actions = Counter(action_key(p["Action"]) for p in written if "Action" in p)
    actions.pop(None, None)
    motions = Counter(p["Motion"] for p in written if "Motion" in p)
    groundings = Counter(p["Grounding"] for p in written if "Grounding" in p)
    top = actions.most_common(1)[0][0] if actions else None
    majority_action = next((p["Action"] for p in written if "Action" in p
                            and action_key(p["Action"]) == top), NOOP)  # fmt: skip
    majority_motion = motions.most_common(1)[0][0] if motions else NOOP_MOTION

    def both(motion: str, action: str) -> str:
        return f"{motion}\n, {action}"

    previous = []
    for e in examples:
        earlier = parts(e.previous or "")
        answer = both(earlier.get("Motion", NOOP_MOTION), earlier.get("Action", NOOP))
        if "Grounding" in earlier:  # grounding_action rows keep their grounding lines in history
            answer = f"{earlier['Grounding']}\n, {answer}"
        previous.append(answer)
    majority = both(majority_motion, majority_action)
    if groundings:  # the most frequent grounding line (verb and point) too
        majority = f"{groundings.most_common(1)[0][0]}\n, {majority}"
    return {
        "noop": [both(NOOP_MOTION, NOOP)] * len(examples),
        "majority": [majority] * len(examples),
        "previous": previous,
    }


@dataclass
class Evaluation:
    scores: Scores
    figures: dict
    answers: dict[str, list[str]]


def answerable(
    checkpoint: Checkpoint, counts: dict[str, dict[str, int]], mixture: dict
) -> list[str]:
    """The configs of a release whose rows the checkpoint can answer: its own, and for an
    `all_in_one` model each built config of a form it trained on."""
    configs = [checkpoint.config]
    if checkpoint.config == "all_in_one":
        configs += [f for f in MIXTURE_FORMS if mixture.get(f, 0) > 0 and f in counts]
    return [c for c in configs if counts.get(c, {}).get("validation")]


def train_answers(release: Path, config: str, cache_dir: Path | None = None) -> list[str]:
    """The answers of a config's train rows (what the baselines draw from), without images."""
    rows = load_rows(release, config, "train", cache_dir, images=False)
    return [conversation(row)[-1]["content"][0]["text"] for row in rows]


def evaluate(
    checkpoint: Checkpoint, release: Path, cache_dir: Path | None = None, config: str | None = None
) -> Evaluation:
    """The model and the baselines on the validation rows of `config` (default: the
    checkpoint's own)."""
    config = config or checkpoint.config
    rows = load_rows(release, config, "validation", cache_dir)
    seen = sorted(set(rows["episode_id"]) & set(checkpoint.episodes))
    if seen:
        raise ValueError(
            f"the checkpoint trained on episode {seen[0]} of these validation rows: evaluate it on "
            "the release it was trained on, or train again on this one"
        )
    tokenizer: Tokenizer = checkpoint.tokenizer
    size = checkpoint.options.image_size
    examples = [encode(r, tokenizer, checkpoint.model.image_tokens, size) for r in rows]
    longest = max(len(e.prompt) for e in examples) + checkpoint.answer_tokens
    if longest > checkpoint.model.config.max_len:
        raise ValueError(f"validation rows of {longest} tokens exceed the model's context")
    trained_on = train_answers(release, checkpoint.config, cache_dir)
    answers = {
        "model": generate(checkpoint.model, tokenizer, examples, max_new=checkpoint.answer_tokens),
        **baseline_answers(examples, trained_on),
    }
    scores = score(answers, examples)
    return Evaluation(scores, figures(scores), answers)
