"""The MPR crosshair point on 2-D frames (no Qt): which slice is nearest, and the mark.

The point comes in LPS through :class:`~workstation.viewer.crosshair_link.CrosshairLink`.
A viewport of the same Frame of Reference jumps to the slice nearest the point
(:func:`nearest_slice`) and draws a small cross where the point projects on that
frame when it lies within half a slice of it (:func:`mark_segments`), in the frame's
pixel coordinates like the reference lines.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from workstation.viewer import geometry
from workstation.viewer.frames import FrameGeometry

Segment = tuple[tuple[float, float], tuple[float, float]]
#: The arms of the cross reach this share of the image's diagonal from the point, around
#: a gap a quarter as long (image pixels: the mark zooms with the image, like a
#: measurement, and needs no redrawing when the zoom changes).
MARK_ARM_SHARE = 0.03
MARK_GAP_SHARE = 0.25
#: A point within this distance (mm) of a frame's plane is on it (thin stacks, rounding).
MIN_TOLERANCE_MM = 0.5


def nearest_slice(candidates: Sequence[FrameGeometry | None], point: np.ndarray) -> int | None:
    """Index of the candidate frame whose plane is nearest `point` (None: no geometry)."""
    best, best_d = None, float("inf")
    for i, g in enumerate(candidates):
        if g is None or not g.has_plane:
            continue
        normal = geometry.plane_normal(g)
        d = abs(float(np.asarray(point, float) @ normal) - geometry.slice_location(g))
        if d < best_d:
            best, best_d = i, d
    return best


def slice_gap_mm(candidates: Sequence[FrameGeometry | None]) -> float:
    """The median distance between neighbouring planes of a stack (0 for one frame)."""
    planes = [g for g in candidates if g is not None and g.has_plane]
    if len(planes) < 2:
        return 0.0
    normal = geometry.plane_normal(planes[0])
    where = np.sort([geometry.slice_location(g, normal) for g in planes])
    return float(np.median(np.diff(where)))


def mark_segments(g: FrameGeometry, point: np.ndarray, tolerance_mm: float) -> list[Segment]:
    """A cross (four arms around a gap) where `point` projects on frame `g`, if the point
    is within `tolerance_mm` of its plane and inside the image; else nothing."""
    if not g.has_plane:
        return []
    normal = geometry.plane_normal(g)
    off = float(np.asarray(point, float) @ normal) - geometry.slice_location(g)
    if abs(off) > max(tolerance_mm, MIN_TOLERANCE_MM):
        return []
    c, r = geometry.patient_to_pixel(g, point)
    if not (-0.5 <= c <= g.columns - 0.5 and -0.5 <= r <= g.rows - 0.5):
        return []
    b = max(MARK_ARM_SHARE * float(np.hypot(g.columns, g.rows)), 2.0)
    a = MARK_GAP_SHARE * b
    return [
        ((c - b, r), (c - a, r)),
        ((c + a, r), (c + b, r)),
        ((c, r - b), (c, r - a)),
        ((c, r + a), (c, r + b)),
    ]
