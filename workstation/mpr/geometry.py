"""Planes through a volume, in LPS millimetres (numpy only).

A :class:`Plane` is a rectangle of ``size`` = (columns, rows) pixels of ``spacing_mm``,
centred on ``centre_mm``; pixel (c, r) lies at
``centre + (c - (columns-1)/2) * spacing * row + (r - (rows-1)/2) * spacing * column``,
so ``row`` is Image Orientation's row direction (towards increasing column index) and
``column`` its column direction. ``normal = row x column``, as in DICOM.

Standard views follow radiology convention: axial seen from the feet (patient's right on
the screen's left, anterior up), coronal from the front (right on the left, head up),
sagittal from the patient's left (anterior on the left, head up). Orientation labels come
from the plane's own vectors (:func:`plane_labels`), so they stay right for obliques.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TypeAlias

import numpy as np

from workstation.imaging.orientation import OrientationLabels, orientation_labels

#: A 3-vector: a tuple, list or numpy array.
Vector: TypeAlias = Sequence[float] | np.ndarray

#: Thickest slab offered (mm).
MAX_SLAB_MM = 50.0


class PlaneKind(enum.StrEnum):
    AXIAL = "axial"
    CORONAL = "coronal"
    SAGITTAL = "sagittal"
    OBLIQUE = "oblique"


class SlabMode(enum.StrEnum):
    """How a thick slab combines its samples along the normal."""

    MIP = "mip"
    MINIP = "minip"
    AVERAGE = "avg"


#: (row, column) direction of each standard plane in LPS.
_STANDARD = {
    PlaneKind.AXIAL: ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),
    PlaneKind.CORONAL: ((1.0, 0.0, 0.0), (0.0, 0.0, -1.0)),
    PlaneKind.SAGITTAL: ((0.0, 1.0, 0.0), (0.0, 0.0, -1.0)),
}


@dataclass(frozen=True)
class Slab:
    """A thick slab: `thickness_mm` (0-50) combined by `mode`, sampled every `step_mm`."""

    thickness_mm: float
    mode: SlabMode = SlabMode.MIP
    step_mm: float = 1.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.thickness_mm <= MAX_SLAB_MM:
            raise ValueError(f"slab thickness {self.thickness_mm} mm is outside 0-{MAX_SLAB_MM}")
        if self.step_mm <= 0:
            raise ValueError("slab step must be positive")

    @property
    def samples(self) -> int:
        """Samples along the normal (odd, centred on the plane; 1 for a thin slab)."""
        half = math.floor(self.thickness_mm / 2.0 / self.step_mm + 1e-9)
        return 2 * half + 1

    def offsets_mm(self) -> np.ndarray:
        half = (self.samples - 1) // 2
        return np.arange(-half, half + 1) * self.step_mm


@dataclass(frozen=True)
class Plane:
    """A sampled rectangle in patient space."""

    centre_mm: tuple[float, float, float]
    row: tuple[float, float, float]
    column: tuple[float, float, float]
    spacing_mm: float
    size: tuple[int, int]
    kind: PlaneKind = PlaneKind.OBLIQUE

    @property
    def normal(self) -> np.ndarray:
        (a, b, c), (d, e, f) = self.row, self.column
        return np.array([b * f - c * e, c * d - a * f, a * e - b * d])

    @property
    def origin_mm(self) -> np.ndarray:
        """LPS of pixel (0, 0): the first transmitted pixel, as Image Position (Patient)."""
        return self.pixel_to_patient(np.array([0.0, 0.0]))

    def pixel_to_patient(self, cr: Vector) -> np.ndarray:
        """LPS of pixel positions (column, row), shape (..., 2) in, (..., 3) out."""
        cr = np.asarray(cr, dtype=float)
        c = cr[..., 0:1] - (self.size[0] - 1) / 2.0
        r = cr[..., 1:2] - (self.size[1] - 1) / 2.0
        return (
            np.asarray(self.centre_mm)
            + c * self.spacing_mm * np.asarray(self.row)
            + r * self.spacing_mm * np.asarray(self.column)
        )

    def patient_to_pixel(self, xyz: Vector) -> np.ndarray:
        """(column, row) of the projection of LPS points onto the plane."""
        d = np.asarray(xyz, dtype=float) - np.asarray(self.centre_mm)
        c = d @ np.asarray(self.row) / self.spacing_mm + (self.size[0] - 1) / 2.0
        r = d @ np.asarray(self.column) / self.spacing_mm + (self.size[1] - 1) / 2.0
        return np.stack([c, r], axis=-1)

    def distance_mm(self, xyz: Vector) -> np.ndarray:
        """Signed distance of LPS points from the plane along its normal."""
        return (np.asarray(xyz, dtype=float) - np.asarray(self.centre_mm)) @ self.normal

    def moved_to(self, point_mm: Vector) -> Plane:
        """The same plane shifted along its normal to pass through `point_mm`."""
        shift = float(self.distance_mm(point_mm))
        centre = np.asarray(self.centre_mm) + shift * self.normal
        return replace(self, centre_mm=_tuple3(centre))

    def shifted(self, distance_mm: float) -> Plane:
        centre = np.asarray(self.centre_mm) + distance_mm * self.normal
        return replace(self, centre_mm=_tuple3(centre))

    def image_orientation(self) -> list[float]:
        """Image Orientation (Patient) of this plane."""
        return [*map(float, self.row), *map(float, self.column)]


def plane_labels(plane: Plane) -> OrientationLabels:
    """L/R, A/P, H/F letters for the edges of `plane`, from its own vectors."""
    return orientation_labels(plane.image_orientation())


def standard_plane(
    kind: PlaneKind,
    corners_mm: np.ndarray,
    spacing_mm: float,
    centre_mm: Vector,
) -> Plane:
    """An axial, coronal or sagittal plane through `centre_mm` covering the corners."""
    row, column = _STANDARD[kind]
    return covering_plane(corners_mm, row, column, spacing_mm, centre_mm, kind)


def oblique_plane(
    corners_mm: np.ndarray,
    normal: Vector,
    spacing_mm: float,
    centre_mm: Vector,
    row_hint: Vector | None = None,
) -> Plane:
    """A plane with the given normal; its row is `row_hint` made perpendicular (default:
    the axis of LPS least aligned with the normal, with L, P or H positive)."""
    n = _unit(normal)
    hint = np.asarray(row_hint, dtype=float) if row_hint is not None else _least_aligned(n)
    row = hint - float(hint @ n) * n
    if np.linalg.norm(row) < 1e-6:
        raise ValueError("the row direction is parallel to the normal")
    row = _unit(row)
    column = np.cross(n, row)
    return covering_plane(corners_mm, _tuple3(row), _tuple3(column), spacing_mm, centre_mm)


def covering_plane(
    corners_mm: np.ndarray,
    row: Vector,
    column: Vector,
    spacing_mm: float,
    centre_mm: Vector,
    kind: PlaneKind = PlaneKind.OBLIQUE,
) -> Plane:
    """A plane through `centre_mm` whose rectangle covers the volume's corners."""
    r, c = _unit(row), _unit(column)
    n = np.cross(r, c)
    centre = np.asarray(centre_mm, dtype=float)
    mid = corners_mm.mean(axis=0)
    # centre in-plane on the volume, keep the requested depth along the normal
    in_plane_centre = mid + float((centre - mid) @ n) * n
    d = corners_mm - in_plane_centre
    half_w = float(np.abs(d @ r).max())
    half_h = float(np.abs(d @ c).max())
    size = (
        math.floor(2 * half_w / spacing_mm) + 1,
        math.floor(2 * half_h / spacing_mm) + 1,
    )
    return Plane(_tuple3(in_plane_centre), _tuple3(r), _tuple3(c), float(spacing_mm), size, kind)


def plane_stack(plane: Plane, corners_mm: np.ndarray, step_mm: float) -> list[Plane]:
    """Parallel copies of `plane` every `step_mm` along its normal covering the corners."""
    if step_mm <= 0:
        raise ValueError("step must be positive")
    depth = plane.distance_mm(corners_mm)
    lo, hi = float(depth.min()), float(depth.max())
    count = math.floor((hi - lo) / step_mm + 1e-6) + 1
    start = plane.shifted(lo + ((hi - lo) - (count - 1) * step_mm) / 2.0)
    return [start.shifted(k * step_mm) for k in range(count)]


def rotated(plane: Plane, axis: Vector, angle_deg: float) -> Plane:
    """`plane` turned by `angle_deg` about `axis` through its centre (Rodrigues)."""
    rot = rotation_matrix(axis, angle_deg)
    return replace(
        plane,
        row=_tuple3(rot @ np.asarray(plane.row)),
        column=_tuple3(rot @ np.asarray(plane.column)),
        kind=PlaneKind.OBLIQUE,
    )


def rotation_matrix(axis: Vector, angle_deg: float) -> np.ndarray:
    k = _unit(axis)
    a = math.radians(angle_deg)
    skew = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + math.sin(a) * skew + (1 - math.cos(a)) * skew @ skew


def _least_aligned(n: np.ndarray) -> np.ndarray:
    out = np.zeros(3)
    out[int(np.argmin(np.abs(n)))] = 1.0
    return out


def _unit(v: Vector) -> np.ndarray:
    a = np.asarray(v, dtype=float)
    norm = float(np.linalg.norm(a))
    if norm == 0:
        raise ValueError("zero vector")
    return a / norm


def _tuple3(v: np.ndarray) -> tuple[float, float, float]:
    return float(v[0]), float(v[1]), float(v[2])
