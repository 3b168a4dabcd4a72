"""The prompts of the SFT configs: one per action space, written for curate.

The first user turn of every row is the space's prompt, then the task instruction. The wording
tells the model exactly which output form is expected, because the All-in-One mixture trains one
model on several forms and the prompt is the only thing that says which one a row wants.
"""

from __future__ import annotations

from collections.abc import Mapping

from curate.contract import FPS

_SEE = "You play Minecraft and see the game screen."
_ACTION = (
    "`Action:` is the raw input for the next tick: move(dx, dy) turns the view (or moves the GUI "
    "cursor) by mouse units of 0.15 degrees, right and down positive; press(...) lists held keys; "
    "click(left) attacks, click(right) uses."
)


def _action_over(stride: int) -> str:
    """What an `Action:` line stands for when a row covers `stride` ticks (ACTION_SPACES.md 2a)."""
    if stride == 1:
        return _ACTION
    return (
        f"`Action:` is the raw input for the next {stride} ticks ({stride * 1000 // FPS} ms): "
        "move(dx, dy) turns the view (or moves the GUI cursor) by mouse units of 0.15 degrees in "
        "all over them, right and down positive; press(...) lists the keys pressed in them; "
        "click(left) attacks, click(right) uses."
    )


PROMPTS: dict[str, str] = {
    "text_action": f"{_SEE} Answer with the next action as one `Action:` line. {_ACTION}",
    "motion_action": (
        f"{_SEE} Answer with the motion you make next as one `Motion:` line, naming movement, "
        "camera turns, mouse use and key presses in words."
    ),
    "grounding_action": (
        f"{_SEE} Answer with one `Grounding:` line: the interaction you aim at and the point of "
        "its target on the screen, x and y from 0 to 999."
    ),
    "motion_coa": (
        f"{_SEE} First say the motion you make next as a `Motion:` line, then give the exact "
        f"input as an `Action:` line. {_ACTION}"
    ),
    "grounding_coa": (
        f"{_SEE} First give a `Grounding:` line with the interaction you aim at and its target's "
        f"point (x and y from 0 to 999), then the exact input as an `Action:` line. {_ACTION}"
    ),
}

NO_TASK = "Explore the world."  # ticks after the last task event have no instruction


def first_user_text(
    form: str, instruction: str | None, stride: int = 1, own: Mapping[str, str] | None = None
) -> str:
    """The text of a row's first user turn, for rows one every `stride` ticks; `own` holds the
    recipe's prompts (`prompts:`), each replacing curate's for its form."""
    text = (own or {}).get(form) or PROMPTS[form].replace(_ACTION, _action_over(stride))
    return f"{text}\nTask: {instruction or NO_TASK}"
