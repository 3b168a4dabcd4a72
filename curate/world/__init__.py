"""curate's own gameplay world: a voxel world, a scripted player, a VPT recorder, and the
Gymnasium environment `curate/World-v0` (registered on import)."""

import gymnasium

gymnasium.register(id="curate/World-v0", entry_point="curate.world.env:WorldEnv")
