"""Patient-space geometry of 2-D frames: plane maths for sync and reference lines.

Orientation letters come from :mod:`workstation.imaging.orientation`.

Pixel coordinates are (column, row) with integer values at pixel centres, the DICOM
convention in which Image Position (Patient) is the centre of the first pixel.
"""

from __future__ import annotations

import numpy as np

from workstation.viewer.frames import FrameGeometry


def _axes(g: FrameGeometry) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Origin, row direction (along columns), column direction (down rows), normal."""
    assert g.image_position is not None
    assert g.image_orientation is not None
    origin = np.asarray(g.image_position, dtype=float)
    row_dir = np.asarray(g.image_orientation[:3], dtype=float)
    col_dir = np.asarray(g.image_orientation[3:], dtype=float)
    normal = np.cross(row_dir, col_dir)
    return origin, row_dir, col_dir, normal


def _spacing(g: FrameGeometry) -> tuple[float, float]:
    return g.pixel_spacing_mm or (1.0, 1.0)


def pixel_to_patient(g: FrameGeometry, col: float, row: float) -> np.ndarray:
    """Patient coordinates (mm) of a point given in pixel coordinates."""
    origin, row_dir, col_dir, _n = _axes(g)
    row_mm, col_mm = _spacing(g)
    return origin + col * col_mm * row_dir + row * row_mm * col_dir


def patient_to_pixel(g: FrameGeometry, point: np.ndarray) -> tuple[float, float]:
    """Pixel (column, row) of the projection of a patient point onto the frame."""
    origin, row_dir, col_dir, _n = _axes(g)
    row_mm, col_mm = _spacing(g)
    d = np.asarray(point, dtype=float) - origin
    return float(d @ row_dir) / col_mm, float(d @ col_dir) / row_mm


def slice_location(g: FrameGeometry, normal: np.ndarray | None = None) -> float:
    """Signed distance of the frame's plane along ``normal`` (its own normal by default)."""
    origin, _r, _c, own = _axes(g)
    return float(origin @ (own if normal is None else normal))


def plane_normal(g: FrameGeometry) -> np.ndarray:
    return _axes(g)[3]


def nearest_index(target: FrameGeometry, candidates: list[FrameGeometry | None]) -> int | None:
    """The candidate whose plane is nearest the target's position along the candidates' normal."""
    planes = [c for c in candidates if c is not None and c.has_plane]
    if not target.has_plane or not planes:
        return None
    normal = plane_normal(planes[0])
    centre = pixel_to_patient(target, (target.columns - 1) / 2, (target.rows - 1) / 2)
    where = float(centre @ normal)
    best, best_d = None, float("inf")
    for i, c in enumerate(candidates):
        if c is None or not c.has_plane:
            continue
        d = abs(slice_location(c, normal) - where)
        if d < best_d:
            best, best_d = i, d
    return best


def reference_line(
    on: FrameGeometry, other: FrameGeometry
) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """Where ``other``'s plane cuts frame ``on``, as a segment in ``on``'s pixel coordinates.

    ``None`` when the planes are parallel (or either lacks geometry).
    """
    if not (on.has_plane and other.has_plane):
        return None
    if on.frame_of_reference_uid != other.frame_of_reference_uid:
        return None
    o_other, _r, _c, n_other = _axes(other)
    # Corners of `on`, then where each edge crosses the other plane.
    w, h = on.columns - 1, on.rows - 1
    corners = [(0, 0), (w, 0), (w, h), (0, h)]
    dist = [float((pixel_to_patient(on, c, r) - o_other) @ n_other) for c, r in corners]
    points: list[tuple[float, float]] = []
    for i in range(4):
        j = (i + 1) % 4
        di, dj = dist[i], dist[j]
        if di == dj:
            continue
        if (di <= 0 <= dj) or (dj <= 0 <= di):
            t = di / (di - dj)
            ci, ri = corners[i]
            cj, rj = corners[j]
            p = (ci + t * (cj - ci), ri + t * (rj - ri))
            if all(abs(p[0] - q[0]) > 1e-6 or abs(p[1] - q[1]) > 1e-6 for q in points):
                points.append(p)
    if len(points) < 2:
        return None
    return points[0], points[1]
