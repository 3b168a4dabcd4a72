"""Every constant of the label contract, once, each with its source.

The contract itself is written out in ACTION_SPACES.md; this module is the only place the code
reads those facts from, so a change to a convention is a change to one line here.
"""

from __future__ import annotations

from math import prod

# --- Raw VPT recordings (OpenAI Video-Pre-Training, data_loader.py and the recorder format) ---

FPS = 20  # VPT contractor recordings are 20 Hz: one jsonl line per video frame.
FRAME_WIDTH, FRAME_HEIGHT = 640, 360  # VPT videos are 640x360.
SCREEN_WIDTH, SCREEN_HEIGHT = 1280, 720  # mouse.x / mouse.y are pixels of a 1280x720 screen.
SCREEN_CENTRE = (640.0, 360.0)  # where the cursor rests without a GUI, and where a GUI opens it
SCREEN_SCALE = SCREEN_HEIGHT / FRAME_HEIGHT  # screen pixels per frame pixel (2)
CAMERA_SCALE = 360.0 / 2400.0  # degrees per mouse unit (VPT: CAMERA_SCALER = 360 / 2400 = 0.15).
MAX_FRAME_LINE_DIFF = 2  # frames vs jsonl lines: trimmed up to this, quarantined beyond (sec. 2a).

# Recorder key strings -> canonical env action names (VPT data_loader KEYBOARD_BUTTON_MAPPING).
KEY_TO_ACTION: dict[str, str] = {
    "key.keyboard.escape": "ESC",
    "key.keyboard.s": "back",
    "key.keyboard.q": "drop",
    "key.keyboard.w": "forward",
    "key.keyboard.1": "hotbar.1",
    "key.keyboard.2": "hotbar.2",
    "key.keyboard.3": "hotbar.3",
    "key.keyboard.4": "hotbar.4",
    "key.keyboard.5": "hotbar.5",
    "key.keyboard.6": "hotbar.6",
    "key.keyboard.7": "hotbar.7",
    "key.keyboard.8": "hotbar.8",
    "key.keyboard.9": "hotbar.9",
    "key.keyboard.e": "inventory",
    "key.keyboard.space": "jump",
    "key.keyboard.a": "left",
    "key.keyboard.d": "right",
    "key.keyboard.left.shift": "sneak",
    "key.keyboard.left.control": "sprint",
    "key.keyboard.f": "swapHands",
}
ACTION_TO_KEY: dict[str, str] = {v: k for k, v in KEY_TO_ACTION.items()}

# Mouse buttons of the recorder -> env action (VPT data_loader: 0 attack, 1 use, 2 pickItem).
MOUSE_BUTTON_TO_ACTION: dict[int, str] = {0: "attack", 1: "use", 2: "pickItem"}

HOTBAR_ACTIONS: tuple[str, ...] = tuple(f"hotbar.{i}" for i in range(1, 10))

# The canonical binaries (MineRL env action keys), in the order the tick table stores them.
BINARY_ACTIONS: tuple[str, ...] = (
    "forward",
    "back",
    "left",
    "right",
    "jump",
    "sneak",
    "sprint",
    "attack",
    "use",
    "drop",
    "inventory",
    *HOTBAR_ACTIONS,
    "ESC",
    "swapHands",
    "pickItem",
)

# --- VPT policy tokens (VPT lib/actions.py ActionTransformer and Buttons) ---


CAMERA_MAXVAL = 10.0  # degrees; VPT camera_maxval.
CAMERA_BINS: dict[int, tuple[float, float]] = {
    11: (10.0, 2.0),
    21: (20.0, 1.0),
}  # n -> (mu, binsize)

# Button groups of the joint class, in mixed-radix order (VPT BUTTONS_GROUPS plus camera-moved,
# which varies fastest). Each group lists its options after "none".
BUTTON_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("hotbar", HOTBAR_ACTIONS),
    ("fore_back", ("forward", "back")),
    ("left_right", ("left", "right")),
    ("sprint_sneak", ("sprint", "sneak")),
    ("use", ("use",)),
    ("drop", ("drop",)),
    ("attack", ("attack",)),
    ("jump", ("jump",)),
    ("camera", ("camera_moved",)),
)
# 10*3*3*3*2*2*2*2*2 = 8640 joint classes; the next index is the exclusive inventory class,
# which forces the camera class to null.
INVENTORY_CLASS = prod(len(options) + 1 for _, options in BUTTON_GROUPS)

# --- Text action (OpenHA text_action) ---

# Key order inside press(...) and the names written there: OpenHA's order, which is the order of
# KEY_TO_ACTION above, named without the `key.keyboard.` prefix.
TEXT_KEY_ORDER: tuple[tuple[str, str], ...] = tuple(
    (key.removeprefix("key.keyboard."), action) for key, action in KEY_TO_ACTION.items()
)
TEXT_CLICKS: tuple[tuple[str, str], ...] = (("left", "attack"), ("right", "use"))

# --- Grounding points and frames (OpenHA grounding_action) ---

FOV_VERTICAL_DEG = 70.0  # Minecraft's default vertical field of view.

# --- Events and instructions (ACTION_SPACES.md section 8) ---

# `custom` counters that grow on almost every tick (time and distance): never events, so the
# `events` column and instruction segments see only what a player did.
PER_TICK_COUNTER_SUFFIXES: tuple[str, ...] = (
    "_one_cm",
    "_time",
    "time_since_rest",
    "time_since_death",
    "play_one_minute",
    "damage_dealt",
    "damage_taken",
)

QUALIFYING_FAMILIES: tuple[str, ...] = (
    "mine_block",
    "craft_item",
    "kill_entity",
    "use_item",
    "pickup",
)
