"""Recipes: one YAML file that declares a release, validated before any work starts.

Every key is checked by pydantic, so a typo or a bad value fails at once with the key's path;
unknown keys are refused rather than ignored, because a silently ignored key builds a dataset
other than the one the author asked for.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from curate.contract import QUALIFYING_FAMILIES

CONFIGS = (
    "ticks",
    "text_action",
    "motion_action",
    "grounding_action",
    "motion_coa",
    "grounding_coa",
    "all_in_one",
)
Config = Literal[CONFIGS]
SEMVER = re.compile(r"^\d+\.\d+\.\d+$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FolderSource(Strict):
    """Recordings already on disk: VPT `.jsonl` (+ `.mp4`) files or MineStudio rollout folders."""

    format: Literal["vpt", "minestudio"]
    path: Path


class IndexSource(Strict):
    """VPT recordings listed in a public index file, downloaded into `cache` on first use."""

    format: Literal["vpt"] = "vpt"
    index: Path
    limit: Annotated[int, Field(ge=1)] = 10
    cache: Path = Path("cache/vpt")
    base_url: str | None = None  # overrides the index's `basedir` (a mirror)
    video: bool = True  # also fetch each segment's .mp4 (needed for image configs)


class SynthSource(Strict):
    """Recordings of curate's own world, generated into `cache` on first use."""

    format: Literal["synth"]
    episodes: Annotated[int, Field(ge=1)] = 2
    seconds: Annotated[float, Field(gt=0)] = 20.0
    seed: int = 0
    cache: Path = Path("cache/synth")


def _source_kind(data: object) -> str:
    """Which source model validates an entry, so an error names that model's keys only."""
    get = data.get if isinstance(data, dict) else lambda key: getattr(data, key, None)
    return (
        "index" if get("index") is not None else "synth" if get("format") == "synth" else "folder"
    )


Source = Annotated[
    Annotated[FolderSource, Tag("folder")]
    | Annotated[IndexSource, Tag("index")]
    | Annotated[SynthSource, Tag("synth")],
    Discriminator(_source_kind),
]


class Filters(Strict):
    min_ticks: Annotated[int, Field(ge=1)] = 1
    max_gui_share: Annotated[float, Field(ge=0, le=1)] = 1.0
    keep_noop: Annotated[float, Field(ge=0, le=1)] = 1.0  # share of no-op SFT rows kept (seeded)


class Images(Strict):
    width: Annotated[int, Field(ge=16, le=1920)] = 640
    height: Annotated[int, Field(ge=16, le=1080)] = 360
    stride: Annotated[int, Field(ge=1)] = 1  # one SFT row per `stride` ticks (section 2a)
    quality: Annotated[int, Field(ge=1, le=100)] = 90


class TextParams(Strict):
    mode: Literal["compact", "reserved"] = "reserved"  # the released OpenHA data is reserved


class VptParams(Strict):
    bins: Literal[11, 21] = 11


class MotionParams(Strict):
    min_run: Annotated[int, Field(ge=0)] = 0  # ticks; OpenHA's behaviour is 0
    min_turn_deg: Annotated[float, Field(ge=0)] = 0.0


class InstructionParams(Strict):
    families: list[str] = Field(default_factory=lambda: list(QUALIFYING_FAMILIES))


class Labelers(Strict):
    """Labeler parameters, checked here so a typo is named before any episode is built."""

    text: TextParams = Field(default_factory=TextParams)
    vpt: VptParams = Field(default_factory=VptParams)
    motion: MotionParams = Field(default_factory=MotionParams)
    instruction: InstructionParams = Field(default_factory=InstructionParams)


class Card(Strict):
    license: str = "mit"
    description: str = ""  # the card's opening paragraph
    about: Path | None = None  # a markdown file (data_cards/) shown as the card's "About" section


class Recipe(Strict):
    """A release: what to read, how to label it, what to emit."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    version: str
    seed: int = 0
    sources: Annotated[list[Source], Field(min_length=1)]
    configs: Annotated[list[Config], Field(min_length=1)] = Field(default_factory=lambda: ["ticks"])
    filters: Filters = Field(default_factory=Filters)
    labelers: Labelers = Field(default_factory=Labelers)
    history: Annotated[int, Field(ge=0, le=16)] = 0  # earlier frames per SFT row
    images: Images = Field(default_factory=Images)
    # grounding_coa joins the default once the grounding labeler lands
    mixture: dict[Literal["text_action", "motion_coa", "grounding_coa"], float] = Field(
        default_factory=lambda: {"text_action": 1.0, "motion_coa": 1.0}
    )
    validation: Annotated[float, Field(ge=0, lt=1)] = 0.1  # share of episodes, by id hash
    card: Card = Field(default_factory=Card)

    @field_validator("version", mode="before")
    @classmethod
    def _semver(cls, version: object) -> str:
        version = str(version)
        if not SEMVER.match(version):
            raise ValueError(f"version must be MAJOR.MINOR.PATCH like 0.1.0, got {version!r}")
        return version

    @field_validator("configs")
    @classmethod
    def _unique(cls, configs: list[str]) -> list[str]:
        return sorted(set(configs), key=CONFIGS.index)

    @field_validator("mixture")
    @classmethod
    def _weights(cls, mixture: dict[str, float]) -> dict[str, float]:
        if any(w < 0 for w in mixture.values()) or not sum(mixture.values()) > 0:
            raise ValueError("mixture weights must be >= 0 with a positive sum")
        return mixture

    @model_validator(mode="after")
    def _frames(self) -> Recipe:
        images = [c for c in self.configs if c != "ticks"]
        if images and any(isinstance(s, IndexSource) and not s.video for s in self.sources):
            raise ValueError(
                f"configs {', '.join(images)} need frames, but a source has `video: false`"
            )
        return self

    def normalised(self) -> dict:
        """The recipe as plain JSON data with every default filled in: what the fingerprint hashes
        and what the release records."""
        return json.loads(self.model_dump_json())


class _UniqueKeyLoader(yaml.SafeLoader):
    """`safe_load` that refuses a key given twice (YAML would keep the last one silently)."""

    def construct_mapping(self, node, deep=False):
        keys = [self.construct_object(k, deep=deep) for k, _ in node.value]
        for key in {k for k in keys if keys.count(k) > 1}:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} is given twice", node.start_mark
            )
        return super().construct_mapping(node, deep)


class RecipeError(ValueError):
    """A recipe that cannot be built; the message names the file and the bad key."""


def load_recipe(path: Path | str) -> Recipe:
    """Read and validate a recipe. Its paths stay as written (the release records them so);
    `resolve_source` makes them absolute against the recipe's folder when the build reads them."""
    path = Path(path)
    try:
        data = yaml.load(path.read_text(), Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader
    except OSError as exc:
        raise RecipeError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())
        raise RecipeError(f"{path}: not valid YAML: {detail}") from None
    if not isinstance(data, dict):
        raise RecipeError(
            f"{path}: a recipe is a YAML mapping of keys (name, version, sources, ...)"
        )
    try:
        recipe = Recipe.model_validate(data)
    except ValidationError as exc:
        # An unknown key is most often a typo: name it first.
        first = min(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        tags = ("folder", "index", "synth")
        key = ".".join(str(p) for p in first["loc"] if p not in tags) or "recipe"
        more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        message = first["msg"].removeprefix("Value error, ")
        raise RecipeError(f"{path}: {key}: {message}{more}") from None
    return recipe


def about_text(recipe: Recipe, base: Path) -> str:
    """The text of the recipe's `card.about` file ("" when it names none)."""
    if recipe.card.about is None:
        return ""
    path = recipe.card.about if recipe.card.about.is_absolute() else base / recipe.card.about
    try:
        return path.read_text()
    except OSError as exc:
        raise RecipeError(f"card.about: cannot read {recipe.card.about}: {exc.strerror}") from None


def resolve_source(source: Source, base: Path) -> Source:
    """The source with its relative paths made absolute against `base` (the recipe's folder)."""
    fields = {
        name: base / value
        for name in ("path", "index", "cache")
        if isinstance(value := getattr(source, name, None), Path) and not value.is_absolute()
    }
    return source.model_copy(update=fields)


def json_schema() -> dict:
    """The recipe's JSON Schema (`schemas/recipe.schema.json`)."""
    return Recipe.model_json_schema()


if __name__ == "__main__":  # regenerate schemas/recipe.schema.json
    print(json.dumps(json_schema(), indent=2))
