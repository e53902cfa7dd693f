"""Measurements as a DICOM Structured Report: TID 1500 Measurement Report (via highdicom).

Why SR and not GSPS: the numbers (lengths, angles, ROI statistics in HU) are what reports
and other systems need, and TID 1500 carries them as coded, unit-bearing values with the
outline (SCOORD) and the image they were made on; GSPS carries only the drawing.  Each
annotation becomes one Planar ROI measurement group (TID 1410):

- length: POLYLINE of 2 points, "Length" in mm;  angle: POLYLINE of 3 points, "Angle";
- Cobb angle: POLYLINE of 4 points (the two lines), "Cobb angle";
- rectangle/freehand: closed POLYLINE, ellipse: ELLIPSE (two axes), with Mean, Standard
  Deviation, Minimum, Maximum (modality units: HU for CT) and Area in mm²;
- probe: POINT with "Mean" of the single pixel;  arrow: POLYLINE; text: POINT.
  The free text of text and arrow annotations goes in the group's tracking identifier.

Coordinates are written in the DICOM image convention (the top-left corner of the first
pixel is 0,0, so a pixel centre is +0.5).  Uncalibrated lengths and areas are left out
(they have no millimetres to give).  The file is written with pydicom's strict
validation.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from workstation.imaging.patient_study import PATIENT_STUDY_TYPE2
from workstation.viewer.annotations import Annotation, Kind

logger = logging.getLogger(__name__)

MANUFACTURER = "Klinika"


def _codes() -> Any:
    from pydicom.sr.codedict import codes

    return codes


def _graphic(a: Annotation) -> tuple[str, np.ndarray]:
    p = np.asarray(a.points, dtype=float) + 0.5
    if a.kind in (Kind.PROBE, Kind.TEXT):
        return "POINT", p[:1]
    if a.kind is Kind.RECTANGLE:
        (x0, y0), (x1, y1) = p[0], p[1]
        ring = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
        return "POLYLINE", np.asarray(ring)
    if a.kind is Kind.ELLIPSE:
        (x0, y0), (x1, y1) = p[0], p[1]
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        axes = [(x0, cy), (x1, cy), (cx, y0), (cx, y1)]
        if abs(x1 - x0) < abs(y1 - y0):  # major axis first
            axes = axes[2:] + axes[:2]
        return "ELLIPSE", np.asarray(axes)
    if a.kind is Kind.FREEHAND:
        return "POLYLINE", np.vstack([p, p[:1]])
    return "POLYLINE", p


def _measurements(a: Annotation) -> list[Any]:
    import highdicom as hd

    codes = _codes()
    r = a.results
    out = []

    def add(name: Any, value: float, unit: Any) -> None:
        if value is not None and math.isfinite(float(value)):
            out.append(hd.sr.Measurement(name=name, value=float(value), unit=unit))

    value_unit = codes.UCUM.HounsfieldUnit if r.get("value_unit") == "HU" else codes.UCUM.NoUnits
    if a.kind is Kind.LENGTH and r.get("length_unit") == "mm":
        add(codes.SCT.Length, r["length"], codes.UCUM.Millimeter)
    elif a.kind is Kind.ANGLE and "angle" in r:
        add(codes.SCT.Angle, r["angle"], codes.UCUM.Degree)
    elif a.kind is Kind.COBB and "angle" in r:
        add(codes.SCT.CobbAngle, r["angle"], codes.UCUM.Degree)
    elif "mean" in r:
        add(codes.SCT.Mean, r["mean"], value_unit)
        add(codes.SCT.StandardDeviation, r["sd"], value_unit)
        add(codes.SCT.Minimum, r["min"], value_unit)
        add(codes.SCT.Maximum, r["max"], value_unit)
        if r.get("area_unit") == "mm2":
            add(codes.SCT.Area, r["area"], codes.UCUM.SquareMillimeter)
    elif a.kind is Kind.PROBE and isinstance(r.get("value"), int | float):
        add(codes.SCT.Mean, r["value"], value_unit)
    return out


def _group(a: Annotation, source: Any, number: int) -> Any:
    import highdicom as hd

    graphic_type, data = _graphic(a)
    region = hd.sr.ImageRegion(
        graphic_type=graphic_type,
        graphic_data=data,
        source_image=hd.sr.SourceImageForRegion(
            referenced_sop_class_uid=source.SOPClassUID,
            referenced_sop_instance_uid=source.SOPInstanceUID,
            referenced_frame_numbers=[a.frame_index + 1]
            if int(source.get("NumberOfFrames", 1) or 1) > 1
            else None,
        ),
    )
    label = a.text.strip() or f"{a.kind.value} {number}"
    return hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=hd.UID(), identifier=label[:64]),
        referenced_region=region,
        measurements=_measurements(a) or None,
    )


def _with_type2_attributes(ds: Any) -> Any:
    copy = ds.copy()
    # The patient/study attributes the SR copies from the images; empty when one lacks them.
    for keyword in sorted(PATIENT_STUDY_TYPE2):
        if keyword not in copy:
            setattr(copy, keyword, "")
    return copy


def build_measurement_report(annotations: Sequence[Annotation], sources: Mapping[str, Any]) -> Any:
    """The SR data set for ``annotations``; ``sources`` maps SOP Instance UID to headers.

    Annotations whose image header is missing are skipped (and logged by UID).
    """
    import highdicom as hd

    codes = _codes()
    groups = []
    for n, a in enumerate(annotations, start=1):
        source = sources.get(a.sop_instance_uid)
        if source is None:
            logger.warning(
                "annotation %s: image %s not found; not exported",
                a.annotation_id,
                a.sop_instance_uid,
            )
            continue
        groups.append(_group(a, source, n))
    if not groups:
        raise ValueError("there are no measurements on images of this study to export")
    evidence = [_with_type2_attributes(ds) for ds in sources.values()]
    observer = hd.sr.ObserverContext(
        observer_type=codes.cid270.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=hd.UID(), manufacturer_name=MANUFACTURER, model_name="Workstation viewer"
        ),
    )
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_device_context=observer),
        procedure_reported=codes.LN.CTUnspecifiedBodyRegion
        if evidence[0].get("Modality") == "CT"
        else codes.DCM.ImagingProcedure,
        imaging_measurements=groups,
    )
    return hd.sr.Comprehensive3DSR(
        evidence=evidence,
        content=report,
        series_instance_uid=hd.UID(),
        series_number=990,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer=MANUFACTURER,
        series_description="Measurements",
    )


def write_measurement_report(
    annotations: Sequence[Annotation], sources: Mapping[str, Any], path: Path
) -> Path:
    """Build the SR and write it to ``path`` (strict validation); returns ``path``."""
    import pydicom

    from workstation.imaging.strict_write import save_strictly

    sr = build_measurement_report(annotations, sources)
    save_strictly(sr, path)
    pydicom.dcmread(path)  # fails loudly if what we wrote does not parse
    return path
