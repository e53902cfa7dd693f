"""The MPR crosshair shared with the 2-D viewer (Xvfb): the viewport of the same Frame
of Reference jumps to the nearest slice and marks the point; Shift+click on the image
moves the MPR crosshair there."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from tests.mpr.phantoms import random_hu, write_series
from tests.mpr.test_qt_mpr import ARTIFACTS
from tests.mpr.test_qt_viewer_mpr_action import _viewer
from tests.viewer.gui_helpers import point, save_png, settle
from workstation.viewer import geometry
from workstation.viewer.crosshair_mark import mark_segments, nearest_slice, slice_gap_mm
from workstation.viewer.frames import FrameGeometry

pytestmark = [pytest.mark.qt, pytest.mark.vtk]


def test_nearest_slice_and_mark_without_qt() -> None:
    stack = [
        FrameGeometry(
            rows=10, columns=12, pixel_spacing_mm=(0.5, 0.5), image_position=(0.0, 0.0, 2.0 * k),
            image_orientation=(1.0, 0.0, 0.0, 0.0, 1.0, 0.0), frame_of_reference_uid="1.2",
        )
        for k in range(5)
    ]  # fmt: skip
    assert slice_gap_mm(stack) == pytest.approx(2.0)
    assert nearest_slice(stack, np.array([1.0, 1.0, 5.2])) == 3
    assert nearest_slice([None, *stack[:1]], np.array([0.0, 0.0, 9.0])) == 1
    marks = mark_segments(stack[3], np.array([2.0, 1.5, 6.4]), 1.0)
    assert len(marks) == 4
    ends = np.array([p for seg in marks for p in seg])
    assert ends.mean(axis=0) == pytest.approx([4.0, 3.0])  # centred on column 4, row 3
    assert mark_segments(stack[3], np.array([2.0, 1.5, 7.5]), 1.0) == []  # off the slice
    assert mark_segments(stack[3], np.array([50.0, 1.5, 6.0]), 1.0) == []  # off the image


def test_mpr_crosshair_and_2d_viewport_follow_each_other(qtbot, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    paths = write_series(tmp_path / "ct", random_hu((24, 40, 48)))
    viewer = _viewer(qtbot, settings, paths)
    opened: list[object] = []
    launcher = viewer.open_mpr()
    launcher.sig_opened.connect(opened.append)
    qtbot.waitUntil(lambda: bool(opened), timeout=60_000)
    window = opened[0]
    state = window.state  # type: ignore[attr-defined]
    view = viewer.views[0]
    vp = view.viewport
    # MPR -> 2-D: the crosshair goes to slice 17 of the volume, pixel (30, 12)
    target = state.volume.index_to_patient([30, 12, 17])
    state.set_crosshair(target)
    settle(200)
    frame = vp.current_frame()
    assert frame is not None and frame.ok
    assert abs(float((target - np.asarray(frame.geometry.image_position)) @ geometry.plane_normal(
        frame.geometry))) < 1e-3  # fmt: skip
    marks = view._reference_segments  # drawn with the reference lines
    ends = np.array([p for seg in marks[-4:] for p in seg])
    assert ends.mean(axis=0) == pytest.approx([30.0, 12.0], abs=1e-3)
    save_png(viewer.screenshot(), ARTIFACTS / "viewer-crosshair-mark.png")
    # 2-D -> MPR: Shift+click on the image
    pos = QPointF(point(QPointF(view.render_view.width() * 0.4, view.render_view.height() * 0.6)))
    at = view.image_point(pos)
    assert at is not None
    expected = geometry.pixel_to_patient(frame.geometry, at[0], at[1])
    index_before = vp.index
    qtbot.mouseClick(
        view.render_view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, point(pos)
    )
    settle(100)
    assert np.allclose(state.crosshair, expected, atol=1e-6)
    assert vp.index == index_before  # the clicked image stays
    for plane_view in state.views:
        assert abs(float(plane_view.plane.distance_mm(expected))) < 1e-6
    # no Shift: the tool works as before, the crosshair stays
    qtbot.mouseClick(view.render_view, Qt.MouseButton.LeftButton, pos=point(pos + QPointF(20, 0)))
    settle(50)
    assert np.allclose(state.crosshair, expected, atol=1e-6)
    window.close()  # type: ignore[attr-defined]
    viewer.close()
