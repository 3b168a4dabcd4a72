"""Minecraft's first-person camera as a pinhole model: what the world renders with and what a
labeler carries points through (ACTION_SPACES.md section 6), without the renderer.

Minecraft's conventions: x east, y up, z south; yaw 0 faces +z (south) and grows turning right
(yaw 90 faces west); positive pitch looks down. Pixels are continuous coordinates on the 640x360
frame (the frame spans [0, 640] x [0, 360], pixel k's centre is k + 0.5), the convention of the
grounding points. The vertical field of view is 70 degrees (Minecraft's default; sprinting
widens it in the game, which the world does not model).
"""

from __future__ import annotations

import math

import numpy as np

from curate.contract import FOV_VERTICAL_DEG, FRAME_HEIGHT, FRAME_WIDTH

FOCAL = (FRAME_HEIGHT / 2) / math.tan(math.radians(FOV_VERTICAL_DEG / 2))  # pixels


def camera_basis(yaw: float, pitch: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit forward, right and up vectors of a Minecraft camera."""
    y, p = math.radians(yaw), math.radians(pitch)
    fwd = np.array([-math.sin(y) * math.cos(p), -math.sin(p), math.cos(y) * math.cos(p)])
    right = np.array([-math.cos(y), 0.0, -math.sin(y)])
    return fwd, right, np.cross(right, fwd)


def project(point: np.ndarray, eye: np.ndarray, yaw: float, pitch: float) -> tuple[float, float]:
    """Pixel position of a world point on the frame (pinhole camera); NaN behind the camera."""
    fwd, right, up = camera_basis(yaw, pitch)
    rel = np.asarray(point, np.float64) - eye
    depth = rel @ fwd
    if depth <= 1e-6:
        return math.nan, math.nan
    return (
        FRAME_WIDTH / 2 + FOCAL * (rel @ right) / depth,
        FRAME_HEIGHT / 2 - FOCAL * (rel @ up) / depth,
    )


def bases(yaw: np.ndarray, pitch: np.ndarray) -> np.ndarray:
    """`camera_basis` for many poses: [n, 3, 3], rows forward, right, up."""
    y, p = np.radians(yaw), np.radians(pitch)
    fwd = np.stack([-np.sin(y) * np.cos(p), -np.sin(p), np.cos(y) * np.cos(p)], -1)
    right = np.stack([-np.cos(y), np.zeros_like(y), -np.sin(y)], -1)
    return np.stack([fwd, right, np.cross(right, fwd)], 1)


def ray(pixel: tuple[float, float], basis: np.ndarray, focal: float = FOCAL) -> np.ndarray:
    """The world direction (not unit) seen at a pixel by a camera of `basis` (forward, right,
    up) and focal length `focal`."""
    fwd, right, up = basis
    x, y = (pixel[0] - FRAME_WIDTH / 2) / focal, (pixel[1] - FRAME_HEIGHT / 2) / focal
    return fwd + x * right - y * up


def pixels_of(direction: np.ndarray, basis: np.ndarray, focal: np.ndarray) -> np.ndarray:
    """Where a world direction is seen by each of many cameras ([n, 3, 3] bases, [n] focal
    lengths): [n, 2] pixels, NaN where it lies behind the camera. A direction, not a point: the
    camera turns in place (its own movement is left to image refinement)."""
    depth = basis[:, 0] @ direction
    with np.errstate(divide="ignore", invalid="ignore"):
        x = FRAME_WIDTH / 2 + focal * (basis[:, 1] @ direction) / depth
        y = FRAME_HEIGHT / 2 - focal * (basis[:, 2] @ direction) / depth
    out = np.stack([x, y], -1)
    out[depth <= 1e-9] = np.nan
    return out


def focal_of(fov_deg: np.ndarray | float) -> np.ndarray:
    """The focal length in pixels of a vertical field of view."""
    return (FRAME_HEIGHT / 2) / np.tan(np.radians(np.asarray(fov_deg, np.float64) / 2))
