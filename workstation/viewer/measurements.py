"""Measurement maths on one frame: lengths, angles, ROI statistics, probes (numpy only).

Points are (column, row) in pixel coordinates with integer values at pixel centres.
Spacing is (row spacing, column spacing) in millimetres, as in DICOM Pixel Spacing, or
``None`` for an uncalibrated image, in which case lengths and areas come out in pixels.
ROI statistics run on modality values (after the modality LUT: HU for CT), never on the
windowed 8-bit picture.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Point = tuple[float, float]
Spacing = tuple[float, float] | None


def _mm(p: Point, spacing: Spacing) -> np.ndarray:
    row_mm, col_mm = spacing or (1.0, 1.0)
    return np.array([p[0] * col_mm, p[1] * row_mm], dtype=float)


def length(a: Point, b: Point, spacing: Spacing) -> float:
    """Distance between two points: mm when calibrated, else pixels."""
    return float(np.linalg.norm(_mm(b, spacing) - _mm(a, spacing)))


def angle(a: Point, vertex: Point, b: Point, spacing: Spacing) -> float:
    """Angle at ``vertex`` between the rays to ``a`` and ``b``, in degrees (0..180).

    Computed in millimetres, so non-square pixels give the true angle.
    """
    u = _mm(a, spacing) - _mm(vertex, spacing)
    v = _mm(b, spacing) - _mm(vertex, spacing)
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    if nu == 0 or nv == 0:
        return 0.0
    cos = float(np.clip(u @ v / (nu * nv), -1.0, 1.0))
    return math.degrees(math.acos(cos))


def cobb_angle(line1: tuple[Point, Point], line2: tuple[Point, Point], spacing: Spacing) -> float:
    """Cobb angle between two lines (e.g. vertebral endplates), in degrees (0..90)."""
    u = _mm(line1[1], spacing) - _mm(line1[0], spacing)
    v = _mm(line2[1], spacing) - _mm(line2[0], spacing)
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    if nu == 0 or nv == 0:
        return 0.0
    cos = abs(float(u @ v / (nu * nv)))
    return math.degrees(math.acos(min(cos, 1.0)))


@dataclass(frozen=True)
class RoiStats:
    mean: float
    sd: float
    minimum: float
    maximum: float
    #: Area of the outline: mm² when calibrated, else pixels.
    area: float
    pixel_count: int


def _polygon_area_mm2(points: Sequence[Point], spacing: Spacing) -> float:
    p = np.array([_mm(q, spacing) for q in points])
    x, y = p[:, 0], p[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def _grid(
    shape: tuple[int, int], lo: Point, hi: Point
) -> tuple[np.ndarray, np.ndarray, slice, slice]:
    rows, cols = shape
    c0, c1 = max(0, math.ceil(lo[0])), min(cols - 1, math.floor(hi[0]))
    r0, r1 = max(0, math.ceil(lo[1])), min(rows - 1, math.floor(hi[1]))
    cs, rs = slice(c0, max(c0, c1 + 1)), slice(r0, max(r0, r1 + 1))
    cc, rr = np.meshgrid(np.arange(cs.start, cs.stop), np.arange(rs.start, rs.stop))
    return cc, rr, rs, cs


def rectangle_mask(shape: tuple[int, int], a: Point, b: Point) -> np.ndarray:
    """Pixels whose centres lie inside the axis-aligned rectangle with corners a and b."""
    lo, hi = (min(a[0], b[0]), min(a[1], b[1])), (max(a[0], b[0]), max(a[1], b[1]))
    mask = np.zeros(shape, dtype=bool)
    _cc, _rr, rs, cs = _grid(shape, lo, hi)
    mask[rs, cs] = True
    return mask


def ellipse_mask(shape: tuple[int, int], a: Point, b: Point) -> np.ndarray:
    """Pixels whose centres lie inside the ellipse inscribed in the rectangle a-b."""
    lo, hi = (min(a[0], b[0]), min(a[1], b[1])), (max(a[0], b[0]), max(a[1], b[1]))
    cx, cy = (lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2
    rx, ry = max((hi[0] - lo[0]) / 2, 1e-9), max((hi[1] - lo[1]) / 2, 1e-9)
    mask = np.zeros(shape, dtype=bool)
    cc, rr, rs, cs = _grid(shape, lo, hi)
    mask[rs, cs] = ((cc - cx) / rx) ** 2 + ((rr - cy) / ry) ** 2 <= 1.0
    return mask


def polygon_mask(shape: tuple[int, int], points: Sequence[Point]) -> np.ndarray:
    """Pixels whose centres lie inside a closed polygon (even-odd rule)."""
    mask = np.zeros(shape, dtype=bool)
    if len(points) < 3:
        return mask
    p = np.asarray(points, dtype=float)
    cc, rr, rs, cs = _grid(shape, tuple(p.min(axis=0)), tuple(p.max(axis=0)))
    inside = np.zeros(cc.shape, dtype=bool)
    x0, y0 = p[:, 0], p[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    for xa, ya, xb, yb in zip(x0, y0, x1, y1):
        if ya == yb:
            continue
        crosses = (ya > rr) != (yb > rr)
        x_at = xa + (rr - ya) * (xb - xa) / (yb - ya)
        inside ^= crosses & (cc < x_at)
    mask[rs, cs] = inside
    return mask


def roi_stats(values: np.ndarray, mask: np.ndarray, area: float) -> RoiStats | None:
    """Mean, SD, min, max of ``values`` under ``mask``; ``None`` when the mask is empty."""
    if values.ndim != 2 or mask.shape != values.shape:
        return None
    picked = values[mask].astype(np.float64)
    if picked.size == 0:
        return None
    return RoiStats(
        mean=float(picked.mean()),
        sd=float(picked.std()),
        minimum=float(picked.min()),
        maximum=float(picked.max()),
        area=area,
        pixel_count=int(picked.size),
    )


def rectangle_stats(values: np.ndarray, a: Point, b: Point, spacing: Spacing) -> RoiStats | None:
    area = _polygon_area_mm2([a, (b[0], a[1]), b, (a[0], b[1])], spacing)
    return roi_stats(values, rectangle_mask(values.shape[:2], a, b), area)


def ellipse_stats(values: np.ndarray, a: Point, b: Point, spacing: Spacing) -> RoiStats | None:
    rx_mm, ry_mm = (_mm(b, spacing) - _mm(a, spacing)) / 2
    area = float(math.pi * abs(rx_mm) * abs(ry_mm))
    return roi_stats(values, ellipse_mask(values.shape[:2], a, b), area)


def polygon_stats(values: np.ndarray, points: Sequence[Point], spacing: Spacing) -> RoiStats | None:
    area = _polygon_area_mm2(points, spacing) if len(points) >= 3 else 0.0
    return roi_stats(values, polygon_mask(values.shape[:2], points), area)


def probe(values: np.ndarray, point: Point) -> float | tuple[int, ...] | None:
    """The value of the pixel under ``point`` (a tuple for colour); ``None`` outside."""
    c, r = round(point[0]), round(point[1])
    if not (0 <= r < values.shape[0] and 0 <= c < values.shape[1]):
        return None
    v = values[r, c]
    if np.ndim(v):
        return tuple(int(x) for x in v)
    return float(v)
