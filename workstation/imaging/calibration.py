"""How many millimetres a pixel spans, where that comes from, or why it is unknown.

Sources, in order of preference (PS3.3 10.7.1.3, C.8.5.5):

1. Pixel Spacing (0028,0030), per frame for enhanced images (Pixel Measures): spacing in
   the patient.
2. Imager Pixel Spacing (0018,1164) of projection radiography: spacing at the detector.
   With Estimated Radiographic Magnification Factor it is divided by the factor;
   without, lengths are magnified and the reason says so.
3. Sequence of Ultrasound Regions with physical units of centimetres in X and Y:
   valid only inside each region.

:func:`calibration_of` returns a :class:`Calibration`, never raises.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from workstation.i18n import _
from workstation.imaging.functional_groups import group_item

_US_UNIT_CM = 3


class CalibrationSource(StrEnum):
    PIXEL_SPACING = "pixel-spacing"
    IMAGER_PIXEL_SPACING = "imager-pixel-spacing"
    MAGNIFICATION_CORRECTED = "imager-pixel-spacing-magnification-corrected"
    ULTRASOUND_REGION = "ultrasound-region"
    NONE = "none"


@dataclass(frozen=True)
class UltrasoundRegion:
    """One calibrated ultrasound region: pixel bounds (inclusive) and mm per pixel."""

    x0: int
    y0: int
    x1: int
    y1: int
    column_spacing_mm: float
    row_spacing_mm: float

    def contains(self, x: float, y: float) -> bool:
        return self.x0 - 0.5 <= x <= self.x1 + 0.5 and self.y0 - 0.5 <= y <= self.y1 + 0.5


@dataclass(frozen=True)
class Calibration:
    """Millimetres per pixel, or None with a reason.

    Attributes
    ----------
    source : CalibrationSource
    row_spacing_mm, column_spacing_mm : float or None
        Distance between rows (vertical pixel size) and between columns (horizontal),
        for the whole image; None for no calibration or region-wise ultrasound.
    reason : str
        Why there is no calibration, or a caveat the user should see; translated.
    regions : tuple of UltrasoundRegion
        Calibrated ultrasound regions (source ULTRASOUND_REGION).
    """

    source: CalibrationSource
    row_spacing_mm: float | None = None
    column_spacing_mm: float | None = None
    reason: str = ""
    regions: tuple[UltrasoundRegion, ...] = ()

    @property
    def is_calibrated(self) -> bool:
        return self.source is not CalibrationSource.NONE

    def spacing_at(self, x: float, y: float) -> tuple[float, float] | None:
        """(column mm, row mm) at pixel position (x=column, y=row), or None."""
        if self.row_spacing_mm is not None and self.column_spacing_mm is not None:
            return self.column_spacing_mm, self.row_spacing_mm
        for region in self.regions:
            if region.contains(x, y):
                return region.column_spacing_mm, region.row_spacing_mm
        return None

    def length_mm(self, p0: tuple[float, float], p1: tuple[float, float]) -> float | None:
        """Length in mm between two pixel positions (x, y), or None when uncalibrated there.

        For ultrasound both ends must lie in the same calibrated region.
        """
        s0, s1 = self.spacing_at(*p0), self.spacing_at(*p1)
        if s0 is None or s1 is None or s0 != s1:
            return None
        dx, dy = (p1[0] - p0[0]) * s0[0], (p1[1] - p0[1]) * s0[1]
        return math.hypot(dx, dy)

    def area_mm2(self, pixel_area: float, at: tuple[float, float]) -> float | None:
        """Area in mm² of `pixel_area` square pixels around position `at`."""
        s = self.spacing_at(*at)
        return None if s is None else pixel_area * s[0] * s[1]


def calibration_of(ds: Any, frame: int = 0) -> Calibration:
    """The calibration of `frame` of the data set `ds` (a pydicom Dataset)."""
    measures = group_item(ds, frame, "PixelMeasuresSequence")
    spacing = spacing_pair((measures or {}).get("PixelSpacing") if measures else None)
    if spacing is None:
        spacing = spacing_pair(ds.get("PixelSpacing"))
    if spacing is not None:
        return Calibration(CalibrationSource.PIXEL_SPACING, spacing[0], spacing[1])
    imager = spacing_pair(ds.get("ImagerPixelSpacing"))
    if imager is not None:
        return _imager_calibration(ds, imager)
    regions = _ultrasound_regions(ds)
    if regions:
        return Calibration(CalibrationSource.ULTRASOUND_REGION, regions=regions)
    return Calibration(
        CalibrationSource.NONE,
        reason=_("This image carries no pixel spacing; lengths are in pixels only."),
    )


def spacing_pair(value: Any) -> tuple[float, float] | None:
    """(row spacing, column spacing) from a Pixel Spacing-like value, or None if unusable."""
    if value is None:
        return None
    try:
        items = [float(v) for v in list(value)[:2]]
    except (TypeError, ValueError):
        return None
    if len(items) == 1:
        items = items * 2
    if len(items) != 2 or not all(math.isfinite(v) and v > 0 for v in items):
        return None
    return items[0], items[1]


def _imager_calibration(ds: Any, imager: tuple[float, float]) -> Calibration:
    try:
        factor = float(ds.get("EstimatedRadiographicMagnificationFactor") or 0)
    except (TypeError, ValueError):
        factor = 0.0
    if factor > 0 and math.isfinite(factor):
        return Calibration(
            CalibrationSource.MAGNIFICATION_CORRECTED,
            imager[0] / factor,
            imager[1] / factor,
            _("Calibrated at the detector and corrected by the estimated magnification."),
        )
    return Calibration(
        CalibrationSource.IMAGER_PIXEL_SPACING,
        imager[0],
        imager[1],
        _("Calibrated at the detector, not at the patient: lengths include magnification."),
    )


def _ultrasound_regions(ds: Any) -> tuple[UltrasoundRegion, ...]:
    out = []
    for item in ds.get("SequenceOfUltrasoundRegions") or ():
        try:
            if int(item.get("PhysicalUnitsXDirection", 0)) != _US_UNIT_CM:
                continue
            if int(item.get("PhysicalUnitsYDirection", 0)) != _US_UNIT_CM:
                continue
            dx, dy = abs(float(item.PhysicalDeltaX)) * 10.0, abs(float(item.PhysicalDeltaY)) * 10.0
            bounds = [
                int(item.get(k))
                for k in (
                    "RegionLocationMinX0",
                    "RegionLocationMinY0",
                    "RegionLocationMaxX1",
                    "RegionLocationMaxY1",
                )
            ]
        except (AttributeError, TypeError, ValueError):
            continue
        if dx > 0 and dy > 0 and math.isfinite(dx) and math.isfinite(dy):
            x0, y0, x1, y1 = bounds
            out.append(UltrasoundRegion(x0, y0, x1, y1, column_spacing_mm=dx, row_spacing_mm=dy))
    return tuple(out)
