"""Image planes in patient space (LPS, millimetres) and the maths of slice stacks.

A :class:`PlaneGeometry` places one frame: Image Position (Patient) is the centre of the
first transmitted pixel; the row cosines point along a row (increasing column index),
the column cosines down a column (increasing row index); Pixel Spacing is (distance
between rows, distance between columns).

:func:`sort_by_position` orders frames along the slice normal, :func:`slice_spacing_mm`
and :func:`check_stack` tell whether a stack forms a consistent volume.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from workstation.i18n import _

#: Direction cosines that differ by less than this are "the same orientation".
ORIENTATION_TOLERANCE = 1e-3
#: Relative variation of slice gaps still called "constant spacing".
SPACING_TOLERANCE = 0.01
#: How far (mm) a slice may sit off the line along the normal before we call it sheared.
SHEAR_TOLERANCE_MM = 0.1


@dataclass(frozen=True)
class PlaneGeometry:
    """Where one frame lies in the patient."""

    position: tuple[float, float, float]
    row_cosines: tuple[float, float, float]
    column_cosines: tuple[float, float, float]
    pixel_spacing_mm: tuple[float, float] | None = None

    @property
    def normal(self) -> np.ndarray:
        n = np.cross(np.asarray(self.row_cosines), np.asarray(self.column_cosines))
        norm = float(np.linalg.norm(n))
        return n / norm if norm > 0 else n

    def pixel_to_patient(self, column: float, row: float) -> np.ndarray:
        """Patient coordinates (mm) of a pixel position (column, row), centres at integers."""
        if self.pixel_spacing_mm is None:
            raise ValueError("no pixel spacing")
        row_mm, col_mm = self.pixel_spacing_mm
        return (
            np.asarray(self.position)
            + column * col_mm * np.asarray(self.row_cosines)
            + row * row_mm * np.asarray(self.column_cosines)
        )

    def distance_along_normal(self) -> float:
        return float(np.dot(self.normal, np.asarray(self.position)))


def plane_geometry_of(
    position_item: Any | None, orientation_item: Any | None, spacing: tuple[float, float] | None
) -> PlaneGeometry | None:
    """A :class:`PlaneGeometry` from the items holding IPP and IOP, or None if unusable."""
    if position_item is None or orientation_item is None:
        return None
    pos = _floats(position_item.get("ImagePositionPatient"), 3)
    iop = _floats(orientation_item.get("ImageOrientationPatient"), 6)
    if pos is None or iop is None:
        return None
    row, col = np.asarray(iop[:3]), np.asarray(iop[3:])
    if abs(np.linalg.norm(row) - 1) > 0.05 or abs(np.linalg.norm(col) - 1) > 0.05:
        return None
    if abs(float(np.dot(row, col))) > 0.05:
        return None
    row, col = row / np.linalg.norm(row), col / np.linalg.norm(col)
    return PlaneGeometry(
        (pos[0], pos[1], pos[2]),
        (float(row[0]), float(row[1]), float(row[2])),
        (float(col[0]), float(col[1]), float(col[2])),
        spacing,
    )


def _floats(value: Any, n: int) -> list[float] | None:
    if value is None:
        return None
    try:
        out = [float(v) for v in list(value)[:n]]
    except (TypeError, ValueError):
        return None
    if len(out) != n or not all(np.isfinite(out)):
        return None
    return out


def sort_by_position(planes: Sequence[PlaneGeometry]) -> list[int]:
    """Indices of `planes` ordered by position along the normal of the first plane."""
    if not planes:
        return []
    normal = planes[0].normal
    keys = [float(np.dot(normal, np.asarray(p.position))) for p in planes]
    return sorted(range(len(planes)), key=lambda i: keys[i])


def slice_spacing_mm(planes: Sequence[PlaneGeometry]) -> float | None:
    """The median gap between neighbouring slices along the normal (sorted input), or None."""
    if len(planes) < 2:
        return None
    normal = planes[0].normal
    d = np.array([np.dot(normal, np.asarray(p.position)) for p in planes])
    gaps = np.abs(np.diff(d))
    return float(np.median(gaps)) if gaps.size else None


@dataclass(frozen=True)
class StackCheck:
    """Whether frames form a volume: ``ok`` with the spacing, or a readable reason."""

    ok: bool
    reason: str = ""
    spacing_mm: float | None = None
    order: tuple[int, ...] = ()


def check_stack(
    planes: Sequence[PlaneGeometry | None], shapes: Sequence[tuple[int, int]]
) -> StackCheck:
    """Do these frames (any order) form a regular volume? Sorted order in ``order``."""
    if len(planes) < 2:
        return StackCheck(False, _("A volume needs at least two slices."))
    if any(p is None or p.pixel_spacing_mm is None for p in planes):
        return StackCheck(False, _("Some slices have no position, orientation or pixel spacing."))
    geo = [p for p in planes if p is not None]
    if len(set(shapes)) != 1:
        return StackCheck(False, _("The slices do not all have the same size."))
    first = geo[0]
    iop0 = np.asarray(first.row_cosines + first.column_cosines)
    for p in geo[1:]:
        if (
            np.abs(np.asarray(p.row_cosines + p.column_cosines) - iop0).max()
            > ORIENTATION_TOLERANCE
        ):
            return StackCheck(False, _("The slices do not all have the same orientation."))
        if np.abs(np.asarray(p.pixel_spacing_mm) - np.asarray(first.pixel_spacing_mm)).max() > 1e-3:
            return StackCheck(False, _("The slices do not all have the same pixel spacing."))
    return _check_positions(geo)


def _check_positions(geo: list[PlaneGeometry]) -> StackCheck:
    order = sort_by_position(geo)
    ordered = [geo[i] for i in order]
    normal = ordered[0].normal
    pos = np.array([p.position for p in ordered])
    along = pos @ normal
    gaps = np.diff(along)
    if np.any(gaps < 1e-3):
        return StackCheck(False, _("Two or more slices share the same position."))
    # Positions must lie on a line along the normal (no gantry tilt / shear).
    offsets = pos - pos[0] - np.outer(along - along[0], normal)
    if np.abs(offsets).max() > SHEAR_TOLERANCE_MM:
        return StackCheck(
            False, _("The slices are sheared (gantry tilt); the volume is not regular.")
        )
    spacing = float(np.median(gaps))
    if np.abs(gaps - spacing).max() > SPACING_TOLERANCE * spacing + 1e-3:
        return StackCheck(
            False, _("The gaps between slices are not constant."), spacing, tuple(order)
        )
    return StackCheck(True, "", spacing, tuple(order))
