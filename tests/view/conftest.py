"""A small release of curate's world to view, and a real headless browser to view it in."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from curate.release.build import build

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture(scope="session")
def world(tmp_path_factory) -> tuple[Path, Path]:
    """(a release with the `ticks` config, the folder of its recordings)."""
    folder = tmp_path_factory.mktemp("view")
    recipe = folder / "recipe.yaml"
    recipe.write_text(json.dumps({
        "name": "viewed", "version": "0.1.0", "validation": 0.5, "configs": ["ticks"],
        "sources": [{"format": "synth", "episodes": 2, "seconds": 15, "cache": "synth"}],
    }))  # fmt: skip
    release = build(recipe, folder / "release").folder
    (recordings,) = (folder / "synth").iterdir()
    return release, recordings


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium, headless, driven through its own chromedriver: nothing downloaded."""
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("Debian's chromium and chromium-driver are not installed (apt-get install "
                    "chromium chromium-driver); the viewer's browser tests need them")  # fmt: skip
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # --allow-file-access-from-files only lets the test read back the pixels of a video beside
    # the page (a file:// neighbour taints a canvas); the page plays it without
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,900",
                "--hide-scrollbars", "--mute-audio", "--allow-file-access-from-files"):  # fmt: skip
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()
