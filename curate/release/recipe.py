"""Recipes: one YAML file that declares a release, validated before any work starts.

Every key is checked by pydantic, so a typo or a bad value fails at once with the key's path;
unknown keys are refused rather than ignored, because a silently ignored key builds a dataset
other than the one the author asked for.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

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
from pydantic_core import PydanticCustomError

from curate.formats import CONFIGS, MIXTURE_FORMS, Config, config_spaces
from curate.labelers import BUILTIN, Labeler, LabelerError, labeler_class, registry

SEMVER = re.compile(r"^\d+\.\d+\.\d+$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# A rollout's task from its name, by OpenHA's naming (`20251014-230524_reset_0_craft_item:arrow`).
OPENHA_TASK = (
    r"(?:^|_)(?P<family>mine_block|craft_item|kill_entity|use_item|pickup)[:_](?P<object>\w+)$"
)


class FolderSource(Strict):
    """Recordings already on disk: VPT `.jsonl` (+ `.mp4`) files or MineStudio rollout folders."""

    format: Literal["vpt", "minestudio"]
    path: Path
    video: bool = True  # VPT: each .jsonl has its .mp4; `false` for action-only releases
    # What the player was asked to do (`craft_item:arrow`): the instruction where events give
    # none. Without it, `task_pattern` takes it from each recording's name (its groups `family`
    # and `object`); `null` takes none.
    task: Annotated[str, Field(pattern=r"^\w+:\w+$")] | None = None
    task_pattern: str | None = OPENHA_TASK

    @field_validator("task_pattern")
    @classmethod
    def _pattern(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                groups = re.compile(pattern).groupindex
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
            if not {"family", "object"} <= groups.keys():
                raise ValueError("needs the named groups (?P<family>...) and (?P<object>...)")
        return pattern


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
    # the tasks every episode plays in turn (`craft_item:crafting_table`); default: drawn at random
    tasks: list[str] | None = None

    @field_validator("tasks")
    @classmethod
    def _known(cls, tasks: list[str] | None) -> list[str] | None:
        from curate.world.tasks import check_tasks  # only a synth source imports the world

        return None if tasks is None else check_tasks(tasks)


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


class Qa(Strict):
    """Label-QA thresholds (`curate.qa`): an episode whose value is over one (for camera_lag,
    camera_gain and gui_lag: further than it from the right value) is flagged, a warning in the
    card and, with `--strict`, a failed build. camera_axes has none: any value but "ok" is
    flagged."""

    camera_lag: Annotated[int, Field(ge=0)] = 0  # ticks away from the contract's lag of 1
    camera_gain: Annotated[float, Field(ge=0)] = 0.12  # relative error of the view's move
    noop_while_moving: Annotated[int, Field(ge=0)] = 10  # ticks
    frozen_frames: Annotated[int, Field(ge=0)] = 10  # ticks
    gui_lag: Annotated[int, Field(ge=0)] = 0  # ticks
    stuck_input: Annotated[float, Field(ge=0)] = 60.0  # seconds
    orphan_events: Annotated[int, Field(ge=0)] = 0  # events per episode
    camera_clipped: Annotated[float, Field(ge=0, le=1)] = 0.05  # share of ticks


class Images(Strict):
    width: Annotated[int, Field(ge=16, le=1920)] = 640
    height: Annotated[int, Field(ge=16, le=1080)] = 360
    stride: Annotated[int, Field(ge=1)] = 1  # one SFT row per `stride` ticks (section 2a)
    quality: Annotated[int, Field(ge=1, le=100)] = 90


PromptForm = Literal["text_action", "motion_action", "grounding_action", "motion_coa",
                     "grounding_coa"]  # fmt: skip


class Card(Strict):
    license: str = "mit"
    description: str = ""  # the card's opening paragraph
    about: Path | None = None  # a markdown file (data_cards/) shown as the card's "About" section


Metric = Literal[
    "exact_action", "camera_bins", "key_f1", "parse_rate", "motion_exact", "grounding_verb"
]


class Gate(Strict):
    """When `curate validate` passes: the model's `exact_action` interval lies above each named
    baseline's, and each named figure of the model reaches its minimum."""

    beat: list[Literal["noop", "majority", "previous"]] = ["noop", "majority"]
    min: dict[Metric, Annotated[float, Field(ge=0, le=1)]] = {}  # e.g. {exact_action: 0.3}


class ClosedLoop(Strict):
    """The closed-loop part of `curate validate`: the model plays curate's world (releases with
    a world source), `episodes` seeded episodes of each task, each at most `max_steps` ticks."""

    episodes: Annotated[int, Field(ge=0)] = 5  # 0: offline figures only
    max_steps: Annotated[int, Field(ge=1)] = 300


class Validate(Strict):
    """How `curate validate` checks a release: it says how to check the data, not what the data
    is, so it is not part of the fingerprint."""

    configs: list[Config] | None = None  # default: all_in_one when built, else every SFT config
    steps: Annotated[int, Field(ge=1)] = 500
    seeds: Annotated[list[int], Field(min_length=1)] = [0]
    batch_size: Annotated[int, Field(ge=1)] = 32
    image_size: tuple[Annotated[int, Field(ge=16)], Annotated[int, Field(ge=16)]] = (64, 36)
    gate: Gate = Field(default_factory=Gate)
    closed_loop: ClosedLoop = Field(default_factory=ClosedLoop)


class Recipe(Strict):
    """A release: what to read, how to label it, what to emit."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    version: str
    seed: int = 0
    sources: Annotated[list[Source], Field(min_length=1)]
    configs: Annotated[list[Config], Field(min_length=1)] = ["ticks"]  # pydantic copies it
    filters: Filters = Field(default_factory=Filters)
    qa: Qa = Field(default_factory=Qa)
    # space -> its labeler's parameters (the labeler's `Params`); `from: module:Class` names a
    # labeler of another package. Naming a space enables its labeler.
    labelers: dict[str, dict[str, Any]] = Field(default_factory=dict)
    history: Annotated[int, Field(ge=0, le=16)] = 0  # earlier frames per SFT row
    # How SFT rows hold their conversation: `messages`, or `prompt` and `completion` (TRL's
    # completion-only loss then trains the answer alone, as OpenHA trains).
    layout: Literal["messages", "prompt_completion"] = "messages"
    # form -> a text file whose text replaces curate's prompt of that form (OpenHA's prompt files,
    # for fine-tuning OpenHA's checkpoints); the task line follows it as with curate's prompts
    prompts: dict[PromptForm, Path] = {}
    images: Images = Field(default_factory=Images)
    mixture: dict[str, float] = {"text_action": 1.0, "motion_coa": 1.0, "grounding_coa": 1.0}
    validation: Annotated[float, Field(ge=0, lt=1)] = 0.1  # share of episodes, by id hash
    # The build fails when a larger share of the recordings is quarantined: a wrong `format:`
    # or a broken source should not "succeed" with little in it.
    max_quarantined: Annotated[float, Field(ge=0, le=1)] = 0.2
    # A recording whose files together are larger is quarantined before it is read: its jsonl
    # (or a MineStudio rollout's) is held in memory while its episode is built.
    max_recording_bytes: Annotated[int, Field(ge=1)] = 4_000_000_000
    card: Card = Field(default_factory=Card)
    validate_: Validate = Field(default_factory=Validate, alias="validate")

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
        unknown = sorted(set(mixture) - set(MIXTURE_FORMS))
        if unknown:
            raise ValueError(
                f"unknown form {unknown[0]!r}; the forms are {', '.join(MIXTURE_FORMS)}"
            )
        if any(w < 0 for w in mixture.values()) or not sum(mixture.values()) > 0:
            raise ValueError("mixture weights must be >= 0 with a positive sum")
        if not any(w > 0 for f, w in mixture.items() if f != "grounding_coa"):
            raise ValueError(
                "the mixture needs a weight on text_action or motion_coa too: a tick without "
                "grounding has no grounding_coa row and draws its form among the others"
            )
        return mixture

    @field_validator("labelers")
    @classmethod
    def _labelers(cls, labelers: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Each entry checked against its labeler's `Params`, defaults filled in."""
        checked = {}
        for space, entry in labelers.items():
            params = dict(entry or {})
            target = params.pop("from", None)
            try:
                labeler = labeler_class(space, target)
                values = labeler.Params.model_validate(params).model_dump(mode="json")
            except LabelerError as exc:
                context = {"where": "", "message": str(exc)}
                raise PydanticCustomError("labeler", "{message}", context) from None
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in (space, *first["loc"]))
                raise PydanticCustomError(
                    "labeler",
                    "{message}",
                    {"where": where, "message": first["msg"].removeprefix("Value error, ")},
                ) from None
            checked[space] = {**({"from": target} if target else {}), **values}
        return checked

    @model_validator(mode="after")
    def _validated_configs(self) -> Recipe:
        wrong = [c for c in self.validate_.configs or () if c == "ticks" or c not in self.configs]
        if wrong:
            raise ValueError(
                f"validate.configs: {wrong[0]} is not an SFT config of this recipe; name some of "
                f"{', '.join(c for c in self.configs if c != 'ticks') or 'none'}"
            )
        return self

    @model_validator(mode="after")
    def _prompted_forms_are_built(self) -> Recipe:
        built: set[str] = {c for c in self.configs if c != "ticks"}
        if "all_in_one" in built:
            built |= {form for form, weight in self.mixture.items() if weight > 0}
        unused = [form for form in self.prompts if form not in built]
        if unused:
            raise ValueError(
                f"prompts.{unused[0]}: this recipe builds no {unused[0]} rows (configs: "
                f"{', '.join(self.configs)}); remove it, or add the config"
            )
        return self

    @model_validator(mode="after")
    def _frames(self) -> Recipe:
        images = [c for c in self.configs if c != "ticks"]
        no_video = [s for s in self.sources if isinstance(s, IndexSource | FolderSource)
                    and not s.video]  # fmt: skip
        if images and no_video:
            raise ValueError(
                f"configs {', '.join(images)} need frames, but a source has `video: false`"
            )
        return self

    def spaces(self) -> list[str]:
        """The labelers this recipe runs: those its configs read, and those it names, in the
        registry's order (curate's own first)."""
        wanted = set(self.labelers)
        for config in self.configs:
            wanted.update(config_spaces(config, self.mixture))
        known = list(registry())
        return sorted(wanted, key=lambda s: (known.index(s) if s in known else len(known), s))

    def labeler(self, space: str) -> Labeler:
        """The labeler of `space` with this recipe's parameters and seed."""
        params = dict(self.labelers.get(space, {}))
        cls = labeler_class(space, params.pop("from", None))
        return cls(cls.Params.model_validate(params), seed=self.seed)

    def normalised(self) -> dict:
        """The recipe as plain JSON data with every default filled in, the parameters of every
        labeler it runs included: what the fingerprint hashes and what the release records."""
        data = json.loads(self.model_dump_json(by_alias=True))
        for source in data["sources"]:
            for key in ("path", "index", "cache"):
                if key in source:
                    source[key] = _published(source[key])
        if data["card"]["about"]:
            data["card"]["about"] = _published(data["card"]["about"])
        prompts = sorted(data.pop("prompts").items())
        if prompts:  # absent when empty: a recipe without them normalises as before
            data["prompts"] = {form: _published(path) for form, path in prompts}
        for space in self.spaces():
            if space not in data["labelers"]:
                data["labelers"][space] = self.labeler(space).params.model_dump(mode="json")
        data["labelers"] = {space: data["labelers"][space] for space in self.spaces()}
        return data


def _published(path: str) -> str:
    """A recipe path as a release records it: as written when relative to the recipe, an
    absolute one by its last part only (`.../vpt`), so no release tells where its builder keeps
    files (the inputs are named by their hashes, not their place)."""
    return f".../{Path(path).name}" if Path(path).is_absolute() else path


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
    """Read and validate a recipe. Its paths stay as written; `resolve_source` makes them absolute
    against the recipe's folder when the build reads them."""
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
        if first["type"] == "labeler" and first["ctx"]["where"]:
            key = f"{key}.{first['ctx']['where']}"
        more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        message = first["msg"].removeprefix("Value error, ")
        raise RecipeError(f"{path}: {key}: {message}{more}") from None
    return recipe


def about_text(recipe: Recipe, base: Path) -> str:
    """The text of the recipe's `card.about` file ("" when it names none)."""
    if recipe.card.about is None:
        return ""
    path = base / recipe.card.about  # an absolute `about` stays itself
    try:
        return path.read_text()
    except OSError as exc:
        raise RecipeError(f"card.about: cannot read {recipe.card.about}: {exc.strerror}") from None


def prompt_texts(recipe: Recipe, base: Path) -> dict[str, str]:
    """form -> the text of the recipe's prompt file for it."""
    texts: dict[str, str] = {}
    for form, path in sorted(recipe.prompts.items()):
        try:
            texts[form] = (base / path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise RecipeError(f"prompts.{form}: cannot read {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise RecipeError(f"prompts.{form}: {path} is not UTF-8 text") from None
        if not texts[form]:
            raise RecipeError(f"prompts.{form}: {path} is empty")
    return texts


def resolve_source(source: Source, base: Path) -> Source:
    """The source with its relative paths made absolute against `base`, the recipe's folder."""
    fields = {
        name: base / value
        for name in ("path", "index", "cache")
        if isinstance(value := getattr(source, name, None), Path)
    }
    return source.model_copy(update=fields)


def json_schema() -> dict:
    """The recipe's JSON Schema (`schemas/recipe.schema.json`), with the parameters of curate's
    own labelers under `labelers`."""
    schema = Recipe.model_json_schema()
    schema["properties"]["labelers"]["properties"] = {
        space: labeler_class(space).Params.model_json_schema() for space in BUILTIN
    }
    return schema


if __name__ == "__main__":  # regenerate schemas/recipe.schema.json
    print(json.dumps(json_schema(), indent=2))
