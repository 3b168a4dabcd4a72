"""`curate/World-v0`: the world as a Gymnasium environment, so a trained policy can play it.

    env = gymnasium.make("curate/World-v0", task="craft_item:crafting_table", max_steps=600)
    frame, info = env.reset(seed=7)

- `reset(seed=K)` starts the episode `curate synth --seed K --tasks TASK` records first (world,
  player, the inventory the task starts with): the same seed gives the same world.
- Observation: the 640x360 RGB frame as a built release shows it, the cursor sprite drawn while
  a GUI screen is open; `size=(w, h)` gives it resized as a release resizes (bilinear), for
  policies that read small frames.
- Action: the canonical env action of ACTION_SPACES.md section 2: every binary 0/1 and `camera`
  [pitch, yaw] in degrees (MineRL's convention).
- Reward 1 on the first positive delta of the task's counter (`craft_item:crafting_table`),
  which ends the episode (terminated); `max_steps` truncates it.
- Info: pose, GUI screen, cursor (screen pixels, None with no screen), inventory, stats, tick.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from PIL import Image

from curate.contract import BINARY_ACTIONS, FRAME_HEIGHT, FRAME_WIDTH, SCREEN_SCALE
from curate.cursor import draw_cursor
from curate.world.player import ScriptedPlayer
from curate.world.render import draw_frame
from curate.world.sim import Sim
from curate.world.tasks import check_tasks, start


class WorldEnv(gym.Env):
    metadata = {"render_modes": ["rgb_array"], "render_fps": 20}

    def __init__(
        self,
        task: str = "mine_block:oak_log",
        max_steps: int = 600,
        size: tuple[int, int] = (FRAME_WIDTH, FRAME_HEIGHT),
        render_mode: str | None = "rgb_array",
    ) -> None:
        self.task = check_tasks([task])[0]
        width, height = size
        if max_steps < 1 or width < 1 or height < 1:
            raise ValueError(f"max_steps and size must be positive, got {max_steps} and {size}")
        self.max_steps, self.size, self.render_mode = max_steps, (width, height), render_mode
        self.observation_space = spaces.Box(0, 255, (height, width, 3), np.uint8)
        binaries: dict[str, spaces.Space] = {name: spaces.Discrete(2) for name in BINARY_ACTIONS}
        camera = spaces.Box(-180.0, 180.0, (2,), np.float32)
        self.action_space = spaces.Dict({**binaries, "camera": camera})
        self.sim: Sim | None = None
        self.frame = np.zeros((FRAME_HEIGHT, FRAME_WIDTH, 3), np.uint8)  # drawn, without cursor
        self._player: ScriptedPlayer | None = None

    def reset(
        self, *, seed: int | None = None, options: dict | None = None
    ) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        episode = seed if seed is not None else int(self.np_random.integers(2**31))
        self.sim, self._player = start((episode, 0), [self.task])
        self.steps = 0
        self.done_before = self.sim.stats.get(self.task, 0)
        return self._observe(), self._info()

    def step(self, action: dict[str, Any]) -> tuple[np.ndarray, float, bool, bool, dict]:
        done, truncated = self.advance(action)
        return self._observe(), float(done), done, truncated, self._info()

    def advance(self, action: dict[str, Any]) -> tuple[bool, bool]:
        """`step` without drawing the frame: (terminated, truncated). For a policy that looks
        at one frame in several ticks (then `observe()`), or at none (the scripted player)."""
        sim = self._require()
        canonical = {name: int(action.get(name, 0)) for name in BINARY_ACTIONS}
        pitch, yaw = action.get("camera", (0.0, 0.0))
        canonical["camera"] = [float(pitch), float(yaw)]  # type: ignore[assignment]
        sim.step(canonical)
        self.steps += 1
        done = sim.stats.get(self.task, 0) > self.done_before
        return done, not done and self.steps >= self.max_steps

    def observe(self) -> np.ndarray:
        """The observation of the current tick (what `step` returns), drawn now."""
        return self._observe()

    def render(self) -> np.ndarray | None:
        """The current observation (render mode "rgb_array"), or None with no render mode."""
        return self._observation(self.frame) if self.render_mode == "rgb_array" else None

    def scripted_player(self) -> ScriptedPlayer:
        """The scripted player of this episode, seeded as `curate synth` seeds it: its
        `act(env.unwrapped.sim)` gives the input of each tick (`env_action` makes it an action)."""
        self._require()
        assert self._player is not None
        return self._player

    def _require(self) -> Sim:
        if self.sim is None:
            raise RuntimeError("call reset() before step()")
        return self.sim

    def _observe(self) -> np.ndarray:
        sim = self._require()
        self.frame = draw_frame(sim, sim.boxes())
        return self._observation(self.frame)

    def _observation(self, frame: np.ndarray) -> np.ndarray:
        screen = self.sim.screen if self.sim is not None else None
        if screen is not None:  # as a release shows VPT frames: the cursor composited
            frame = draw_cursor(
                frame, screen.cursor[0] / SCREEN_SCALE, screen.cursor[1] / SCREEN_SCALE
            )
        if self.size != (FRAME_WIDTH, FRAME_HEIGHT):
            frame = np.asarray(Image.fromarray(frame).resize(self.size, Image.Resampling.BILINEAR))
        return frame

    def _info(self) -> dict:
        sim = self._require()
        p, screen = sim.player, sim.screen
        return {
            "pose": {
                "x": float(p.pos[0]),
                "y": float(p.pos[1]),
                "z": float(p.pos[2]),
                "yaw": float(p.yaw),
                "pitch": float(p.pitch),
            },  # fmt: skip
            "gui": {
                "open": screen is not None,
                "inventory": screen is not None and screen.kind == "inventory",
            },  # fmt: skip
            "cursor": list(screen.cursor) if screen is not None else None,
            "inventory": sim.inventory(),
            "stats": dict(sim.stats),
            "tick": sim.tick,
        }
