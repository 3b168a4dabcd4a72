"""The rasteriser: Minecraft's first-person view of the voxel world, plus its HUD, drawn through
the pinhole camera of `curate.camera` (its conventions: axes, yaw, pitch, pixels).

Rendering casts one ray per pixel through the voxel grid (Amanatides-Woo DDA) at half resolution
and doubles each pixel; mobs and dropped items are boxes drawn over it with a depth test. numba
compiles the two loops: a numpy version of the DDA was several times too slow for 2x real time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from curate.camera import FOCAL, camera_basis
from curate.contract import FRAME_HEIGHT, FRAME_WIDTH
from curate.world.blocks import ITEM_COLOURS, TEXTURE_SIZE, TEXTURES
from curate.world.gui import draw_screen

if TYPE_CHECKING:  # the simulation imports the renderer's casts
    from curate.world.sim import Sim

SCALE = 2  # internal resolution 320x180, doubled
VIEW_DISTANCE = 40.0  # blocks; fog reaches the sky colour here
FOG_START = 24.0
NO_HIT = 1e30

SKY_UP = np.array([120.0, 167.0, 255.0])
SKY_HORIZON = np.array([192.0, 216.0, 255.0])
# Face brightness as Minecraft's flat lighting: top, bottom, east/west, north/south.
SHADE_TOP, SHADE_BOTTOM, SHADE_X, SHADE_Z = 1.0, 0.5, 0.8, 0.65

_CRACK_STAGES = 10
# Mining cracks: texels darken as the random value falls under the stage's threshold.
CRACKS = np.random.default_rng(7).random((TEXTURE_SIZE, TEXTURE_SIZE)) < (
    np.arange(1, _CRACK_STAGES + 1)[:, None, None] / (_CRACK_STAGES + 2)
)


@dataclass(frozen=True)
class Boxes:
    """Oriented boxes (mobs' body parts, dropped items) for one frame.

    geom rows: centre x, y, z, half extents x, y, z, cos and sin of the rotation about the vertical
    (local x axis = (cos, 0, sin) in the world); owner: the entity id each box belongs to.
    """

    geom: np.ndarray  # float64 [n, 8]
    colour: np.ndarray  # float64 [n, 3]
    owner: np.ndarray  # int64 [n]

    @staticmethod
    def empty() -> Boxes:
        return Boxes(np.zeros((0, 8)), np.zeros((0, 3)), np.zeros(0, np.int64))


@njit(cache=True)
def _march(vox, ox, oy, oz, dx, dy, dz, max_t, top):
    """First solid voxel along a ray: (t, x, y, z, axis of the face crossed, block) or t=NO_HIT.
    `top` is one above the highest solid voxel: a ray above it going up meets nothing more."""
    nx, ny, nz = vox.shape
    ix, iy, iz = int(math.floor(ox)), int(math.floor(oy)), int(math.floor(oz))
    sx = 1 if dx > 0 else -1
    sy = 1 if dy > 0 else -1
    sz = 1 if dz > 0 else -1
    tdx = abs(1.0 / dx) if dx != 0 else NO_HIT
    tdy = abs(1.0 / dy) if dy != 0 else NO_HIT
    tdz = abs(1.0 / dz) if dz != 0 else NO_HIT
    tmx = ((ix + 1 - ox) if dx > 0 else (ox - ix)) * tdx if dx != 0 else NO_HIT
    tmy = ((iy + 1 - oy) if dy > 0 else (oy - iy)) * tdy if dy != 0 else NO_HIT
    tmz = ((iz + 1 - oz) if dz > 0 else (oz - iz)) * tdz if dz != 0 else NO_HIT
    t, axis = 0.0, -1
    while t <= max_t:
        if iy >= top and dy >= 0:
            break
        if 0 <= ix < nx and 0 <= iy < ny and 0 <= iz < nz:
            block = vox[ix, iy, iz]
            if block != 0:
                return t, ix, iy, iz, axis, block
        elif (
            (iy >= ny and dy >= 0)
            or (iy < 0 and dy <= 0)
            or (ix >= nx and dx >= 0)
            or (ix < 0 and dx <= 0)
            or (iz >= nz and dz >= 0)
            or (iz < 0 and dz <= 0)
        ):
            break  # left the world for good
        if tmx < tmy and tmx < tmz:
            t, ix, axis = tmx, ix + sx, 0
            tmx += tdx
        elif tmy < tmz:
            t, iy, axis = tmy, iy + sy, 1
            tmy += tdy
        else:
            t, iz, axis = tmz, iz + sz, 2
            tmz += tdz
    return NO_HIT, -1, -1, -1, -1, 0


@njit(cache=True)
def _ray_box(g, ox, oy, oz, dx, dy, dz):
    """Entry distance of a ray into an oriented box and the local axis of the entry face."""
    c, s = g[6], g[7]
    rx, rz = ox - g[0], oz - g[2]
    lo = (c * rx + s * rz, oy - g[1], -s * rx + c * rz)
    ld = (c * dx + s * dz, dy, -s * dx + c * dz)
    t_in, t_out, axis = -NO_HIT, NO_HIT, -1
    for a in range(3):
        if ld[a] == 0.0:
            if abs(lo[a]) > g[3 + a]:
                return NO_HIT, -1
            continue
        t0 = (-g[3 + a] - lo[a]) / ld[a]
        t1 = (g[3 + a] - lo[a]) / ld[a]
        if t0 > t1:
            t0, t1 = t1, t0
        if t0 > t_in:
            t_in, axis = t0, a
        t_out = min(t_out, t1)
    if t_in > t_out or t_out < 0.0 or t_in < 0.0:
        return NO_HIT, -1
    return t_in, axis


@njit(cache=True)
def _face_shade(axis, dir_along_axis):
    if axis == 1:
        return SHADE_TOP if dir_along_axis < 0 else SHADE_BOTTOM
    return SHADE_X if axis == 0 else SHADE_Z


@njit(cache=True)
def _pixel_rays(e, h, w):
    """Unit ray direction through each internal pixel (r, c): computed once a frame, read by
    every pass."""
    rays = np.empty((h, w, 3))
    for r in range(h):
        y = (r + 0.5) * SCALE - FRAME_HEIGHT / 2
        for c in range(w):
            x = (c + 0.5) * SCALE - FRAME_WIDTH / 2
            dx = e[1, 0] * FOCAL + e[2, 0] * x - e[3, 0] * y
            dy = e[1, 1] * FOCAL + e[2, 1] * x - e[3, 1] * y
            dz = e[1, 2] * FOCAL + e[2, 2] * x - e[3, 2] * y
            n = math.sqrt(dx * dx + dy * dy + dz * dz)
            rays[r, c, 0], rays[r, c, 1], rays[r, c, 2] = dx / n, dy / n, dz / n
    return rays


@njit(cache=True)
def _doubled(rgb):
    """The internal image as a 640x360 uint8 frame, each pixel doubled."""
    h, w, _ = rgb.shape
    out = np.empty((h * SCALE, w * SCALE, 3), np.uint8)
    for r in range(h):
        for c in range(w):
            for k in range(3):
                v = np.uint8(rgb[r, c, k])
                for i in range(SCALE):
                    for j in range(SCALE):
                        out[r * SCALE + i, c * SCALE + j, k] = v
    return out


@njit(cache=True)
def _fog(rgb, r, c, colour, t):
    """Blend toward the horizon colour with distance, as Minecraft's render-distance fog."""
    f = min(1.0, max(0.0, (t - FOG_START) / (VIEW_DISTANCE - FOG_START)))
    for k in range(3):
        rgb[r, c, k] = colour[k] * (1 - f) + SKY_HORIZON[k] * f


@njit(cache=True)
def _render_voxels(vox, tex, cam, rays, top, mine, stage, cracks, rgb, depth):
    h, w = depth.shape
    ox, oy, oz = cam[0, 0], cam[0, 1], cam[0, 2]
    colour = np.empty(3)
    for r in range(h):
        for c in range(w):
            dx, dy, dz = rays[r, c, 0], rays[r, c, 1], rays[r, c, 2]
            t, ix, iy, iz, axis, block = _march(vox, ox, oy, oz, dx, dy, dz, VIEW_DISTANCE, top)
            depth[r, c] = t
            if block == 0:
                up = min(1.0, max(0.0, dy * 2.0))
                for k in range(3):
                    rgb[r, c, k] = SKY_HORIZON[k] * (1 - up) + SKY_UP[k] * up
                continue
            hx, hy, hz = ox + dx * t, oy + dy * t, oz + dz * t
            if axis == 1:
                kind = 0 if dy < 0 else 2
                u, v = hx - math.floor(hx), hz - math.floor(hz)
            else:
                kind = 1
                u = (hz - math.floor(hz)) if axis == 0 else (hx - math.floor(hx))
                v = 1.0 - (hy - math.floor(hy))
            tu = min(int(u * TEXTURE_SIZE), TEXTURE_SIZE - 1)
            tv = min(int(v * TEXTURE_SIZE), TEXTURE_SIZE - 1)
            shade = _face_shade(axis, dy if axis == 1 else 0.0)
            cracked = stage >= 0 and ix == mine[0] and iy == mine[1] and iz == mine[2]
            if cracked and cracks[stage, tv, tu]:
                shade *= 0.35
            for k in range(3):
                colour[k] = tex[block, kind, tv, tu, k] * shade
            _fog(rgb, r, c, colour, t)


@njit(cache=True)
def _render_boxes(geom, colours, rects, cam, rays, rgb, depth):
    ox, oy, oz = cam[0, 0], cam[0, 1], cam[0, 2]
    colour = np.empty(3)
    for b in range(geom.shape[0]):
        for r in range(rects[b, 0], rects[b, 1]):
            for c in range(rects[b, 2], rects[b, 3]):
                dx, dy, dz = rays[r, c, 0], rays[r, c, 1], rays[r, c, 2]
                t, axis = _ray_box(geom[b], ox, oy, oz, dx, dy, dz)
                if t >= depth[r, c]:
                    continue
                depth[r, c] = t
                shade = _face_shade(axis, dy)
                for k in range(3):
                    colour[k] = colours[b, k] * shade
                _fog(rgb, r, c, colour, t)


@njit(cache=True)
def _cast(vox, geom, ox, oy, oz, dx, dy, dz, max_t):
    """The first thing a ray meets: (t, voxel x, y, z, box index); box index -1 for a voxel,
    t = NO_HIT and voxel -1 when nothing is within max_t."""
    t, ix, iy, iz, _, block = _march(vox, ox, oy, oz, dx, dy, dz, max_t, vox.shape[1])
    best_box = -1
    for b in range(geom.shape[0]):
        tb, _ = _ray_box(geom[b], ox, oy, oz, dx, dy, dz)
        if tb < t and tb <= max_t:
            t, best_box = tb, b
    if best_box >= 0:
        return t, -1, -1, -1, best_box
    if block == 0:
        return NO_HIT, -1, -1, -1, -1
    return t, ix, iy, iz, -1


@dataclass(frozen=True)
class Hit:
    """What a ray met first: a voxel (`block` is its (x, y, z)) or an entity box (`owner`)."""

    distance: float
    block: tuple[int, int, int] | None = None
    owner: int | None = None


def cast(
    voxels: np.ndarray, boxes: Boxes, origin: np.ndarray, direction: np.ndarray, max_t: float
) -> Hit | None:
    """The first voxel or box along a ray within max_t: the crosshair pick and occlusion test."""
    d = np.asarray(direction, np.float64)
    d = d / np.linalg.norm(d)
    ox, oy, oz = map(float, origin)
    dx, dy, dz = map(float, d)
    t, ix, iy, iz, box = _cast(voxels, boxes.geom, ox, oy, oz, dx, dy, dz, max_t)
    if t >= NO_HIT:
        return None
    if box >= 0:
        return Hit(float(t), owner=int(boxes.owner[box]))
    return Hit(float(t), block=(int(ix), int(iy), int(iz)))


@njit(cache=True)
def _seen(vox, geom, owner, e, rect, block, target, step):
    """Sum of x, sum of y (internal pixels) and count of the pixels of `rect` (every `step`-th
    row and column) whose ray meets the target first: the voxel `block`, or (target >= 0) the
    boxes of entity `target`."""
    sx = sy = 0.0
    n = 0
    ox, oy, oz = e[0, 0], e[0, 1], e[0, 2]
    for r in range(rect[0], rect[1], step):
        for c in range(rect[2], rect[3], step):
            y = (r + 0.5) * SCALE - FRAME_HEIGHT / 2
            x = (c + 0.5) * SCALE - FRAME_WIDTH / 2
            dx = e[1, 0] * FOCAL + e[2, 0] * x - e[3, 0] * y
            dy = e[1, 1] * FOCAL + e[2, 1] * x - e[3, 1] * y
            dz = e[1, 2] * FOCAL + e[2, 2] * x - e[3, 2] * y
            norm = math.sqrt(dx * dx + dy * dy + dz * dz)
            dx, dy, dz = dx / norm, dy / norm, dz / norm
            t, ix, iy, iz, box = _cast(vox, geom, ox, oy, oz, dx, dy, dz, VIEW_DISTANCE)
            if box >= 0:
                hit = owner[box] == target
            else:
                hit = target < 0 and t < NO_HIT and (ix, iy, iz) == (block[0], block[1], block[2])
            if hit:
                sx += c + 0.5
                sy += r + 0.5
                n += 1
    return sx, sy, n


MIN_SEEN_PIXELS = 2  # internal pixels (8 on the frame): fewer is not a target one can point at


def visible_centre(
    voxels: np.ndarray,
    boxes: Boxes,
    eye: np.ndarray,
    yaw: float,
    pitch: float,
    block: tuple[int, int, int] | None = None,
    entity: int | None = None,
) -> tuple[float, float] | None:
    """The centroid on the frame of what is seen of a voxel or an entity (the centre of its
    segmentation mask, as a tracker would give), or None when too little of it is seen."""
    cam = np.stack([np.asarray(eye, np.float64), *camera_basis(yaw, pitch)])
    h, w = FRAME_HEIGHT // SCALE, FRAME_WIDTH // SCALE
    if block is not None:
        cube = np.array([[*(np.array(block) + 0.5), 0.5, 0.5, 0.5, 1.0, 0.0]])
        shape = Boxes(cube, np.zeros((1, 3)), np.zeros(1, np.int64))
        rects, target, where = _box_rects(shape, cam[0], cam), -1, np.array(block, np.int64)
    else:
        mine = boxes.owner == entity
        if not mine.any():
            return None
        rects = _box_rects(Boxes(boxes.geom[mine], boxes.colour[mine], boxes.owner[mine]),
                           cam[0], cam)  # fmt: skip
        target, where = int(entity), np.zeros(3, np.int64)  # type: ignore[arg-type]
    rect = np.array([rects[:, 0].min(), rects[:, 1].max(), rects[:, 2].min(), rects[:, 3].max()])
    rect = np.clip(rect, 0, [h, h, w, w]).astype(np.int64)
    if rect[0] >= rect[1] or rect[2] >= rect[3]:
        return None
    step = 2 if (rect[1] - rect[0]) * (rect[3] - rect[2]) > 1600 else 1  # a large target: sampled
    sx, sy, n = _seen(voxels, boxes.geom, boxes.owner, cam, rect, where, target, step)
    if n * step * step < MIN_SEEN_PIXELS:
        return None
    return sx / n * SCALE, sy / n * SCALE


def _box_rects(boxes: Boxes, eye: np.ndarray, cam: np.ndarray) -> np.ndarray:
    """Internal-pixel rectangles [r0, r1, c0, c1) that contain each box's projection."""
    h, w = FRAME_HEIGHT // SCALE, FRAME_WIDTH // SCALE
    g = boxes.geom
    signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], float)
    local = signs[None] * g[:, None, 3:6]  # [n, 8, 3]
    cos, sin = g[:, None, 6], g[:, None, 7]
    corners = np.stack(
        [
            g[:, None, 0] + cos * local[..., 0] - sin * local[..., 2],
            g[:, None, 1] + local[..., 1],
            g[:, None, 2] + sin * local[..., 0] + cos * local[..., 2],
        ],
        axis=-1,
    )
    rel = corners - eye
    depth = rel @ cam[1]
    safe = np.where(depth > 1e-3, depth, 1.0)
    px = (FRAME_WIDTH / 2 + FOCAL * (rel @ cam[2]) / safe) / SCALE
    py = (FRAME_HEIGHT / 2 - FOCAL * (rel @ cam[3]) / safe) / SCALE
    rects = np.stack(
        [
            np.floor(py.min(1)) - 1,
            np.ceil(py.max(1)) + 1,
            np.floor(px.min(1)) - 1,
            np.ceil(px.max(1)) + 1,
        ],
        axis=1,
    )
    behind = depth <= 1e-3
    rects[behind.any(1)] = [0, h, 0, w]  # straddles the eye's plane: test the whole screen
    rects[behind.all(1) | (depth.min(1) > VIEW_DISTANCE)] = 0  # out of sight: test nothing
    rects = np.clip(rects, 0, [h, h, w, w])
    return rects.astype(np.int64)


def render_view(
    voxels: np.ndarray,
    boxes: Boxes,
    eye: np.ndarray,
    yaw: float,
    pitch: float,
    mining: tuple[tuple[int, int, int], float] | None = None,
) -> np.ndarray:
    """The 3D view (no HUD) as a 360x640x3 uint8 frame. `mining` is (block, progress 0..1):
    the block being mined shows Minecraft's growing cracks."""
    cam = np.stack([np.asarray(eye, np.float64), *camera_basis(yaw, pitch)])
    h, w = FRAME_HEIGHT // SCALE, FRAME_WIDTH // SCALE
    rgb = np.empty((h, w, 3))
    depth = np.empty((h, w))
    mine, stage = np.array([-1, -1, -1], np.int64), -1
    if mining is not None:
        mine = np.asarray(mining[0], np.int64)
        stage = min(int(mining[1] * _CRACK_STAGES), _CRACK_STAGES - 1)
    rays = _pixel_rays(cam, h, w)
    solid = np.flatnonzero(voxels.any(axis=(0, 2)))
    top = int(solid[-1]) + 1 if len(solid) else 0
    _render_voxels(voxels, TEXTURES, cam, rays, top, mine, stage, CRACKS, rgb, depth)
    if len(boxes.owner):
        rects = _box_rects(boxes, cam[0], cam)
        _render_boxes(boxes.geom, boxes.colour, rects, cam, rays, rgb, depth)
    return _doubled(rgb)


# HUD at Minecraft's GUI scale 2 on a 1280x720 screen, i.e. 1 GUI pixel = 1 video pixel here.
HOTBAR_SLOT = 20
HOTBAR_LEFT = FRAME_WIDTH // 2 - 91
HOTBAR_TOP = FRAME_HEIGHT - 23


def draw_hud(frame: np.ndarray, hotbar: int, slots: list[str | None]) -> None:
    """Draw the crosshair and the hotbar (9 slots, the selected one framed) in place."""
    cx, cy = FRAME_WIDTH // 2, FRAME_HEIGHT // 2
    # Minecraft inverts the colours under the crosshair so it shows on any background.
    frame[cy - 1 : cy + 1, cx - 6 : cx + 6] = 255 - frame[cy - 1 : cy + 1, cx - 6 : cx + 6]
    frame[cy - 6 : cy - 1, cx - 1 : cx + 1] = 255 - frame[cy - 6 : cy - 1, cx - 1 : cx + 1]
    frame[cy + 1 : cy + 6, cx - 1 : cx + 1] = 255 - frame[cy + 1 : cy + 6, cx - 1 : cx + 1]
    top, left = HOTBAR_TOP, HOTBAR_LEFT
    bar = frame[top : top + 22, left : left + 182]
    bar[:] = (bar * 0.35 + 40).astype(np.uint8)
    for k in range(9):
        x = left + 1 + k * HOTBAR_SLOT
        frame[top + 1 : top + 21, x : x + 20][[0, -1]] = 100  # slot borders
        frame[top + 1 : top + 21, x : x + 20][:, [0, -1]] = 100
        item = slots[k]
        if item is not None:
            frame[top + 6 : top + 16, x + 5 : x + 15] = ITEM_COLOURS[item]
    x = left + hotbar * HOTBAR_SLOT
    sel = frame[top - 1 : top + 23, x - 1 : x + 23]
    sel[[0, 1, -2, -1]] = 235
    sel[:, [0, 1, -2, -1]] = 235


def draw_frame(sim: Sim, boxes: Boxes) -> np.ndarray:
    """The frame the player sees now: the 3D view with mining cracks, crosshair and hotbar, and
    the open GUI screen over them (without the cursor, as VPT videos are recorded)."""
    p = sim.player
    frame = render_view(sim.voxels, boxes, p.eye, p.yaw, p.pitch, sim.mining_progress())
    draw_hud(frame, p.hotbar, sim.hotbar_items())
    if sim.screen is not None:
        draw_screen(frame, sim.screen, p.slots)
    return frame
