"""The viewer in a real browser (Debian's chromium, headless): the page plays, scrubs and steps from
disk, and whatever it does, the labels beside the frame are those of the frame on screen and the
point drawn on it is that tick's grounding. A screenshot is kept in `test-artifacts/`."""

from __future__ import annotations

import base64
import io
import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import curate.view
from curate.contract import BINARY_ACTIONS
from curate.readers import read_episode
from curate.readers.video import iter_frames
from curate.view import view

from .test_view import rows_of

pytest.importorskip("selenium")
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LEFT = 74  # the timeline's track names, in CSS pixels, before tick 0
ON_SCREEN = """
const video = document.getElementById("video"), canvas = document.createElement("canvas");
canvas.width = video.videoWidth; canvas.height = video.videoHeight;
canvas.getContext("2d").drawImage(video, 0, 0);
return canvas.toDataURL("image/png");
"""


def shown(driver) -> int:
    return int(driver.find_element(By.ID, "labels").get_attribute("data-tick") or -1)


def settled(driver, tick: int | None = None) -> int:
    """The tick on screen once the video stands still (at `tick`, when given)."""

    def still(d) -> bool:
        moving = "const v = document.getElementById('video'); return v.seeking || !v.paused"
        return not d.execute_script(moving) and (tick is None or shown(d) == tick)

    WebDriverWait(driver, 15).until(still)
    time.sleep(0.2)  # a frame callback still on its way would change the tick: there is none
    return shown(driver)


def frame_on_screen(driver) -> np.ndarray:
    url = driver.execute_script(ON_SCREEN)
    image = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB")
    return np.asarray(image).astype(np.int16)


def check(driver, rows: list[dict], frames: list[np.ndarray], tick: int) -> None:
    """The frame on screen is frame `tick`, and every label beside it is that tick's."""
    assert shown(driver) == tick and driver.find_element(By.ID, "tick").text == str(tick)
    on_screen = frame_on_screen(driver)
    errors = {j: float(np.abs(on_screen - frames[j]).mean())
              for j in range(max(tick - 1, 0), min(tick + 2, len(frames)))}  # fmt: skip
    for j, error in errors.items():
        alike = float(np.abs(frames[tick] - frames[j]).mean()) < 1
        assert errors[tick] <= error or alike, (tick, errors)
    assert errors[tick] < 8, (tick, errors)
    row = rows[tick]
    text = {name: driver.find_element(By.ID, name).text for name in ("text", "motion", "grounding")}
    assert text == {"text": row["text_action"], "motion": row["motion_text"],
                    "grounding": row["grounding_text"] or "\u2013"}  # fmt: skip
    lit = {a: driver.find_element(By.ID, f"key-{a}").get_attribute("class") for a in BINARY_ACTIONS}
    pressed = {a for a, classes in lit.items() if "on" in (classes or "")}
    assert pressed == {a for a in BINARY_ACTIONS if row[a]}


def check_point(driver, row: dict) -> None:
    """The point drawn on the frame is where the tick's grounding says, with its verb and label."""
    x, y = row["grounding_point"]
    assert driver.find_element(By.ID, "point").get_attribute("data-point") == f"{x},{y}"
    dot = driver.find_element(By.ID, "point-dot").rect
    video = driver.find_element(By.ID, "video").rect
    cx = (dot["x"] + dot["width"] / 2 - video["x"]) / video["width"] * 1000
    cy = (dot["y"] + dot["height"] / 2 - video["y"]) / video["height"] * 1000
    assert abs(cx - x) < 3 and abs(cy - y) < 3, ((cx, cy), (x, y))
    label = driver.find_element(By.ID, "point-label").text
    assert label == f"{row['grounding_verb']} {row['grounding_label']}"


def scrub(driver, tick: int) -> None:
    driver.execute_script("const s = document.getElementById('scrubber'); s.value = arguments[0];"
                          "s.dispatchEvent(new Event('input'));", tick)  # fmt: skip


def press(driver, *keys: str) -> None:
    driver.find_element(By.TAG_NAME, "body").send_keys(*keys)


@pytest.fixture(scope="module")
def episode(world) -> tuple[Path, list[dict], list[np.ndarray]]:
    """The recording viewed: its page, its published rows and its source frames."""
    release, recordings = world
    source = recordings / "synth-0-001.jsonl"
    folder = release.parent / "pages"
    page = view(source, folder / "page.html", release).page
    frames = read_episode(source).frames
    assert frames is not None
    return page, rows_of(release, "synth-0-001"), [f.astype(np.int16) for f in iter_frames(frames)]


def test_the_page_plays_scrubs_and_steps_with_the_labels_of_the_frame_on_screen(browser, episode):
    page, rows, frames = episode
    browser.get(page.as_uri())
    check(browser, rows, frames, settled(browser, 0))
    fetched = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    assert not [url for url in fetched if not url.startswith(("data:", "file:"))]

    browser.find_element(By.ID, "play").click()
    WebDriverWait(browser, 15).until(lambda d: shown(d) >= 30)
    browser.find_element(By.ID, "play").click()
    check(browser, rows, frames, settled(browser))
    Select(browser.find_element(By.ID, "rate")).select_by_value("2")
    for _ in range(12):  # paused at twice the speed: at times between a frame and its callback
        press(browser, Keys.HOME, " ")
        WebDriverWait(browser, 15).until(lambda d: shown(d) >= 7)
        press(browser, " ")
        check(browser, rows, frames, settled(browser))

    moving = [t for t in range(2, len(rows) - 30) if rows[t]["grounding_point"]
              and float(np.abs(frames[t] - frames[t + 1]).mean()) > 5
              and float(np.abs(frames[t] - frames[t - 1]).mean()) > 5]  # fmt: skip
    assert moving, "no grounded tick whose frame differs from both neighbours"
    target = moving[len(moving) // 2]
    scrub(browser, target)
    check(browser, rows, frames, settled(browser, target))
    check_point(browser, rows[target])
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "viewer.png"))

    press(browser, Keys.ARROW_RIGHT)
    check(browser, rows, frames, settled(browser, target + 1))
    press(browser, Keys.ARROW_LEFT, Keys.ARROW_LEFT)
    check(browser, rows, frames, settled(browser, target - 1))
    press(browser, Keys.SHIFT, Keys.ARROW_RIGHT)  # a second on
    check(browser, rows, frames, settled(browser, target + 19))
    press(browser, Keys.END)
    check(browser, rows, frames, settled(browser, len(rows) - 1))
    for tick, within in ((target, 0.8), (target + 5, 0.2)):  # a click on the timeline's strip
        timeline = browser.find_element(By.ID, "timeline")
        width = timeline.rect["width"]
        x = LEFT + (width - LEFT) * (tick + within) / len(rows)
        clicked = ActionChains(browser).move_to_element_with_offset(timeline, x - width / 2, 0)
        clicked.click().perform()
        check(browser, rows, frames, settled(browser, tick))
    assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def test_a_video_beside_the_page_plays_from_disk_too(browser, world, tmp_path, monkeypatch):
    release, recordings = world
    monkeypatch.setattr(curate.view, "EMBED_MAX_BYTES", 0)
    source = recordings / "synth-0-000.jsonl"
    viewed = view(source, tmp_path / "page.html", release)
    assert viewed.video is not None
    frames = read_episode(source).frames
    assert frames is not None
    decoded = [f.astype(np.int16) for f in iter_frames(frames)]
    rows = rows_of(release, "synth-0-000")
    browser.get(viewed.page.as_uri())
    check(browser, rows, decoded, settled(browser, 0))
    browser.find_element(By.ID, "next").click()
    check(browser, rows, decoded, settled(browser, 1))


def test_text_from_a_release_is_shown_as_text_never_run(browser, world, tmp_path):
    release, recordings = world
    copy = shutil.copytree(release, tmp_path / "release")
    report = json.loads((copy / "meta" / "qa.json").read_text())
    markup = "<img src=x onerror=\"document.title='run'\">"
    report["checks"]["camera_axes"]["values"]["synth-0-000"] = markup
    (copy / "meta" / "qa.json").write_text(json.dumps(report))
    page = view(recordings / "synth-0-000.jsonl", tmp_path / "page.html", copy).page
    browser.get(page.as_uri())
    settled(browser, 0)
    assert browser.title == "synth-0-000 \u00b7 curate view"
    cells = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#qa td")]
    assert markup in cells
