"""One labeler per action space, found by the space's public name."""

from __future__ import annotations

from importlib import import_module

from curate.labelers.base import Labeler

# space -> "module:class"; imported on use so one space's dependencies never slow another's.
REGISTRY: dict[str, str] = {
    "env": "curate.labelers.env:EnvLabeler",
    "vpt": "curate.labelers.vpt_tokens:VptTokenLabeler",
    "text": "curate.labelers.text:TextLabeler",
    "motion": "curate.labelers.motion:MotionLabeler",
    "instruction": "curate.labelers.instruction:InstructionLabeler",
}


def labeler_class(space: str) -> type[Labeler]:
    """The labeler class of `space`, with an error that lists the spaces there are."""
    if space not in REGISTRY:
        raise KeyError(f"unknown action space {space!r}; choose one of {', '.join(REGISTRY)}")
    module, name = REGISTRY[space].split(":")
    return getattr(import_module(module), name)
