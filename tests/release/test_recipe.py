"""Recipes: defaults, clear errors naming the bad key, paths relative to the recipe's folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.release.recipe import RecipeError, json_schema, load_recipe, resolve_source

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schemas" / "recipe.schema.json"
MINIMAL = "name: demo\nversion: 0.1.0\nsources:\n  - {format: vpt, path: raw}\n"


def recipe_file(tmp_path, text: str) -> Path:
    path = tmp_path / "recipe.yaml"
    path.write_text(text)
    return path


def test_minimal_recipe_gets_defaults(tmp_path):
    recipe = load_recipe(recipe_file(tmp_path, MINIMAL))
    data = recipe.normalised()
    assert data["configs"] == ["ticks"] and data["seed"] == 0 and data["validation"] == 0.1
    assert data["sources"][0]["path"] == "raw"  # as written, never absolute
    assert data["sources"][0]["video"] is True and data["sources"][0]["task"] is None
    assert list(data["labelers"]) == ["env", "vpt", "text", "motion", "instruction", "grounding"]
    assert data["labelers"]["text"] == {"mode": "reserved"}  # every default, for the fingerprint
    assert data["images"] == {"width": 640, "height": 360, "stride": 1, "quality": 90}


def test_relative_paths_resolve_against_the_recipe_folder(tmp_path):
    recipe = load_recipe(recipe_file(tmp_path, MINIMAL))
    assert resolve_source(recipe.sources[0], tmp_path).path == tmp_path / "raw"


def test_absolute_paths_are_published_by_their_last_part(tmp_path):
    recipe = load_recipe(recipe_file(tmp_path, MINIMAL.replace("path: raw", f"path: {tmp_path}/a")))
    assert recipe.normalised()["sources"][0]["path"] == ".../a"
    assert resolve_source(recipe.sources[0], tmp_path).path == tmp_path / "a"


def test_naming_a_labeler_enables_it_and_configs_enable_what_they_read(tmp_path):
    recipe = load_recipe(recipe_file(tmp_path, MINIMAL + "configs: [text_action]\n"))
    assert recipe.spaces() == ["text", "instruction"]
    recipe = load_recipe(
        recipe_file(tmp_path, MINIMAL + "configs: [text_action]\nlabelers: {vpt: {bins: 21}}\n")
    )
    assert recipe.spaces() == ["vpt", "text", "instruction"]
    assert recipe.labeler("vpt").params.bins == 21


@pytest.mark.parametrize(
    "text, message",
    [
        (MINIMAL.replace("path: raw", "pth: raw"), "sources.0.pth: Extra inputs are not permitted"),
        (MINIMAL.replace("0.1.0", "0.1"), "version: version must be MAJOR.MINOR.PATCH"),
        (MINIMAL + "configs: [ticks, text]\n", "configs.1: Input should be 'ticks'"),
        (MINIMAL + "images: {stride: 0}\n", "images.stride: Input should be greater than"),
        (MINIMAL + "colour: red\n", "colour: Extra inputs are not permitted"),
        (MINIMAL.replace("format: vpt", "format: mp4"), "sources.0.format: Input should be 'vpt'"),
        ("name: demo\nversion: 0.1.0\n", "sources: Field required"),
        ("- just\n- a list\n", "a recipe is a YAML mapping"),
        ("name: [unclosed\n", "not valid YAML"),
        (MINIMAL + "labelers: {text: {mdoe: compact}}\n", "labelers.text.mdoe: Extra inputs"),
        (MINIMAL + "labelers: {vpt: {bins: 13}}\n", "labelers.vpt.bins: Input should be 11 or 21"),
        (MINIMAL + "labelers: {txt: {}}\n", "labelers: unknown labeler 'txt'; this curate has"),
        (
            MINIMAL + "labelers: {toy: {from: 'no_such_module:Toy'}}\n",
            "labelers: labeler 'toy': cannot load 'no_such_module:Toy'",
        ),
        (
            MINIMAL + "labelers: {instruction: {families: [custom]}}\n",
            "labelers.instruction.families: the 'custom' family grows",
        ),
        (
            MINIMAL.replace("path: raw", "path: raw, video: false") + "configs: [motion_coa]\n",
            "need frames, but a source has `video: false`",
        ),
        (
            MINIMAL + "configs: [ticks, text_action]\nvalidate: {configs: [ticks]}\n",
            "validate.configs: ticks is not an SFT config of this recipe; name some of text_action",
        ),
        (
            "name: d\nversion: 0.1.0\nsources: [{format: synth, tasks: [craft_item:cake]}]\n",
            "sources.0.tasks: unknown task 'craft_item:cake'; the world has: mine_block:",
        ),
        (
            MINIMAL + "validate: {gate: {min: {exact_match: 0.3}}}\n",
            "validate.gate.min.exact_match.[key]: Input should be 'exact_action'",
        ),
        (
            MINIMAL.replace("path: raw", "path: raw, task_pattern: '(?P<x>a)'"),
            "sources.0.task_pattern: needs the named groups",
        ),
        (MINIMAL + "seed: 1\nseed: 2\n", "key 'seed' is given twice"),
        (MINIMAL + "mixture: {text_action: 0}\n", "mixture: mixture weights must be"),
        (
            "name: d\nversion: 0.1.0\nconfigs: [text_action]\n"
            "sources: [{index: i.json, video: false}]\n",
            "need frames, but a source has",
        ),
    ],
)
def test_bad_recipe_gives_one_clear_error(tmp_path, text, message):
    with pytest.raises(RecipeError) as info:
        load_recipe(recipe_file(tmp_path, text))
    assert message in str(info.value) and "recipe.yaml" in str(info.value)
    assert "\n" not in str(info.value)


def test_configs_are_deduplicated_in_contract_order(tmp_path):
    recipe = load_recipe(recipe_file(tmp_path, MINIMAL + "configs: [motion_coa, ticks, ticks]\n"))
    assert recipe.configs == ["ticks", "motion_coa"]


def test_schema_file_is_current():
    # regenerate with: python -m curate.release.recipe > schemas/recipe.schema.json
    assert json.loads(SCHEMA_FILE.read_text()) == json_schema()


def test_ready_recipes_load():
    for path in sorted((Path(__file__).resolve().parents[2] / "recipes").glob("*.yaml")):
        load_recipe(path)


@pytest.mark.parametrize("name", ["all-in-one", "openha-grounding", "openha-grounding-coa"])
def test_the_grounding_recipes_build(name, tmp_path):
    """Their configs, labelers and mixture build, on world recordings instead of their index."""
    from curate.release.build import build
    from curate.world.record import synthesize

    synthesize(tmp_path / "raw", episodes=2, seconds=10, seed=7)
    ready = Path(__file__).resolve().parents[2] / "recipes" / f"{name}.yaml"
    raw = yaml.safe_load(ready.read_text())
    raw |= {"sources": [{"format": "vpt", "path": "raw"}], "validation": 0.5,
            "images": {"width": 64, "height": 36, "stride": 4, "quality": 70}}  # fmt: skip
    raw["card"].pop("about", None)
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(raw))
    meta = build(path, tmp_path / "out").meta
    assert all(sum(split.values()) > 0 for split in meta.counts.values())
    assert any(c.startswith("grounding") for c in meta.counts)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300) | st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["name", "version", "sources", "configs", "format", "path", "images",
                         "width", "mixture", "labelers", "validate", "seed", "x"]), inner,
        max_size=5),
    max_leaves=20,
).map(lambda data: yaml.safe_dump(data)))  # fmt: skip
def test_any_recipe_text_loads_or_is_a_recipe_error(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fuzz") / "recipe.yaml"
    path.write_text(text)
    try:
        load_recipe(path)
    except RecipeError as exc:
        assert str(path) in str(exc) or "recipe" in str(exc).lower(), str(exc)


def test_a_recipe_is_data_a_python_tag_runs_nothing(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "recipe.yaml"
    path.write_text(f'name: !!python/object/apply:os.system ["touch {marker}"]\nversion: 0.1.0\n')
    with pytest.raises(RecipeError, match="not valid YAML: could not determine a constructor"):
        load_recipe(path)
    assert not marker.exists()
