"""Does a series form a volume for MPR? The layout of its slices, from headers alone.

:func:`examine_stack` looks at the geometry of every frame (no pixels) and returns a
:class:`StackLayout`: either a reason why MPR is not offered, or how the slices are laid
out: the slice order of each phase (repeated positions are cardiac or dynamic phases,
offered as a choice, never merged), the gantry tilt (positions sheared along the
normal; sampled later through the exact sheared affine) and, when the gaps between
slices are uneven or a slice is missing, warnings naming the gap (the volume is then
resampled onto a regular grid along the slice axis, never silently stretched).

Tolerances are at least as accepting as OHIF's (orientation 0.01, spacing 20 %), but
nothing within them is hidden: any gap that is not regular to 1 % is resampled and named.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from workstation.i18n import _
from workstation.imaging.geometry import PlaneGeometry

#: Direction cosines that differ by at most this are one orientation (OHIF's floor).
ORIENTATION_TOLERANCE = 0.01
#: Pixel spacings that differ by at most this (mm) are one spacing.
PIXEL_SPACING_TOLERANCE_MM = 1e-3
#: Two slices closer than this along the normal share a position (mm).
SAME_POSITION_MM = 1e-3
#: Relative gap variation still regular (no resampling, no warning).
REGULAR_GAP_TOLERANCE = 0.01
#: Slice positions may sit this far (mm) off the fitted (possibly sheared) line.
LINE_TOLERANCE_MM = 0.1
#: Tilt below this many degrees is called no tilt.
MIN_TILT_DEG = 0.01


@dataclass(frozen=True)
class SliceGap:
    """A gap between neighbouring slices that is not the regular spacing."""

    after_slice: int
    gap_mm: float

    def describe(self, spacing_mm: float) -> str:
        return _(
            "Uneven slice spacing: a gap of {gap:.2f} mm after slice {n} (regular {spacing:.2f} "
            "mm); the volume was resampled to a regular grid."
        ).format(gap=self.gap_mm, n=self.after_slice + 1, spacing=spacing_mm)


@dataclass(frozen=True)
class StackLayout:
    """How the frames of a series form a volume, or why they do not.

    Attributes
    ----------
    reason : str
        Empty when MPR can be offered; else a sentence for the user.
    phases : tuple of tuple of int
        For each phase, the input indices of its slices sorted along the normal.
    positions_mm : numpy.ndarray
        Distance along the normal of each slice of a phase (sorted, mm).
    slice_step : numpy.ndarray
        LPS vector from one slice to the next per mm along the normal: the normal
        itself, plus the shear per mm when the gantry was tilted.
    spacing_mm : float
        The regular slice spacing (the median gap).
    tilt_deg : float
        Gantry tilt: the angle between the slice axis and the normal (0 if none).
    gaps : tuple of SliceGap
        Irregular gaps (the volume is resampled when there are any).
    """

    reason: str = ""
    phases: tuple[tuple[int, ...], ...] = ()
    positions_mm: np.ndarray | None = None
    slice_step: np.ndarray | None = None
    spacing_mm: float = 0.0
    tilt_deg: float = 0.0
    gaps: tuple[SliceGap, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.reason

    @property
    def phase_count(self) -> int:
        return len(self.phases)

    @property
    def regular(self) -> bool:
        return not self.gaps

    def warnings(self) -> tuple[str, ...]:
        """Sentences to show beside the volume (tilt, resampled gaps)."""
        out = []
        if self.tilt_deg >= MIN_TILT_DEG:
            out.append(
                _("Gantry tilt {angle:.1f}°: sampled through the tilted geometry.").format(
                    angle=self.tilt_deg
                )
            )
        out.extend(g.describe(self.spacing_mm) for g in self.gaps)
        return tuple(out)


def examine_stack(
    planes: Sequence[PlaneGeometry | None],
    shapes: Sequence[tuple[int, int]],
    acquisition_order: Sequence[float] | None = None,
) -> StackLayout:
    """Can these frames (any order) be read as a volume? See :class:`StackLayout`.

    `acquisition_order` sorts the frames that share a position into phases (e.g. the
    Instance Number or trigger time); input order when None.
    """
    refused = _refusal(planes, shapes)
    if refused:
        return StackLayout(reason=refused)
    geo = [p for p in planes if p is not None]
    normal = geo[0].normal
    order_key = list(acquisition_order) if acquisition_order is not None else list(range(len(geo)))
    groups = _position_groups(geo, normal)
    sizes = {len(g) for g in groups}
    if len(sizes) != 1:
        return StackLayout(
            reason=_("Some positions hold more images than others; the phases are incomplete.")
        )
    if len(groups) < 2:
        return StackLayout(reason=_("A volume needs at least two slice positions."))
    groups = [sorted(g, key=lambda i: (order_key[i], i)) for g in groups]
    phases = tuple(tuple(g[p] for g in groups) for p in range(sizes.pop()))
    return _layout(geo, phases, normal)


def _refusal(planes: Sequence[PlaneGeometry | None], shapes: Sequence[tuple[int, int]]) -> str:
    if len(planes) < 2:
        return _("A volume needs at least two slices.")
    if any(p is None or p.pixel_spacing_mm is None for p in planes):
        return _("Some slices have no position, orientation or pixel spacing.")
    if len(set(shapes)) != 1:
        return _("The slices do not all have the same size.")
    geo = [p for p in planes if p is not None]
    iop0 = np.asarray(geo[0].row_cosines + geo[0].column_cosines)
    spacing0 = np.asarray(geo[0].pixel_spacing_mm)
    for p in geo[1:]:
        if np.abs(np.asarray(p.row_cosines + p.column_cosines) - iop0).max() > (
            ORIENTATION_TOLERANCE
        ):
            return _("The slices do not all have the same orientation.")
        if np.abs(np.asarray(p.pixel_spacing_mm) - spacing0).max() > PIXEL_SPACING_TOLERANCE_MM:
            return _("The slices do not all have the same pixel spacing.")
    return ""


def _position_groups(geo: list[PlaneGeometry], normal: np.ndarray) -> list[list[int]]:
    """Input indices grouped by position, groups sorted along the normal."""
    along = np.array([float(np.dot(normal, p.position)) for p in geo])
    order = np.argsort(along, kind="stable")
    groups: list[list[int]] = []
    for i in order:
        if groups and abs(along[i] - along[groups[-1][0]]) < SAME_POSITION_MM:
            groups[-1].append(int(i))
        else:
            groups.append([int(i)])
    return groups


def _layout(
    geo: list[PlaneGeometry], phases: tuple[tuple[int, ...], ...], normal: np.ndarray
) -> StackLayout:
    first = phases[0]
    pos = np.array([geo[i].position for i in first], dtype=float)
    along = pos @ normal
    rel = along - along[0]
    offsets = pos - pos[0] - np.outer(rel, normal)
    # Least-squares shear per mm along the normal (zero for an untilted stack).
    shear = (rel @ offsets) / float(rel @ rel)
    residual = offsets - np.outer(rel, shear)
    if np.abs(residual).max() > LINE_TOLERANCE_MM:
        return StackLayout(reason=_("The slice positions do not lie on a line."))
    tilt = math.degrees(math.atan(float(np.linalg.norm(shear))))
    if tilt < MIN_TILT_DEG:
        shear, tilt = np.zeros(3), 0.0
    gaps = np.diff(along)
    spacing = float(np.median(gaps))
    irregular = np.abs(gaps - spacing) > REGULAR_GAP_TOLERANCE * spacing + 1e-3
    return StackLayout(
        phases=phases,
        positions_mm=along,
        slice_step=normal + shear,
        spacing_mm=spacing,
        tilt_deg=tilt,
        gaps=tuple(SliceGap(int(k), float(gaps[k])) for k in np.flatnonzero(irregular)),
    )
