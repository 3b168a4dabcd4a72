"""The motion labeler: every phrase, GUI variants, the inventory / GUI state machine, ties, runs,
chunks, and agreement with real MineStudio rollouts and scripted synthetic play."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.contract import BINARY_ACTIONS
from curate.episode import TICK_SCHEMA, Episode
from curate.labelers.motion import NO_OP, SLOTS, MotionLabeler, chunk_motions

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "real"


def make_ticks(n: int, **columns) -> pa.Table:
    """A tick table of `n` ticks matching TICK_SCHEMA: given columns as lists (or one value for
    every tick), the rest 0 / False / empty; cursor and pose null."""
    data = {}
    for field in TICK_SCHEMA:
        value = columns.pop(field.name, None)
        if value is None:
            if field.name == "tick":
                value = list(range(n))
            elif field.name == "events":
                value = [[] for _ in range(n)]
            elif field.nullable:
                value = [None] * n
            elif pa.types.is_boolean(field.type):
                value = [False] * n
            else:
                value = [0] * n
        elif not isinstance(value, list | tuple | np.ndarray):
            value = [value] * n
        data[field.name] = pa.array(list(value), type=field.type)
    assert not columns, f"unknown columns {sorted(columns)}"
    return pa.table(data, schema=TICK_SCHEMA)


def on(n: int, *ticks: int) -> list[int]:
    """A binary column of `n` ticks that is 1 on `ticks`."""
    return [int(i in ticks) for i in range(n)]


def texts(table: pa.Table, episode_id: str = "ep", seed: int = 0, **params) -> list[str]:
    labeler = MotionLabeler(seed=seed, **params)
    labels = labeler.label(Episode(episode_id, "test", table))
    return labeler.fields(labels)["text"].to_list()


def one(**columns) -> str:
    """The label of a one-tick table."""
    return texts(make_ticks(1, **columns))[0]


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        ({}, "no_op"),
        ({"forward": 1}, "move forward"),
        ({"back": 1}, "move back"),
        ({"left": 1}, "move left"),
        ({"right": 1}, "move right"),
        ({"forward": 1, "left": 1}, "move forward and move left"),
        ({"back": 1, "right": 1}, "move back and move right"),
        ({"sprint": 1}, "sprint"),
        ({"sneak": 1}, "sneak"),
        ({"camera_yaw": -2.0}, "turn left"),
        ({"camera_yaw": 0.15}, "turn right"),
        ({"camera_pitch": -1.0}, "turn up"),
        ({"camera_pitch": 3.0}, "turn down"),
        ({"camera_yaw": -2.0, "camera_pitch": -1.0}, "turn left and up"),
        ({"camera_yaw": 2.0, "camera_pitch": 1.0}, "turn right and down"),
        ({"attack": 1}, "attack / mine"),
        ({"use": 1}, "use / place"),
        ({"attack": 1, "use": 1}, "attack / mine and use / place"),
        ({"jump": 1}, "jump"),
        ({"drop": 1}, "drop"),
        ({"swapHands": 1}, "swap"),
        ({"hotbar.3": 1}, "switch to hotbar 3"),
        ({"hotbar.2": 1, "hotbar.7": 1}, "switch to hotbar 7"),
        ({"hotbar.9": 1, "hotbar.1": 1}, "switch to hotbar 9"),
        ({"ESC": 1, "pickItem": 1}, "no_op"),  # no motion phrase for these keys
    ],
)
def test_every_phrase_without_gui(columns, expected):
    assert one(**columns) == f"Motion: {expected}"


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        ({"camera_yaw": -2.0}, "cursor move left"),
        ({"camera_yaw": 2.0}, "cursor move right"),
        ({"camera_pitch": -2.0}, "cursor move up"),
        ({"camera_pitch": 2.0}, "cursor move down"),
        ({"camera_yaw": 2.0, "camera_pitch": 2.0}, "cursor move right and down"),
        ({"camera_yaw": -2.0, "camera_pitch": -2.0}, "cursor move left and up"),
        ({"attack": 1}, "operate gui"),
        ({"use": 1}, "choose"),
        # Movement, sprint/sneak and jump do nothing with a GUI open; drop, swap, hotbar do.
        ({"forward": 1, "left": 1, "sprint": 1, "jump": 1}, "no_op"),
        ({"drop": 1, "swapHands": 1, "hotbar.4": 1}, "drop, swap, switch to hotbar 4"),
    ],
)
def test_every_phrase_with_gui(columns, expected):
    assert one(gui_open=True, **columns) == f"Motion: {expected}"


def test_slot_order_and_keyboard_order():
    columns = {"forward": 1, "right": 1, "sprint": 1, "camera_yaw": 1.5, "camera_pitch": -0.3}
    columns |= {"attack": 1, "jump": 1, "drop": 1, "swapHands": 1, "hotbar.2": 1, "inventory": 1}
    assert one(**columns) == (
        "Motion: move forward and move right, sprint, turn right and up, attack / mine, "
        "jump, drop, swap, switch to hotbar 2, open inventory"
    )


def test_slot_columns():
    table = make_ticks(2, forward=[1, 0], camera_yaw=[0.0, -1.0], gui_open=[False, True])
    labels = MotionLabeler().label(Episode("ep", "test", table))
    assert labels.columns == [
        "motion_text",
        "motion_move",
        "motion_move_state",
        "motion_camera",
        "motion_mouse",
        "motion_keyboard",
    ]
    assert labels.row(0) == (
        "Motion: move forward, open gui",
        "move forward",
        None,
        None,
        None,
        "open gui",
    )
    assert labels.row(1) == ("Motion: cursor move left", None, None, "cursor move left", None, None)


def test_gui_edge_splits_camera_runs():
    # The same mouse motion turns the view, then moves the cursor once the frame shows a GUI.
    table = make_ticks(4, camera_yaw=1.0, gui_open=[False, False, True, True])
    got = texts(table)
    assert got[:2] == ["Motion: turn right", "Motion: turn right, open gui"]
    assert got[2:] == ["Motion: cursor move right"] * 2
    # Two runs of two ticks, not one of four: a minimum of three drops both.
    assert texts(table, min_run=3) == [NO_OP, "Motion: open gui", NO_OP, NO_OP]


# --- inventory key and GUI edges ---


def gui_phrases(table: pa.Table) -> dict[int, str]:
    labels = MotionLabeler().label(Episode("ep", "test", table))
    keyboard = labels["motion_keyboard"].to_list()
    return {t: k for t, k in enumerate(keyboard) if k}


def test_inventory_press_and_hold_toggle_once():
    # E held 2..4 opens the inventory (GUI from tick 3), E held 10..11 closes it (closed from 12).
    n = 15
    inventory = [int(2 <= t <= 4 or 10 <= t <= 11) for t in range(n)]
    gui = [3 <= t <= 11 for t in range(n)]
    phrases = gui_phrases(make_ticks(n, inventory=inventory, gui_open=gui))
    assert phrases == {
        2: "open inventory",
        3: "open inventory",
        4: "open inventory",
        10: "close inventory",
        11: "close inventory",
    }


def test_gui_edges_without_inventory_key():
    # A crafting table opens after a use click (GUI seen from tick 4) and closes (closed from 9).
    n = 12
    table = make_ticks(n, use=on(n, 1), gui_open=[4 <= t <= 8 for t in range(n)])
    got = texts(table)
    assert got[1] == "Motion: use / place"
    assert got[3] == "Motion: open gui"  # the last tick before the GUI shows: its action opened it
    assert got[8] == "Motion: close gui"
    assert [t for t, s in enumerate(got) if s != NO_OP] == [1, 3, 8]


def test_inventory_closed_by_escape_resyncs_the_toggle():
    # E opens the inventory, ESC closes it ("close gui"), the next E opens it again.
    n = 20
    inventory = on(n, 2, 15)
    gui = [3 <= t <= 9 or t >= 16 for t in range(n)]
    phrases = gui_phrases(make_ticks(n, inventory=inventory, ESC=on(n, 9), gui_open=gui))
    assert phrases == {2: "open inventory", 9: "close gui", 15: "open inventory"}


def test_inventory_quick_presses_toggle_before_the_gui_shows_them():
    # Two presses two ticks apart: the GUI state lags, the second press closes by the toggle.
    n = 10
    phrases = gui_phrases(make_ticks(n, inventory=on(n, 2, 4)))
    assert phrases == {2: "open inventory", 4: "close inventory"}


def test_inventory_key_closes_a_gui_open_at_the_start():
    n = 6
    phrases = gui_phrases(make_ticks(n, inventory=on(n, 1), gui_open=[t <= 1 for t in range(n)]))
    assert phrases == {1: "close inventory"}


def test_gui_edge_at_the_last_tick_has_no_phrase():
    # No tick after the last one, so the last tick has no edge of its own.
    got = texts(make_ticks(3, gui_open=[False, False, True]))
    assert got == [NO_OP, "Motion: open gui", NO_OP]


# --- ties ---

TIE_PAIRS = [
    ({"forward": 1, "back": 1}, False, {"Motion: move forward", "Motion: move back"}),
    ({"left": 1, "right": 1}, False, {"Motion: move left", "Motion: move right"}),
    ({"sprint": 1, "sneak": 1}, False, {"Motion: sprint", "Motion: sneak"}),
    ({"attack": 1, "use": 1}, True, {"Motion: operate gui", "Motion: choose"}),
]


def tied_episode(columns: dict, gui: bool, runs: int = 40) -> pa.Table:
    """`runs` separate two-tick runs of a tied pair, each after a tick of rest."""
    n = 3 * runs
    tied = [int(t % 3 != 0) for t in range(n)]
    return make_ticks(n, gui_open=gui, **{k: tied for k in columns})


@pytest.mark.parametrize(("columns", "gui", "phrases"), TIE_PAIRS)
def test_ties_are_seeded_per_episode(columns, gui, phrases):
    table = tied_episode(columns, gui)
    first = texts(table, "episode-a")
    assert first == texts(table, "episode-a")  # same seed and id: same labels
    tied = [s for t, s in enumerate(first) if t % 3]
    assert set(tied) == phrases  # both sides are drawn over 40 runs
    assert all(first[t] == first[t + 1] for t in range(1, len(first), 3))  # one draw per run
    assert first != texts(table, "episode-b")  # another id draws otherwise
    assert first != texts(table, "episode-a", seed=1)  # and so does another seed


@pytest.mark.parametrize(("columns", "gui", "phrases"), TIE_PAIRS)
def test_tie_continues_the_run_before_it(columns, gui, phrases):
    first_key, second_key = columns
    n = 6
    table = make_ticks(n, gui_open=gui, **{first_key: on(n, 0, 1, 2), second_key: on(n, 1, 2, 3)})
    got = texts(table)
    first_phrase = one(gui_open=gui, **{first_key: 1})
    second_phrase = one(gui_open=gui, **{second_key: 1})
    assert got[:4] == [first_phrase] * 3 + [second_phrase]


def test_attack_and_use_without_gui_is_no_tie():
    assert texts(tied_episode({"attack": 1, "use": 1}, False, runs=3))[1] == (
        "Motion: attack / mine and use / place"
    )


# --- run thresholds ---


def test_min_run_drops_short_runs_of_every_run_channel():
    n = 12
    table = make_ticks(
        n,
        forward=on(n, 0, 1),  # 2 ticks
        left=on(n, 4, 5, 6),  # 3 ticks
        camera_yaw=[1.0 if t in (8, 9) else -1.0 if t == 10 else 0.0 for t in range(n)],
    )
    assert texts(table)[0] == "Motion: move forward"  # default: every run counts
    got = texts(table, min_run=3)
    assert got[:2] == [NO_OP] * 2
    assert got[4:7] == ["Motion: move left"] * 3
    assert got[8:11] == [NO_OP] * 3


def test_min_turn_deg_drops_small_camera_runs():
    n = 9
    yaw = [1.0, 1.0, 1.0, 0.0, 2.0, 2.0, 2.0, 0.0, 0.0]
    pitch = [0.0] * 7 + [-4.0, -1.5]
    got = texts(make_ticks(n, camera_yaw=yaw, camera_pitch=pitch), min_turn_deg=5.0)
    assert got[:3] == [NO_OP] * 3  # 3 degrees in all
    assert got[4:7] == ["Motion: turn right"] * 3  # 6 degrees
    assert got[7:] == ["Motion: turn up"] * 2  # 5.5 degrees
    cursor = texts(make_ticks(n, camera_yaw=yaw, gui_open=True), min_turn_deg=5.0)
    assert cursor[:3] == [NO_OP] * 3 and cursor[4] == "Motion: cursor move right"


def test_bad_parameters_are_refused():
    for bad in ({"min_run": -1}, {"chunk": 0}, {"stride": 0}, {"keep_noop": 1.5}):
        with pytest.raises(ValueError):
            MotionLabeler(**bad)


def test_empty_episode():
    assert texts(make_ticks(0)) == []


KEYS = (*BINARY_ACTIONS[:11], "hotbar.2", "hotbar.5", "swapHands")  # forward .. inventory, some


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_property_one_label_per_tick_gui_aware_in_slot_order(data):
    n = data.draw(st.integers(1, 40))
    bits = st.lists(st.integers(0, 1), min_size=n, max_size=n)
    degrees = st.lists(st.sampled_from([0.0, 0.15, -0.15, 3.0, -7.5]), min_size=n, max_size=n)
    columns = {key: data.draw(bits) for key in KEYS}
    columns |= {"camera_yaw": data.draw(degrees), "camera_pitch": data.draw(degrees)}
    gui = [bool(b) for b in data.draw(bits)]
    table = make_ticks(n, gui_open=gui, **columns)
    labels = MotionLabeler(min_run=data.draw(st.integers(0, 3))).label(Episode("p", "t", table))
    assert labels.height == n
    for row, open_ in zip(labels.iter_rows(named=True), gui, strict=True):
        phrases = [row[f"motion_{slot}"] for slot in SLOTS if row[f"motion_{slot}"]]
        assert row["motion_text"] == ("Motion: " + ", ".join(phrases) if phrases else NO_OP)
        camera, mouse = row["motion_camera"] or "", row["motion_mouse"]
        keyboard = (row["motion_keyboard"] or "").split(", ")
        if open_:
            assert row["motion_move"] is None and row["motion_move_state"] is None, row
            assert camera.startswith("cursor move") or not camera, row
            assert mouse in (None, "operate gui", "choose") and "jump" not in keyboard, row
        else:
            assert camera.startswith("turn ") or not camera, row
            assert mouse not in ("operate gui", "choose"), row


# --- chunks ---


def chunk_rows(text: list[str], **params) -> list[tuple]:
    labels = pl.DataFrame({"motion_text": text})
    return chunk_motions(labels, rng=np.random.default_rng(0), **params).rows()


JUMP, FWD = "Motion: jump", "Motion: move forward"


def test_chunks_take_their_first_tick_label():
    text = [JUMP, FWD, FWD, NO_OP, FWD, FWD, FWD]
    assert chunk_rows(text, chunk=3, stride=3) == [(0, 2, JUMP), (3, 5, NO_OP), (6, 6, FWD)]
    assert chunk_rows(text, chunk=3, stride=2) == [
        (0, 2, JUMP),
        (2, 4, FWD),
        (4, 6, FWD),
        (6, 6, FWD),
    ]


def test_chunks_merge_touching_identical_labels_only():
    text = [JUMP, FWD, FWD, NO_OP, FWD, FWD, FWD]
    assert chunk_rows(text, merge=True) == [(0, 0, JUMP), (1, 2, FWD), (3, 3, NO_OP), (4, 6, FWD)]
    # Dropping the no-op leaves a gap, so the two forward runs stay apart (as in OpenHA).
    assert chunk_rows(text, merge=True, keep_noop=0.0) == [(0, 0, JUMP), (1, 2, FWD), (4, 6, FWD)]
    # With gaps between windows, equal neighbours do not touch either.
    assert chunk_rows([FWD] * 6, chunk=2, stride=3, merge=True) == [(0, 1, FWD), (3, 4, FWD)]
    assert chunk_rows([FWD] * 6, chunk=3, stride=2, merge=True) == [(0, 5, FWD)]


def test_keep_noop_keeps_a_seeded_fraction():
    text = [NO_OP] * 2000
    kept = chunk_rows(text, keep_noop=0.25)
    assert kept == chunk_rows(text, keep_noop=0.25)
    assert 400 < len(kept) < 600
    assert chunk_rows(text, keep_noop=1.0)[-1] == (1999, 1999, NO_OP)
    with pytest.raises(ValueError, match="rng"):
        chunk_motions(pl.DataFrame({"motion_text": text}), keep_noop=0.5)


def test_labeler_chunks_use_tick_numbers_and_the_episode_seed():
    table = make_ticks(6, forward=on(6, 0, 1, 2, 3))
    labeler = MotionLabeler(chunk=2, stride=2, merge=True, keep_noop=0.0)
    labels = labeler.label(Episode("ep", "test", table)).with_columns(tick=pl.Series(range(5, 11)))
    assert labeler.chunks(labels, "ep").rows() == [(5, 8, FWD)]


# --- real MineStudio rollouts ---


def test_real_minestudio_rollouts():
    if not (REAL / "CraftJarvis__OpenHA").is_dir():
        pytest.skip("real MineStudio rollouts not present")
    minestudio = pytest.importorskip("curate.readers.minestudio")
    folders = sorted(p for p in (REAL / "CraftJarvis__OpenHA").iterdir() if p.is_dir())
    assert folders
    gui_ticks = 0
    for folder in folders:
        episode = minestudio.read_minestudio(folder)
        labels = MotionLabeler().label(episode)
        text = labels["motion_text"].to_list()
        assert len(text) == len(episode) and all(s.startswith("Motion: ") for s in text)
        ticks = pl.from_arrow(episode.ticks)
        view_only = ("move ", "sprint", "sneak", "turn ", "attack / mine", "use / place", "jump")
        gui_only = ("cursor move", "operate gui", "choose")
        for t, (s, gui) in enumerate(zip(text, ticks["gui_open"], strict=True)):
            moved = ticks["camera_yaw"][t] != 0 or ticks["camera_pitch"][t] != 0
            if gui:
                gui_ticks += 1
                assert not any(p in s for p in view_only), (folder.name, t, s)
                assert ("cursor move" in s) == moved
            else:
                assert not any(p in s for p in gui_only), (folder.name, t, s)
                assert ("turn " in s) == moved
        # Every GUI opening seen in the recording is labelled on the tick that caused it.
        gui = ticks["gui_open"].to_list()
        for t in range(len(gui) - 1):
            if gui[t + 1] != gui[t] and not ticks["inventory"][t]:
                assert ("open gui" if gui[t + 1] else "close gui") in text[t]
    assert gui_ticks > 0
    print(f"real MineStudio: {len(folders)} episodes, {gui_ticks} GUI ticks")


# --- scripted synthetic play ---


def expected_phrases(line: dict) -> list[str]:
    """Phrases the raw VPT line implies, computed from its keys and mouse alone."""
    keys = set(line.get("keyboard", {}).get("keys", []))
    mouse = line.get("mouse", {})
    buttons = set(mouse.get("buttons", []))
    gui = bool(line.get("isGuiOpen"))
    dx, dy = mouse.get("dx", 0.0), mouse.get("dy", 0.0)
    out = []
    if not gui:
        if "key.keyboard.w" in keys and "key.keyboard.s" not in keys:
            out.append("move forward")
        if "key.keyboard.s" in keys and "key.keyboard.w" not in keys:
            out.append("move back")
        if "key.keyboard.a" in keys and "key.keyboard.d" not in keys:
            out.append("move left")
        if "key.keyboard.d" in keys and "key.keyboard.a" not in keys:
            out.append("move right")
        if dx:
            out.append("turn right" if dx > 0 else "turn left")
        if dy and not dx:
            out.append("turn down" if dy > 0 else "turn up")
        if buttons == {0}:
            out.append("attack / mine")
        if buttons == {1}:
            out.append("use / place")
        if "key.keyboard.space" in keys:
            out.append("jump")
    else:
        if dx:
            out.append("cursor move right" if dx > 0 else "cursor move left")
        if buttons == {0}:
            out.append("operate gui")
        if buttons == {1}:
            out.append("choose")
    return out


def test_synthetic_recording_agrees_with_the_scripted_player(tmp_path):
    record = pytest.importorskip("curate.world.record")
    vpt = pytest.importorskip("curate.readers.vpt")
    record.synthesize(tmp_path, episodes=1, seconds=20, seed=7)
    jsonls = sorted(tmp_path.rglob("*.jsonl"))
    assert jsonls
    checked = agreed = 0
    for path in jsonls:
        lines = [json.loads(s) for s in path.read_text().splitlines() if s.strip()]
        text = MotionLabeler().label(vpt.read_vpt(path))["motion_text"].to_list()
        assert len(text) == len(lines)
        for line, label in zip(lines, text, strict=True):
            for phrase in expected_phrases(line):
                checked += 1
                agreed += phrase in label
    agreement = agreed / checked
    print(f"synthetic motion agreement: {agreed}/{checked} = {agreement:.4f}")
    assert checked > 100
    assert agreement >= 0.99
