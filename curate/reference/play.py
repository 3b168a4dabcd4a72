"""Closed-loop evaluation: the reference model plays curate's world (`curate/World-v0`), beside a
random policy and the scripted player, on the same seeds, none of which recorded training data.

The model plays as it was trained: one decision every `images.stride` ticks, on the frame as a
release shows it (the cursor drawn in a GUI, resized and JPEG-encoded at the release's size and
quality, then made small as the trainer makes it), with the prompt of its form, the task's
instruction, and the `history` earlier frames and answers of the episode. Its `Action:` line is
replayed over the stride as ACTION_SPACES.md section 2a says: the camera split evenly, held keys
held throughout, one-shot keys on the first tick only. An answer without a valid `Action:` line
plays a no-op. Every episode of a policy decides in one batch, so the model's prompts of one
decision go through the network together, each answer token reading cached keys and values.

- random: at each decision, an `Action:` line drawn from the training rows' answers (their
  distribution, not a uniform draw over the action dict, which would open the inventory half the
  time), seeded by the task and the episode's seed.
- scripted: the player that recorded the training data, tick by tick: the ceiling.

Figures: success rate with a 95% Wilson interval and mean ticks to success, per task and over
all episodes.
"""

from __future__ import annotations

import math
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from curate.contract import HOTBAR_ACTIONS
from curate.formats.chat import Turn, prompt
from curate.formats.images import to_jpeg
from curate.labelers.instruction import instruction_text
from curate.labelers.text import NO_OP as TEXT_NO_OP
from curate.labelers.text import TextActionError, parse_text_action
from curate.reference.data import Example, encode
from curate.reference.evaluate import NOOP, parts
from curate.reference.sample import generate
from curate.reference.train import Checkpoint
from curate.world.env import WorldEnv
from curate.world.player import TASK_WEIGHTS, env_action

SEED_BASE = 1000  # episode seeds start here, skipping every seed a synth source recorded with
ONE_SHOT = frozenset({"inventory", "ESC", "drop", "swapHands", "pickItem", *HOTBAR_ACTIONS})
PLAYABLE = ("text_action", "motion_coa", "grounding_coa")  # forms whose answer has an Action line
Z95 = 1.959964
NO_WORLD = (
    "no source of this release is curate's world: VPT and MineStudio recordings have no "
    "environment to play in, so its figures are offline only"
)


@dataclass(frozen=True)
class Protocol:
    """What every policy plays: each task on each seed, at most `max_steps` ticks."""

    tasks: tuple[str, ...]
    seeds: tuple[int, ...]  # one per episode of a task
    max_steps: int
    stride: int
    history: int
    images: tuple[int, int, int]  # width, height, JPEG quality of the release's frames
    noop: str = NOOP  # the no-op `Action:` line of the release's text mode
    prompts: tuple[tuple[str, str], ...] = ()  # the release's own prompts (form, text)
    temperature: float = 1.0  # of the model's sampled answers

    def as_dict(self) -> dict:
        w, h, q = self.images
        return {
            "tasks": list(self.tasks),
            "episodes_per_task": len(self.seeds),
            "seeds": list(self.seeds),
            "step_limit": self.max_steps,
            # greedy copies its history into a no-op
            "decoding": f"sampled (temperature {self.temperature:g})",
            "decision_every_ticks": self.stride,
            "history": self.history,
            "frames": f"{w}x{h} JPEG quality {q}",
            **({"own_prompts": [form for form, _ in self.prompts]} if self.prompts else {}),
        }


def protocol_of(
    recipe: dict, episodes: int, max_steps: int, prompts: dict[str, str] | None = None
) -> Protocol | None:
    """The protocol of a release's recipe (normalised, as `meta/release.json` holds it), or None
    when none of its sources is curate's world: VPT and MineStudio recordings have no
    environment to play in."""
    world = [s for s in recipe["sources"] if s["format"] == "synth"]
    if not world:
        return None
    tasks: dict[str, None] = {}
    for source in world:  # a source without tasks plays the scripted player's default draw
        tasks.update(dict.fromkeys(source.get("tasks") or TASK_WEIGHTS))
    used = {s["seed"] for s in world}  # a synth episode k of seed S is the world of (S, k)
    seeds = [s for s in range(SEED_BASE, SEED_BASE + episodes + len(used)) if s not in used]
    images = recipe["images"]
    shown = (images["width"], images["height"], images["quality"])
    mode = recipe.get("labelers", {}).get("text", {}).get("mode", "reserved")
    return Protocol(tuple(tasks), tuple(seeds[:episodes]), max_steps, images["stride"],
                    recipe["history"], shown, TEXT_NO_OP[mode],
                    tuple(sorted((prompts or {}).items())))  # fmt: skip


def replay(action: dict, stride: int) -> list[dict]:
    """One decision as the actions of its `stride` ticks (ACTION_SPACES.md section 2a)."""
    pitch, yaw = action["camera"]
    ticks = []
    for k in range(stride):
        tick = {n: v if k == 0 or n not in ONE_SHOT else 0 for n, v in action.items()}
        tick["camera"] = [pitch / stride, yaw / stride]
        ticks.append(tick)
    return ticks


def as_action(line: str | None) -> dict:
    """The env action of an `Action:` line; a no-op when there is none or it does not parse."""
    try:
        return parse_text_action(line or NOOP)
    except TextActionError:
        return parse_text_action(NOOP)


@dataclass
class Game:
    """One episode: a task on a seed, and what the model saw and said in it so far."""

    task: str
    seed: int
    env: WorldEnv
    frame: np.ndarray
    turns: list[Turn] = field(default_factory=list)
    jpegs: list[bytes] = field(default_factory=list)
    steps: int = 0
    success: bool = False
    over: bool = False

    def play(self, actions: Sequence[dict], look: bool = True) -> None:
        """Play the ticks of one decision; draw the frame after them only when it is looked at
        (drawing is most of a tick's time)."""
        for action in actions:
            done, truncated = self.env.advance(action)
            self.steps += 1
            self.success, self.over = done, done or truncated
            if self.over:
                return
        if look:
            self.frame = self.env.observe()


Decide = Callable[[list[Game]], list[dict]]  # a decision for each game still playing


def games(protocol: Protocol) -> list[Game]:
    out = []
    for task in protocol.tasks:
        for seed in protocol.seeds:
            env = WorldEnv(task=task, max_steps=protocol.max_steps)
            frame, _ = env.reset(seed=seed)
            out.append(Game(task, seed, env, frame))
    return out


def run(protocol: Protocol, decide: Decide, look: bool = True) -> list[Game]:
    """Every game of the protocol played to its end, all deciding together (`look`: the policy
    reads the frames)."""
    playing = games(protocol)
    done = list(playing)
    while playing:
        for game, action in zip(playing, decide(playing), strict=True):
            game.play(replay(action, protocol.stride), look)
        playing = [g for g in playing if not g.over]
    return done


def scripted(protocol: Protocol) -> list[Game]:
    """The scripted player of each episode, tick by tick (the ceiling)."""
    out = games(protocol)
    for game in out:
        player, sim = game.env.scripted_player(), game.env.sim
        assert sim is not None
        while not game.over:
            game.play([env_action(player.act(sim), sim.player.hotbar)], look=False)
    return out


def random_policy(lines: Sequence[str]) -> Decide:
    """Actions drawn from `lines` (the training rows' `Action:` lines), seeded per game."""
    actions = [as_action(line) for line in lines]
    draws: dict[tuple[str, int], np.random.Generator] = {}

    def decide(playing: list[Game]) -> list[dict]:
        out = []
        for game in playing:
            key = (game.task, game.seed)
            if key not in draws:
                draws[key] = np.random.default_rng([game.seed, zlib.crc32(game.task.encode())])
            out.append(actions[int(draws[key].integers(len(actions)))])
        return out

    return decide


class ModelPolicy:
    """The reference model answering in one form; counts its decisions and the time they take."""

    def __init__(self, checkpoint: Checkpoint, form: str, protocol: Protocol) -> None:
        self.checkpoint, self.form, self.protocol = checkpoint, form, protocol
        self.decisions, self.seconds = 0, 0.0
        self.samplers: dict[tuple[str, int], torch.Generator] = {}  # one stream per game

    def __call__(self, playing: list[Game]) -> list[dict]:
        started = time.perf_counter()
        c, p = self.checkpoint, self.protocol
        width, height, quality = p.images
        examples = []
        for game in playing:
            game.jpegs.append(to_jpeg(game.frame, width, height, quality))
            examples.append(self._example(game))
        answers = generate(c.model, c.tokenizer, examples, batch_size=len(examples),
                           max_new=c.answer_tokens, sampler=[self._sampler(g) for g in playing],
                           temperature=p.temperature)  # fmt: skip
        actions = []
        for game, answer in zip(playing, answers, strict=True):
            said = parts(answer)
            line = said.get("Action")
            if not _parses(line):
                line = p.noop  # what it played: the history says so
            game.turns.append(Turn(game.steps, line, said.get("Motion"), said.get("Grounding"),
                                   instruction_text(game.task)))  # fmt: skip
            actions.append(as_action(line))
        self.decisions += len(playing)
        self.seconds += time.perf_counter() - started
        return actions

    def _sampler(self, game: Game) -> torch.Generator:
        """The game's own stream of draws, seeded by its task and seed: its answers do not
        depend on which other games are still playing."""
        key = (game.task, game.seed)
        if key not in self.samplers:
            seed = np.random.SeedSequence([game.seed, zlib.crc32(game.task.encode())])
            self.samplers[key] = torch.Generator().manual_seed(int(seed.generate_state(1)[0]))
        return self.samplers[key]

    def _example(self, game: Game) -> Example:
        """The row the model answers now; the oldest history turns are dropped when its own
        answers (longer than the training rows') would overflow the context."""
        c, p = self.checkpoint, self.protocol
        keep = min(p.history, len(game.turns))
        while True:
            history = game.turns[len(game.turns) - keep :] if keep else []
            messages = prompt(self.form, history, instruction_text(game.task), p.stride,
                              dict(p.prompts))  # fmt: skip
            messages.append({"role": "assistant", "content": [{"type": "text", "text": ""}]})
            shown = game.jpegs[len(game.jpegs) - keep - 1 :]
            row = {"episode_id": "", "messages": messages, "images": [{"bytes": b} for b in shown]}
            example = encode(row, c.tokenizer, c.model.image_tokens, c.options.image_size)
            if len(example.prompt) + c.answer_tokens <= c.model.config.max_len or not keep:
                return example
            keep -= 1


def _parses(line: str | None) -> bool:
    try:
        parse_text_action(line or "")
    except TextActionError:
        return False
    return line is not None


def wilson(successes: int, n: int) -> list[float]:
    """A success rate and its 95% Wilson score interval."""
    if n == 0:
        return [0.0, 0.0, 0.0]
    p = successes / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
    return [round(p, 4), round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4)]


def summary(played: dict[str, list[Game]], tasks: Sequence[str]) -> dict:
    """Success rates and mean ticks to success of every policy, overall and per task."""

    def of(games_: list[Game]) -> tuple[list[float], float | None]:
        won = [g.steps for g in games_ if g.success]
        return wilson(len(won), len(games_)), (round(float(np.mean(won)), 1) if won else None)

    def block(select: Callable[[Game], bool]) -> dict:
        out: dict = {"steps": {}}
        for policy, games_ in played.items():
            rate, steps = of([g for g in games_ if select(g)])
            out[policy] = rate
            out["steps"][policy] = steps
        return out

    def of_task(task: str | None) -> Callable[[Game], bool]:
        return lambda game: task is None or game.task == task

    return {"overall": block(of_task(None)), "tasks": {t: block(of_task(t)) for t in tasks}}


def closed_loop(
    checkpoint: Checkpoint,
    protocol: Protocol,
    train_lines: Sequence[str],
    forms: Sequence[str],
    say: Callable[[str], None] = lambda _: None,
) -> dict:
    """The model (once per form), the random policy and the scripted player on the protocol:
    `validation.closed_loop` of `meta/release.json`."""
    per_form, speed, played = {}, [], {}
    for form in forms:
        model = ModelPolicy(checkpoint, form, protocol)
        played[form] = run(protocol, model)
        per_form[form] = summary({"model": played[form]}, protocol.tasks)
        speed.append(model.decisions / max(model.seconds, 1e-9))
        say(f"closed loop, {form}: {sum(g.success for g in played[form])}/"
            f"{len(played[form])} episodes solved")  # fmt: skip
    best = max(forms, key=lambda f: per_form[f]["overall"]["model"][0])  # ties: the first
    baselines = {"random": run(protocol, random_policy(train_lines), look=False),
                 "scripted": scripted(protocol)}  # fmt: skip
    figures = summary({"model": played[best], **baselines}, protocol.tasks)
    if len(forms) > 1:  # an all_in_one model: each form beside its best
        figures["overall"]["forms"] = {f: per_form[f]["overall"]["model"] for f in forms}
        for task, part in figures["tasks"].items():
            part["forms"] = {f: per_form[f]["tasks"][task]["model"] for f in forms}
    return {
        "protocol": {**protocol.as_dict(), "forms": list(forms), "model_form": best},
        **figures,
        "decisions_per_second": round(float(np.mean(speed)), 1),
    }


def play_release(
    checkpoint: Checkpoint,
    recipe: dict,
    answers: Sequence[str],
    episodes: int,
    max_steps: int,
    say: Callable[[str], None] = lambda _: None,
    prompts: dict[str, str] | None = None,
) -> dict:
    """`closed_loop` for a checkpoint: the protocol of its release's (normalised) recipe and
    prompts, played in every form its training `answers` have; `{"skipped": why}` where it
    cannot play."""
    protocol = protocol_of(recipe, episodes, max_steps, prompts)
    if protocol is None:
        return {"skipped": NO_WORLD}
    said = [parts(a) for a in answers]
    lines = [p["Action"] for p in said if "Action" in p]
    asked = {"grounding_coa" if "Grounding" in p else "motion_coa" if "Motion" in p
             else "text_action" for p in said if "Action" in p}  # fmt: skip
    forms = [f for f in PLAYABLE if f in asked]
    if not forms:
        return {"skipped": f"{checkpoint.config} answers have no `Action:` line to play"}
    return closed_loop(checkpoint, protocol, lines, forms, say)
