"""Labelers, found by their space's name.

curate's own are listed in `BUILTIN`; another package adds one with an entry point of the
`curate.labelers` group (`toy = "my_package.toy:ToyLabeler"`), and a recipe may name one directly
(`labelers: {toy: {from: "my_package.toy:ToyLabeler"}}`). Each is named by an importable
`module:Class`, so every worker process (spawned locally, or on another machine) finds the same
class by importing it.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module
from importlib.metadata import entry_points

from curate.labelers.base import Chart, FrameReader, Labeler, Params

__all__ = ["BUILTIN", "Chart", "FrameReader", "Labeler", "LabelerError", "Params", "labeler_class"]

ENTRY_POINT_GROUP = "curate.labelers"

# space -> "module:Class"; imported on use so one space's dependencies never slow another's.
BUILTIN: dict[str, str] = {
    "env": "curate.labelers.env:EnvLabeler",
    "vpt": "curate.labelers.vpt_tokens:VptTokenLabeler",
    "text": "curate.labelers.text:TextLabeler",
    "motion": "curate.labelers.motion:MotionLabeler",
    "instruction": "curate.labelers.instruction:InstructionLabeler",
    "grounding": "curate.labelers.grounding:GroundingLabeler",
}


class LabelerError(ValueError):
    """A labeler that cannot be found or loaded; the message says what to name instead."""


@cache
def registry() -> dict[str, str]:
    """Every labeler installed: curate's own, then those of installed packages' entry points."""
    found = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    return {**BUILTIN, **{k: v for k, v in found.items() if k not in BUILTIN}}


def labeler_class(space: str, target: str | None = None) -> type[Labeler]:
    """The labeler class of `space`: `target` ("module:Class") when given, else the registry's."""
    target = target or registry().get(space)
    if target is None:
        raise LabelerError(
            f"unknown labeler {space!r}; this curate has: {', '.join(registry())} "
            f"(name another with `labelers: {{{space}: {{from: 'module:Class'}}}}`)"
        )
    module, _, name = target.partition(":")
    try:
        cls = getattr(import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise LabelerError(f"labeler {space!r}: cannot load {target!r} ({exc})") from None
    if not (isinstance(cls, type) and issubclass(cls, Labeler)):
        raise LabelerError(f"labeler {space!r}: {target!r} is not a curate Labeler subclass")
    if cls.space != space:
        raise LabelerError(f"labeler {space!r}: {target!r} labels the space {cls.space!r}")
    return cls
