"""The 2-D tools on MPR planes in a real window (Xvfb): a length across two markers and a
rectangle ROI in HU on the coronal plane, drawn with the mouse; screenshot under
artifacts/mpr/mpr-tools.png."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from tests.mpr.phantoms import load_frames, plane_points, read_reference, reference_sample
from tests.mpr.test_plane_tools import CORONAL, MARKERS, marked_series  # noqa: F401
from tests.mpr.test_qt_mpr import ARTIFACTS, grab
from tests.viewer.gui_helpers import drag, save_png, settle
from workstation.mpr.volume import MprVolume, build_mpr_volume
from workstation.viewer.annotations import Kind
from workstation.viewer.interaction.tools import Tool

pytestmark = [pytest.mark.qt, pytest.mark.vtk]


def _screen(plane, column: float, row: float) -> QPointF:  # type: ignore[no-untyped-def]
    """Where plane pixel (column, row) is on the widget, in Qt's logical pixels."""
    x, y = plane.picture.pixel_to_display(np.array([column, row]))
    ratio = plane.devicePixelRatioF()
    return QPointF(x / ratio, plane.height() - 1 - y / ratio)


def test_length_and_roi_drawn_on_a_coronal_plane(qtbot, marked_series: list[Path]) -> None:  # noqa: F811
    from workstation.mpr._qt.qt_mpr_view import QtMprView

    volume = build_mpr_volume(load_frames(marked_series))
    assert isinstance(volume, MprVolume)
    ref = read_reference(marked_series)
    markers = [ref.affine[:3, :3] @ np.array([i, j, k]) + ref.affine[:3, 3] for k, j, i in MARKERS]
    view = QtMprView(volume, "1x3")
    qtbot.addWidget(view)
    view.resize(1200, 600)
    view.show()
    qtbot.waitExposed(view)
    try:
        view.state.set_crosshair(markers[0])
        plane = view.planes[CORONAL]
        settle(50)
        plane.prepare_render()  # the picture through the new crosshair, now
        plane.render_now()
        geometry = view.state.views[CORONAL].plane
        view.set_tool(Tool.LENGTH)
        ends = [_screen(plane, *geometry.patient_to_pixel(p)) for p in markers]
        drag(qtbot, plane, ends[0], ends[1])
        (length,) = view.notes.all()
        assert length.kind is Kind.LENGTH
        expected = float(np.linalg.norm(markers[1] - markers[0]))
        # The mouse lands on whole screen pixels: within a tenth of a plane pixel.
        assert length.results["length"] == pytest.approx(expected, abs=0.1 * geometry.spacing_mm)

        view.set_tool(Tool.RECTANGLE)
        drag(qtbot, plane, _screen(plane, 6.0, 4.0), _screen(plane, 40.0, 30.0))
        roi = view.notes.all()[-1]
        (c0, r0), (c1, r1) = roi.points
        rows = slice(math.ceil(min(r0, r1)), math.floor(max(r0, r1)) + 1)
        cols = slice(math.ceil(min(c0, c1)), math.floor(max(c0, c1)) + 1)
        expected_hu, inside = reference_sample(ref, plane_points(geometry)[rows, cols])
        assert inside.all() and roi.results["value_unit"] == "HU"
        assert roi.results["pixel_count"] == expected_hu.size
        assert roi.results["mean"] == pytest.approx(expected_hu.mean(), abs=1.0)

        # Both are drawn on the coronal plane only (the axial plane is not theirs).
        tools = view.plane_tools[CORONAL]
        assert len(tools.session.glyphs(1.0)) == 2
        assert view.plane_tools[0].session.glyphs(1.0) == []
        view.set_tool(Tool.SELECT)
        qtbot.mouseClick(plane, Qt.MouseButton.LeftButton, pos=ends[1].toPoint())
        assert tools.session.selection == length.annotation_id
        settle(50)
        save_png(grab(plane), ARTIFACTS / "mpr-tools.png")
        qtbot.keyClick(plane, Qt.Key.Key_Delete)
        assert [a.kind for a in view.notes.all()] == [Kind.RECTANGLE]
    finally:
        view.close()
