"""Formats: the rows of each config a release can hold, built from labelled ticks.

A config reads the columns of some labelers; `config_spaces` says which, so a build runs exactly
the labelers its configs need.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, get_args

Config = Literal[
    "ticks",
    "text_action",
    "motion_action",
    "grounding_action",
    "motion_coa",
    "grounding_coa",
    "all_in_one",
]
CONFIGS: tuple[str, ...] = get_args(Config)
MIXTURE_FORMS = ("text_action", "motion_coa", "grounding_coa")  # the forms of all_in_one rows

# The labelers each config reads. `ticks` holds every label of curate's own spaces.
_SPACES: dict[str, tuple[str, ...]] = {
    "ticks": ("env", "vpt", "text", "motion", "instruction", "grounding"),
    "text_action": ("text", "instruction"),
    "motion_action": ("motion", "instruction"),
    "grounding_action": ("grounding", "text", "instruction"),  # text: history without grounding
    "motion_coa": ("motion", "text", "instruction"),
    "grounding_coa": ("grounding", "text", "instruction"),
}


def config_spaces(config: str, mixture: Mapping[str, float]) -> tuple[str, ...]:
    """The labelers `config` reads; `all_in_one` reads those of its forms with a weight > 0.

    >>> config_spaces("all_in_one", {"text_action": 1, "motion_coa": 1, "grounding_coa": 0})
    ('text', 'instruction', 'motion')
    """
    if config != "all_in_one":
        return _SPACES[config]
    forms = [f for f in MIXTURE_FORMS if mixture.get(f, 0) > 0]
    return tuple(dict.fromkeys(s for f in forms for s in _SPACES[f]))
