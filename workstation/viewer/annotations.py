"""Measurements and annotations as values: what was drawn, where, and what it measured.

An :class:`Annotation` is tied to one frame (SOP Instance UID + frame index) and holds its
points in that frame's pixel coordinates.  :func:`evaluate` fills in the numbers from the
frame's modality values and calibration; :func:`label` turns them into the on-screen text.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from workstation.i18n import _
from workstation.i18n.formatting import decimal
from workstation.viewer import geometry
from workstation.viewer import measurements as m
from workstation.viewer.frames import DisplayFrame, FrameGeometry


class Kind(enum.StrEnum):
    LENGTH = "length"
    ANGLE = "angle"
    COBB = "cobb"
    RECTANGLE = "rectangle"
    ELLIPSE = "ellipse"
    FREEHAND = "freehand"
    PROBE = "probe"
    TEXT = "text"
    ARROW = "arrow"


#: How many points a finished annotation of each kind has (0: any number, at least 3).
POINTS_NEEDED = {
    Kind.LENGTH: 2,
    Kind.ANGLE: 3,
    Kind.COBB: 4,
    Kind.RECTANGLE: 2,
    Kind.ELLIPSE: 2,
    Kind.FREEHAND: 0,
    Kind.PROBE: 1,
    Kind.TEXT: 1,
    Kind.ARROW: 2,
}

MEASURING = frozenset(
    {Kind.LENGTH, Kind.ANGLE, Kind.COBB, Kind.RECTANGLE, Kind.ELLIPSE, Kind.FREEHAND, Kind.PROBE}
)


def kind_label(kind: Kind) -> str:
    return {
        Kind.LENGTH: _("Length"),
        Kind.ANGLE: _("Angle"),
        Kind.COBB: _("Cobb angle"),
        Kind.RECTANGLE: _("Rectangle ROI"),
        Kind.ELLIPSE: _("Ellipse ROI"),
        Kind.FREEHAND: _("Freehand ROI"),
        Kind.PROBE: _("Probe"),
        Kind.TEXT: _("Text"),
        Kind.ARROW: _("Arrow"),
    }[kind]


@dataclass(frozen=True)
class Annotation:
    kind: Kind
    points: tuple[tuple[float, float], ...]
    sop_instance_uid: str
    frame_index: int = 0
    series_instance_uid: str = ""
    study_instance_uid: str = ""
    text: str = ""
    #: Numbers from :func:`evaluate` ("length", "angle", "mean", "sd", "min", "max",
    #: "area", "value") and their units ("length_unit", "area_unit", "value_unit").
    results: dict[str, Any] = field(default_factory=dict)
    annotation_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["kind"] = self.kind.value
        d["points"] = [list(p) for p in self.points]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Annotation:
        return cls(
            kind=Kind(d["kind"]),
            points=tuple((float(p[0]), float(p[1])) for p in d["points"]),
            sop_instance_uid=str(d["sop_instance_uid"]),
            frame_index=int(d.get("frame_index", 0)),
            series_instance_uid=str(d.get("series_instance_uid", "")),
            study_instance_uid=str(d.get("study_instance_uid", "")),
            text=str(d.get("text", "")),
            results=dict(d.get("results") or {}),
            annotation_id=str(d["annotation_id"]),
        )


def _roi(
    kind: Kind,
    values: np.ndarray | None,
    pts: tuple[tuple[float, float], ...],
    spacing: tuple[float, float] | None,
) -> m.RoiStats | None:
    if values is None or values.ndim != 2:
        return None
    if kind is Kind.RECTANGLE:
        return m.rectangle_stats(values, pts[0], pts[1], spacing)
    if kind is Kind.ELLIPSE:
        return m.ellipse_stats(values, pts[0], pts[1], spacing)
    return m.polygon_stats(values, pts, spacing)


def evaluate(a: Annotation, frame: DisplayFrame) -> Annotation:
    """The annotation with its numbers computed on ``frame``.

    Millimetres come from the calibration that covers all the points (for ultrasound,
    the one region they all lie in); otherwise lengths and areas are in pixels. When the
    frame has a plane in the patient, ``points_lps`` holds the points in LPS (mm).
    """
    pts = a.points
    spacing = frame.geometry.spacing_for(pts) if pts else None
    r: dict[str, Any] = {}
    if a.kind is Kind.LENGTH and len(pts) >= 2:
        unit = "mm" if spacing is not None else "px"
        r = {"length": m.length(pts[0], pts[1], spacing), "length_unit": unit}
    elif a.kind is Kind.ANGLE and len(pts) >= 3:
        r = {"angle": m.angle(pts[0], pts[1], pts[2], spacing)}
    elif a.kind is Kind.COBB and len(pts) >= 4:
        r = {"angle": m.cobb_angle((pts[0], pts[1]), (pts[2], pts[3]), spacing)}
    elif a.kind in (Kind.RECTANGLE, Kind.ELLIPSE, Kind.FREEHAND):
        stats = _roi(a.kind, frame.values, pts, spacing)
        if stats is not None:
            r = {
                "mean": stats.mean,
                "sd": stats.sd,
                "min": stats.minimum,
                "max": stats.maximum,
                "area": stats.area,
                "pixel_count": stats.pixel_count,
                "area_unit": "mm2" if spacing is not None else "px2",
                "value_unit": frame.units,
            }
    elif a.kind is Kind.PROBE and frame.values is not None:
        value = m.probe(frame.values, pts[0])
        if value is not None:
            r = {"value": value, "value_unit": frame.units}
    lps = patient_points(pts, frame.geometry)
    if lps is not None:
        r["points_lps"] = lps
    return replace(a, results=r)


def patient_points(
    points: tuple[tuple[float, float], ...], g: FrameGeometry
) -> list[list[float]] | None:
    """The points in patient LPS (mm) when the frame has a plane and one calibration."""
    if not points or not g.has_plane or g.pixel_spacing_mm is None or g.regions:
        return None
    return [[float(x) for x in geometry.pixel_to_patient(g, c, r)] for c, r in points]


def _num(x: float) -> str:
    return decimal(x, 1)


def label(a: Annotation) -> str:
    """The text shown next to the annotation and in the panel."""
    r = a.results
    if a.kind is Kind.TEXT:
        return a.text
    if a.kind is Kind.ARROW:
        return a.text
    if "length" in r:
        unit = _("mm") if r.get("length_unit") == "mm" else _("px")
        return f"{_num(r['length'])} {unit}"
    if "angle" in r:
        return f"{_num(r['angle'])}°"
    if "mean" in r:
        unit = r.get("value_unit") or ""
        area_unit = _("mm²") if r.get("area_unit") == "mm2" else _("px²")
        return _("mean {mean} SD {sd} {unit}\nmin {min} max {max}\narea {area} {area_unit}").format(
            mean=_num(r["mean"]),
            sd=_num(r["sd"]),
            unit=unit,
            min=_num(r["min"]),
            max=_num(r["max"]),
            area=_num(r["area"]),
            area_unit=area_unit,
        )
    if "value" in r:
        v = r["value"]
        text = ", ".join(str(x) for x in v) if isinstance(v, list | tuple) else _num(v)
        return f"{text} {r.get('value_unit') or ''}".strip()
    return ""
