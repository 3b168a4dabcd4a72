"""Image refinement of grounding points (OpenCV), the frame reader of the grounding labeler.

It reads the frames of each stretch once, in tick order, at half resolution and in grey, and
refines a stretch as soon as its last frame is in, so memory holds one stretch at a time however
long the episode. Two steps, both seeded by the recorded camera rotation:

- the event's point moves to the centre of what vanishes between the event's frame and the next
  (a mined block, a killed mob), the next frame first turned back by the recorded rotation;
- going back from the event, where the player moved or the target is a mob, the point is followed
  by template matching around where the rotation alone would put it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

from curate.camera import pixels_of, ray
from curate.contract import FRAME_HEIGHT, FRAME_WIDTH

if TYPE_CHECKING:  # the labeler imports this module
    from curate.labelers.grounding import Carried, Stretch

HALF = 2  # frames are refined at half resolution: 320x180
SIZE = (FRAME_WIDTH // HALF, FRAME_HEIGHT // HALF)
VANISHED = 18  # grey levels: a pixel differing more between the event's frame and the next changed
MIN_VANISHED = 6  # half-resolution pixels: a smaller change is noise
NEAR = 8  # half-resolution pixels: how far from the crosshair the vanished region may start
PATCH = 8  # half-resolution pixels: the template is (2 PATCH + 1) square
SEARCH = 6  # half-resolution pixels searched around the rotation's prediction
MIN_SCORE = 0.7  # normalised correlation under which the prediction is kept
MIN_TEXTURE = 4.0  # grey-level spread under which a patch cannot be matched


class Tracker:
    """A `FrameReader` that refines the points of `carried` in place as frames arrive."""

    def __init__(self, carried: Carried) -> None:
        self.carried = carried
        n = carried.n
        self._todo = [i for i, s in enumerate(carried.spans) if not s.target.gui]
        wanted: set[int] = set()
        for i in self._todo:
            wanted.update(range(carried.spans[i].start, self._last(carried.spans[i]) + 1))
        self.ticks = sorted(t for t in wanted if t < n)
        self._frames: dict[int, np.ndarray] = {}

    def _last(self, span: Stretch) -> int:
        return min(span.target.tick + 1, self.carried.n - 1)

    def take(self, tick: int, frame: np.ndarray) -> None:
        frame = np.ascontiguousarray(frame)
        self._frames[tick] = cv2.resize(frame, SIZE, interpolation=cv2.INTER_AREA)
        while self._todo and tick >= self._last(self.carried.spans[self._todo[0]]):
            i = self._todo.pop(0)
            span = self.carried.spans[i]
            self.carried.points[i] = self._refine(span)
            self._frames = {k: v for k, v in self._frames.items() if k >= span.target.tick + 1}

    def _refine(self, span: Stretch) -> np.ndarray:
        c, t, target = self.carried, span.target.tick, span.target
        region = _mob(self._frames[t], target.point) if target.moving else None
        if region is not None:
            point = _centre(region)
        elif not target.moving and t + 1 in self._frames:
            point = self._vanished(t, target.point) or target.point
        else:
            point = target.point
        out = c.geometric(span, point)
        p = np.array(point)
        convert = _hue if target.moving else _grey  # a mob is followed by hue, a block by grey
        converted: dict[int, np.ndarray] = {}

        def image(k: int) -> np.ndarray:  # each frame converted once, where it is needed
            if k not in converted:
                converted[k] = convert(self._frames[k])
            return converted[k]

        for s in range(t - 1, span.start - 1, -1):
            if np.isfinite(p).all():
                predicted = pixels_of(ray((p[0], p[1]), c.basis[s + 1], float(c.focal[s + 1])),
                                      c.basis[s : s + 1], c.focal[s : s + 1])[0]  # fmt: skip
            else:  # lost behind the camera: the event's point turned back finds it again
                predicted = out[s - span.start]
            if region is not None:
                region = _follow(image(s + 1), image(s), region, predicted)
                p = np.array(_centre(region)) if region is not None else predicted
            elif c.moved[s + 1] and not target.moving:
                p = _match(image(s + 1), image(s), p, predicted)
            else:
                p = predicted
            out[s - span.start] = p
        return out

    def _vanished(self, t: int, point: tuple[float, float]) -> tuple[float, float] | None:
        """The centre of what vanished near `point` between frame t and frame t+1."""
        c = self.carried
        after = cv2.warpPerspective(
            self._frames[t + 1], _turn(c.basis[t], c.basis[t + 1], c.focal[t], c.focal[t + 1]),
            SIZE, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE,
        )  # fmt: skip
        changed = (cv2.absdiff(_grey(self._frames[t]), _grey(after)) > VANISHED).astype(np.uint8)
        closed = cv2.morphologyEx(changed, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
        count, region, stats, centres = cv2.connectedComponentsWithStats(closed, connectivity=8)
        qx, qy = point[0] / HALF, point[1] / HALF
        best, best_gap = None, NEAR + 1.0
        for k in range(1, count):
            x, y, w, h, area = stats[k]
            if area < MIN_VANISHED:
                continue
            gap = float(np.hypot(max(x - qx, 0, qx - (x + w)), max(y - qy, 0, qy - (y + h))))
            if gap < best_gap:
                best, best_gap = k, gap
        if best is None:
            return None
        return float(centres[best][0] * HALF), float(centres[best][1] * HALF)


def _grey(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)


# A mob is segmented by hue and saturation, which its faces share whatever their shading (and
# a hurt mob's red flash keeps its hue): levels of OpenCV's HSV (hue 0..179, turned by 90 so that
# red, where hue wraps, sits mid-range), from the seed's.
FILL = (8, 70, 0)
MOB_AREA = (6, SIZE[0] * SIZE[1] // 5)  # half-resolution pixels a mob's region may cover
MOB_SEARCH = 10  # half-resolution pixels searched around the prediction for the mob's colour


def _hue(rgb: np.ndarray) -> np.ndarray:
    """Hue (turned by 90) and saturation of a frame, as a 3-channel image (value zeroed)."""
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    hsv[..., 0] = ((hsv[..., 0].astype(np.int16) + 90) % 180).astype(np.uint8)
    hsv[..., 2] = 0
    return hsv


def _fill(hs: np.ndarray, seed: tuple[int, int]) -> np.ndarray | None:
    """The region of the seed pixel's hue and saturation around it, if it is of a mob's size."""
    h, w = hs.shape[:2]
    if not (0 <= seed[0] < w and 0 <= seed[1] < h):
        return None
    mask = np.zeros((h + 2, w + 2), np.uint8)
    flags = 8 | cv2.FLOODFILL_MASK_ONLY | cv2.FLOODFILL_FIXED_RANGE | (1 << 8)
    cv2.floodFill(hs, mask, seed, (0, 0, 0), FILL, FILL, flags)
    region = mask[1:-1, 1:-1].astype(bool)
    return region if MOB_AREA[0] <= region.sum() <= MOB_AREA[1] else None


def _centre(region: np.ndarray) -> tuple[float, float]:
    ys, xs = np.nonzero(region)
    return float((xs.mean() + 0.5) * HALF), float((ys.mean() + 0.5) * HALF)


def _mob(rgb: np.ndarray, point: tuple[float, float]) -> np.ndarray | None:
    """The mob under the crosshair: the region most of four seeds around it fall in (seeds off
    the crosshair's arms, whose colours are inverted)."""
    qx, qy = int(point[0] / HALF), int(point[1] / HALF)
    hs = _hue(rgb)
    regions = [_fill(hs, (qx + dx, qy + dy)) for dx in (-2, 2) for dy in (-2, 2)]
    found = [r for r in regions if r is not None]
    if not found:
        return None
    return max(found, key=lambda r: (sum(bool((r & o).any()) for o in found), -r.sum()))


def _follow(
    before: np.ndarray, now: np.ndarray, region: np.ndarray, predicted: np.ndarray
) -> np.ndarray | None:
    """The mob's region of `before` in `now` (both `_hue` images): the region of its colour
    nearest `predicted`."""
    if not np.isfinite(predicted).all():
        return None
    hs = now
    colour = np.median(before[region], 0)
    gx, gy = int(predicted[0] / HALF), int(predicted[1] / HALF)
    h, w = now.shape[:2]
    y0, y1 = max(gy - MOB_SEARCH, 0), min(gy + MOB_SEARCH + 1, h)
    x0, x1 = max(gx - MOB_SEARCH, 0), min(gx + MOB_SEARCH + 1, w)
    if y0 >= y1 or x0 >= x1:
        return None
    near = (np.abs(hs[y0:y1, x0:x1].astype(np.float64) - colour) <= FILL).all(-1)
    ys, xs = np.nonzero(near)
    if not len(ys):
        return None
    k = np.argmin((ys + y0 - gy) ** 2 + (xs + x0 - gx) ** 2)
    found = _fill(hs, (int(xs[k] + x0), int(ys[k] + y0)))
    if found is None or not 0.4 <= found.sum() / region.sum() <= 2.5:
        return None
    return found


def _turn(now: np.ndarray, then: np.ndarray, f_now: float, f_then: float) -> np.ndarray:
    """The homography from half-resolution pixels of a frame of basis `now` to those of one of
    basis `then`: a camera turning in place."""

    def k(f: float) -> np.ndarray:
        return np.array([[f / HALF, 0, SIZE[0] / 2], [0, f / HALF, SIZE[1] / 2], [0, 0, 1]])

    def axes(basis: np.ndarray) -> np.ndarray:  # columns: right, down, forward
        return np.stack([basis[1], -basis[2], basis[0]], 1)

    return k(f_then) @ axes(then).T @ axes(now) @ np.linalg.inv(k(f_now))


def _match(before: np.ndarray, now: np.ndarray, p: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Where the patch of `before` around `p` is in `now`, searched around `predicted` (frame
    pixels); `predicted` when it cannot be told."""
    if not (np.isfinite(predicted).all() and np.isfinite(p).all()):
        return predicted
    q, g = p / HALF, predicted / HALF
    x, y = int(round(q[0])), int(round(q[1]))
    gx, gy = int(round(g[0])), int(round(g[1]))
    r, m = PATCH, PATCH + SEARCH
    h, w = before.shape
    if not (r <= x < w - r and r <= y < h - r and m <= gx < w - m and m <= gy < h - m):
        return predicted
    patch = before[y - r : y + r + 1, x - r : x + r + 1]
    if patch.std() < MIN_TEXTURE:
        return predicted
    area = now[gy - m : gy + m + 1, gx - m : gx + m + 1]
    score = cv2.matchTemplate(area, patch, cv2.TM_CCOEFF_NORMED)
    _, best, _, (bx, by) = cv2.minMaxLoc(score)
    if best < MIN_SCORE:
        return predicted
    dx = _peak(score[by, max(bx - 1, 0) : bx + 2], bx)
    dy = _peak(score[max(by - 1, 0) : by + 2, bx], by)
    # the patch's centre moved from (x, y) in `before` to this point of `now`
    found = np.array([gx - SEARCH + bx + dx + (q[0] - x), gy - SEARCH + by + dy + (q[1] - y)])
    return found * HALF


def _peak(values: np.ndarray, at: int) -> float:
    """Sub-pixel offset of a correlation peak from a parabola through it and its neighbours."""
    if len(values) != 3 or at == 0:
        return 0.0
    a, b, c = (float(v) for v in values)
    bend = a - 2 * b + c
    return 0.0 if bend >= 0 else 0.5 * (a - c) / bend
