"""Corner text, orientation markers after rotation/flip, and the scale bar."""

from __future__ import annotations

import numpy as np
import pytest

from workstation.viewer import overlays
from workstation.viewer.frames import DisplayFrame, FrameGeometry, SeriesHeader
from workstation.viewer.view_transform import ViewTransform

AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


def _frame(spacing=(0.5, 0.5), source="pixel_spacing") -> DisplayFrame:
    g = FrameGeometry(100, 100, spacing, source if spacing else "", (0.0, 0.0, 0.0), AXIAL)
    return DisplayFrame("1.2", 0, g, np.zeros((100, 100), dtype=np.int16), units="HU")


def test_scale_bar_round_millimetres_and_uncalibrated() -> None:
    bar = overlays.scale_bar(_frame(), ViewTransform(zoom=4.0), 800)
    assert bar is not None
    # 800/5 screen px at 0.125 mm per screen px = 20 mm -> a 2 cm bar, 160 px long.
    assert bar.text == "2 cm" and bar.length_px == pytest.approx(160.0)
    bar = overlays.scale_bar(_frame(None), ViewTransform(zoom=4.0), 800)
    assert bar is not None and bar.length_px == 0 and bar.text == "uncalibrated"
    bar = overlays.scale_bar(_frame(source="imager_pixel_spacing"), ViewTransform(zoom=1.0), 800)
    assert bar is not None and bar.text.endswith("(at detector)")


def test_markers_follow_rotation_and_flip() -> None:
    f = _frame()
    assert overlays.orientation_markers(f, ViewTransform()) == {
        "right": "L",
        "left": "R",
        "bottom": "P",
        "top": "A",
    }
    assert overlays.orientation_markers(f, ViewTransform(rotation=1))["top"] == "R"
    assert overlays.orientation_markers(f, ViewTransform(flip_v=True))["top"] == "P"
    assert (
        overlays.orientation_markers(DisplayFrame("1", 0, FrameGeometry(2, 2)), ViewTransform())
        == {}
    )


def test_corners_show_slice_window_zoom_and_key_mark() -> None:
    h = SeriesHeader(
        "1.2.3",
        modality="CT",
        series_description="Chest",
        series_number=3,
        patient_name="Doe John",
        patient_id="P1",
        study_date="20240102",
    )
    c = overlays.corners(h, 4, 20, _frame(), (40.0, 400.0), 1.5, key_image=True)
    assert c.top_left == "Doe John\nP1"
    assert "2024-01-02" in c.top_right
    assert c.bottom_left.splitlines()[:2] == ["Se 3: Chest", "Im 5/20"]
    assert "key image" in c.bottom_left
    assert c.bottom_right == "W 400 L 40\nZoom 150%"


def test_corner_says_voi_lut_when_the_table_is_used() -> None:
    g = FrameGeometry(10, 10)
    f = DisplayFrame("1", 0, g, np.zeros((10, 10), dtype=np.uint16), voi_lut=True)
    c = overlays.corners(SeriesHeader("1"), 0, 1, f, None, 1.0)
    assert c.bottom_right.splitlines()[0] == "VOI LUT"
