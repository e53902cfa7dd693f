"""The viewport as a thin adapter on the tool session, in a real window (Xvfb): a length's
end dragged with the Select tool is re-measured from the header; a double click during
an angle is its next point, not a maximise."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("vtkmodules")

from PySide6.QtCore import Qt

from tests.viewer.gui_helpers import drag, open_and_wait, settle
from workstation.viewer import geometry
from workstation.viewer.annotations import Kind

pytestmark = pytest.mark.qt


def _mm(frame, a, b) -> float:  # type: ignore[no-untyped-def]
    pa = geometry.pixel_to_patient(frame.geometry, *a)
    pb = geometry.pixel_to_patient(frame.geometry, *b)
    return float(np.linalg.norm(pb - pa))


def test_drag_a_length_end_with_select(qtbot, make_viewer, ct_catalog) -> None:  # type: ignore[no-untyped-def]
    v = make_viewer(ct_catalog)
    open_and_wait(qtbot, v, ct_catalog)
    view = v.views[0]
    v.set_tool(v.tool.LENGTH)
    drag(qtbot, view.render_view, view.screen_point((20, 30)), view.screen_point((100, 30)))
    (before,) = v.model.annotations()
    selected: list[str] = []
    view.sig_annotation_selected.connect(selected.append)
    v.set_tool(v.tool.SELECT)
    drag(qtbot, view.render_view, view.screen_point((100, 30)), view.screen_point((120, 90)))
    (after,) = v.model.annotations()
    assert selected == [before.annotation_id] and after.annotation_id == before.annotation_id
    (x0, y0), (x1, y1) = after.points
    assert (x0, y0) == before.points[0]
    # The mouse lands on whole screen pixels: the end is within one of (120, 90).
    zoom = view.viewport.transform.zoom
    assert abs(x1 - 120) * zoom <= 1.0 and abs(y1 - 90) * zoom <= 1.0
    frame = view.viewport.current_frame()
    assert after.results["length"] == pytest.approx(_mm(frame, after.points[0], after.points[1]))
    assert after.results["length"] > before.results["length"] + 20  # 48 mm -> 73 mm
    settle()
    assert v.panel.list.count() == 1


def test_double_click_adds_an_angle_point(qtbot, make_viewer, ct_catalog) -> None:  # type: ignore[no-untyped-def]
    v = make_viewer(ct_catalog)
    open_and_wait(qtbot, v, ct_catalog)
    view = v.views[0]
    maximised: list[int] = []
    view.sig_double_clicked.connect(maximised.append)
    v.set_tool(v.tool.ANGLE)
    for p in [(30, 90), (60, 90)]:
        qtbot.mouseClick(
            view.render_view, Qt.MouseButton.LeftButton, pos=view.screen_point(p).toPoint()
        )
    qtbot.mouseDClick(
        view.render_view, Qt.MouseButton.LeftButton, pos=view.screen_point((60, 60)).toPoint()
    )
    (angle,) = v.model.annotations()
    assert angle.kind is Kind.ANGLE and maximised == []
    assert angle.results["angle"] == pytest.approx(90.0, abs=1.5)
    v.set_tool(v.tool.WINDOW)
    qtbot.mouseDClick(
        view.render_view, Qt.MouseButton.LeftButton, pos=view.screen_point((60, 60)).toPoint()
    )
    assert maximised == [view.viewport.position]
