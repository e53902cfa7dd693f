"""A small pydicom decoder for the viewer, used when the imaging loader is not available.

It covers what a 2-D stack needs (modality LUT, first window, MONOCHROME1, colour via
pydicom, calibration, plane geometry, cine rate); the imaging package's loader does the
full job (VOI LUT functions, enhanced multi-frame, process pool) and is preferred by
:mod:`workstation.viewer.sources` when present.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from workstation.i18n import _
from workstation.viewer.frames import CalibratedRegion, DisplayFrame, FrameGeometry, SeriesHeader

logger = logging.getLogger(__name__)

#: Refuse frames bigger than this many pixels before decoding (hostile headers).
MAX_FRAME_PIXELS = 64 * 1024 * 1024


def _floats(value: Any, n: int) -> tuple[float, ...] | None:
    try:
        out = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        return None
    return out if len(out) == n and all(np.isfinite(out)) else None


def calibration(ds: Any) -> tuple[tuple[float, float] | None, str]:
    """Pixel spacing (row, column) in mm and where it came from; (None, "") when absent."""
    for keyword, source in (
        ("PixelSpacing", "pixel_spacing"),
        ("ImagerPixelSpacing", "imager_pixel_spacing"),
    ):
        sp = _floats(ds.get(keyword), 2)
        if sp and sp[0] > 0 and sp[1] > 0:
            return (sp[0], sp[1]), source
    regions = us_regions(ds)
    if regions:
        return (regions[0].row_spacing_mm, regions[0].column_spacing_mm), "us_region"
    return None, ""


def us_regions(ds: Any) -> tuple[CalibratedRegion, ...]:
    """Ultrasound regions calibrated in centimetres (Physical Units 3)."""
    out = []
    for region in ds.get("SequenceOfUltrasoundRegions") or []:
        try:
            units = (region.get("PhysicalUnitsXDirection"), region.get("PhysicalUnitsYDirection"))
            if units != (3, 3):
                continue
            dx, dy = abs(float(region.PhysicalDeltaX)), abs(float(region.PhysicalDeltaY))
            x0, y0, x1, y1 = (
                float(region.get(k, 0) or 0)
                for k in (
                    "RegionLocationMinX0",
                    "RegionLocationMinY0",
                    "RegionLocationMaxX1",
                    "RegionLocationMaxY1",
                )
            )
        except (AttributeError, TypeError, ValueError):
            continue
        if dx > 0 and dy > 0:
            out.append(CalibratedRegion(x0, y0, x1, y1, dy * 10.0, dx * 10.0))
    return tuple(out)


def geometry_of(ds: Any) -> FrameGeometry:
    spacing, source = calibration(ds)
    ipp = _floats(ds.get("ImagePositionPatient"), 3)
    iop = _floats(ds.get("ImageOrientationPatient"), 6)
    return FrameGeometry(
        rows=int(ds.get("Rows", 0) or 0),
        columns=int(ds.get("Columns", 0) or 0),
        pixel_spacing_mm=spacing,
        calibration_source=source,
        image_position=ipp,  # type: ignore[arg-type]
        image_orientation=iop,  # type: ignore[arg-type]
        frame_of_reference_uid=str(ds.get("FrameOfReferenceUID", "")),
        regions=us_regions(ds) if source == "us_region" else (),
    )


def cine_rate(ds: Any) -> float | None:
    """Frames per second from Frame Time, Cine Rate or Recommended Display Frame Rate."""
    try:
        if ds.get("FrameTime"):
            ft = float(ds.FrameTime)
            if ft > 0:
                return 1000.0 / ft
        for keyword in ("CineRate", "RecommendedDisplayFrameRate"):
            if ds.get(keyword):
                rate = float(ds.get(keyword))
                if rate > 0:
                    return rate
    except (TypeError, ValueError):
        return None
    return None


def series_header(ds: Any) -> SeriesHeader:
    def text(keyword: str) -> str:
        return str(ds.get(keyword, "") or "")

    number = ds.get("SeriesNumber")
    try:
        series_number = int(number) if number not in (None, "") else None
    except (TypeError, ValueError):
        series_number = None
    return SeriesHeader(
        series_instance_uid=text("SeriesInstanceUID"),
        study_instance_uid=text("StudyInstanceUID"),
        modality=text("Modality"),
        series_description=text("SeriesDescription"),
        series_number=series_number,
        patient_name=text("PatientName").replace("^", " ").strip(),
        patient_id=text("PatientID"),
        study_description=text("StudyDescription"),
        study_date=text("StudyDate"),
        cine_rate_fps=cine_rate(ds),
    )


def _window(ds: Any) -> tuple[float, float] | None:
    c, w = ds.get("WindowCenter"), ds.get("WindowWidth")
    if c is None or w is None:
        return None
    try:
        c = float(c[0]) if hasattr(c, "__len__") and not isinstance(c, str) else float(c)
        w = float(w[0]) if hasattr(w, "__len__") and not isinstance(w, str) else float(w)
    except (TypeError, ValueError, IndexError):
        return None
    return (c, w) if w > 0 else None


def _modality_values(arr: np.ndarray, ds: Any) -> np.ndarray:
    slope = float(ds.get("RescaleSlope", 1) or 1)
    intercept = float(ds.get("RescaleIntercept", 0) or 0)
    if slope == 1.0 and intercept.is_integer():
        out = arr.astype(np.int32) + int(intercept) if intercept else arr
        if out.dtype != np.int16 and out.min() >= -32768 and out.max() <= 32767:
            out = out.astype(np.int16)
        return out
    return (arr.astype(np.float32) * slope + intercept).astype(np.float32)


def _to_rgb8(arr: np.ndarray) -> np.ndarray:
    if arr.dtype == np.uint8:
        return arr
    top = float(arr.max()) if arr.size else 0.0
    shift = 8 if top > 255 else 0
    return (arr >> shift).astype(np.uint8) if arr.dtype.kind in "iu" else arr.astype(np.uint8)


def decode(ds: Any, frame_index: int) -> DisplayFrame:
    """Decode one frame of a data set read with pixels; an error frame on any failure."""
    geometry = geometry_of(ds)
    sop = str(ds.get("SOPInstanceUID", ""))
    reason = _check(ds, geometry)
    if reason:
        return DisplayFrame(sop, frame_index, geometry, None, error=reason)
    try:
        from pydicom.pixels import apply_color_lut, pixel_array

        arr = pixel_array(ds, index=frame_index) if _frames(ds) > 1 else ds.pixel_array
        photometric = str(ds.get("PhotometricInterpretation", ""))
        if photometric == "PALETTE COLOR":
            return DisplayFrame(sop, frame_index, geometry, _to_rgb8(apply_color_lut(arr, ds)))
        if arr.ndim == 3:
            return DisplayFrame(sop, frame_index, geometry, _to_rgb8(arr))
        modality = str(ds.get("Modality", ""))
        units = "HU" if modality == "CT" else str(ds.get("RescaleType", "") or "")
        return DisplayFrame(
            sop,
            frame_index,
            geometry,
            _modality_values(arr, ds),
            window=_window(ds),
            inverted=photometric == "MONOCHROME1",
            units=units,
        )
    except Exception as exc:  # noqa: BLE001 - any decoder fault becomes a tile, never a crash
        # Messages may quote file paths or values: only the type above DEBUG (no PHI).
        logger.warning("frame %d of %s cannot be decoded: %s", frame_index, sop, type(exc).__name__)
        logger.debug("decoder detail: %s", exc)
        return DisplayFrame(sop, frame_index, geometry, None, error=str(exc) or type(exc).__name__)


def _frames(ds: Any) -> int:
    try:
        return max(1, int(ds.get("NumberOfFrames", 1) or 1))
    except (TypeError, ValueError):
        return 1


def _check(ds: Any, g: FrameGeometry) -> str:
    if "PixelData" not in ds:
        return _("the file has no pixel data")
    if g.rows <= 0 or g.columns <= 0:
        return _("the image size (rows, columns) is missing or invalid")
    if g.rows * g.columns > MAX_FRAME_PIXELS:
        return _("the image is too large to display")
    return ""
