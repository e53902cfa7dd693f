"""The overlay text of a series (patient, study, series, cine rate) from one header.

Patient fields are shown on screen only; never log them.
"""

from __future__ import annotations

from typing import Any

from workstation.viewer.frames import SeriesHeader


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
    """A :class:`SeriesHeader` from a data set read without pixels."""

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
