"""Text around the image: corner overlays, orientation markers, the scale bar.

Corner text shows patient and study data on screen only; nothing here is logged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workstation.i18n import _
from workstation.i18n.formatting import dicom_date
from workstation.imaging.orientation import direction_label
from workstation.viewer.frames import DisplayFrame, SeriesHeader
from workstation.viewer.view_transform import ViewTransform


@dataclass(frozen=True)
class Corners:
    top_left: str
    top_right: str
    bottom_left: str
    bottom_right: str


def corners(
    header: SeriesHeader,
    index: int,
    count: int,
    frame: DisplayFrame | None,
    window: tuple[float, float] | None,
    zoom: float,
    key_image: bool = False,
) -> Corners:
    top_left = "\n".join(x for x in (header.patient_name, header.patient_id) if x)
    top_right = "\n".join(x for x in (header.study_description, dicom_date(header.study_date)) if x)
    series = header.series_description
    if header.series_number is not None:
        series = (
            _("Se {number}: {description}").format(number=header.series_number, description=series)
            if series
            else _("Se {number}").format(number=header.series_number)
        )
    lines = [series, _("Im {n}/{total}").format(n=index + 1, total=count)]
    if key_image:
        lines.append(_("★ key image"))
    bottom_left = "\n".join(x for x in lines if x)
    br = []
    if frame is not None and frame.voi_lut and window is None:
        br.append(_("VOI LUT"))
    elif window is not None and frame is not None and not frame.is_color:
        br.append(_("W {width:.0f} L {center:.0f}").format(width=window[1], center=window[0]))
    br.append(_("Zoom {percent:.0f}%").format(percent=zoom * 100))
    return Corners(top_left, top_right, bottom_left, "\n".join(br))


def orientation_markers(frame: DisplayFrame | None, t: ViewTransform) -> dict[str, str]:
    """Letters for the screen's left, right, top and bottom edges after rotate and flip."""
    if frame is None or frame.geometry.image_orientation is None:
        return {}
    iop = frame.geometry.image_orientation
    row_dir, col_dir = np.asarray(iop[:3], dtype=float), np.asarray(iop[3:], dtype=float)
    # Screen axis directions expressed in image axes, then in patient space.
    inv = np.linalg.inv(t.orientation_matrix())
    right = inv @ np.array([1.0, 0.0])
    down = inv @ np.array([0.0, 1.0])
    right_p = right[0] * row_dir + right[1] * col_dir
    down_p = down[0] * row_dir + down[1] * col_dir
    return {
        "right": direction_label(right_p),
        "left": direction_label(-right_p),
        "bottom": direction_label(down_p),
        "top": direction_label(-down_p),
    }


_NICE_MM = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500)


@dataclass(frozen=True)
class ScaleBar:
    #: Length on screen in pixels (0 when uncalibrated).
    length_px: float
    text: str


def scale_bar(frame: DisplayFrame | None, t: ViewTransform, view_width: int) -> ScaleBar | None:
    """A bar of a round number of millimetres, about a fifth of the view wide."""
    if frame is None or frame.values is None:
        return None
    spacing = frame.geometry.pixel_spacing_mm
    if spacing is None:
        return ScaleBar(0.0, _("uncalibrated"))
    # Screen-horizontal mm per screen pixel: after a quarter turn the rows lie across.
    mm_per_image_px = spacing[0] if t.rotation % 2 else spacing[1]
    mm_per_screen_px = mm_per_image_px / max(t.zoom, 1e-6)
    target = view_width / 5 * mm_per_screen_px
    mm = max((n for n in _NICE_MM if n <= target), default=_NICE_MM[0])
    text = _("{mm} mm").format(mm=mm) if mm < 10 or mm % 10 else _("{cm} cm").format(cm=mm // 10)
    if frame.geometry.calibration_source == "imager_pixel_spacing":
        text += " " + _("(at detector)")
    return ScaleBar(mm / mm_per_screen_px, text)
