"""The viewer in a real window under Xvfb: open, scroll, window, zoom, measure, annotate,
cine, hostile pixel data, layouts, sync and reference lines, key images."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("vtkmodules")

from PySide6.QtCore import QMimeData, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from tests.viewer import synthetic
from tests.viewer.gui_helpers import (
    drag,
    one_to_one_match,
    open_and_wait,
    save_png,
    settle,
    wait_until,
    wheel,
)
from workstation.viewer import geometry
from workstation.viewer.annotations import Kind
from workstation.viewer.catalog import FileCatalog

pytestmark = [pytest.mark.qt, pytest.mark.vtk]


def wait_index_drawn(qtbot, view, index: int) -> None:  # type: ignore[no-untyped-def]
    wait_until(
        qtbot, lambda: view.viewport.index == index and view.viewport.current_frame() is not None
    )
    view.refresh()
    settle(10)


def test_open_scroll_window_zoom(qtbot, make_viewer, ct_catalog, artifacts_dir: Path) -> None:
    v = make_viewer(ct_catalog)
    open_and_wait(qtbot, v, ct_catalog)
    view = v.views[0]
    rv = view.render_view
    first = view.grab_frame()
    assert first.mean() > 10, "the first image is on screen"
    assert "Test Synthetic" in view.scene.corners.GetText(2)  # patient, upper left
    assert "Im 1/20" in view.scene.corners.GetText(0)
    assert view.scene.corners.GetText(7) == "A" and view.scene.corners.GetText(5) == "L"
    save_png(v.screenshot(), artifacts_dir / "viewer-open.png")

    # Stack scrolling: wheel, keys, scrollbar.
    wheel(rv, -3)
    assert view.viewport.index == 3
    qtbot.keyClick(rv, Qt.Key.Key_Down)
    assert view.viewport.index == 4
    qtbot.keyClick(rv, Qt.Key.Key_PageDown)
    assert view.viewport.index == 6
    qtbot.keyClick(rv, Qt.Key.Key_End)
    assert view.viewport.index == 19
    qtbot.keyClick(rv, Qt.Key.Key_Home)
    assert view.viewport.index == 0
    view.scrollbar.setValue(12)
    wait_index_drawn(qtbot, view, 12)
    assert "Im 13/20" in view.scene.corners.GetText(0)
    assert not np.array_equal(view.grab_frame(), first), "another slice is drawn"

    # W/L by right-button drag: right widens the window, down raises the level.
    frame = view.viewport.current_frame()
    c0, w0 = view.viewport.display_window(frame)
    centre = QPointF(rv.width() / 2, rv.height() / 2)
    drag(qtbot, rv, centre, centre + QPointF(100, 40), Qt.MouseButton.RightButton)
    c1, w1 = view.viewport.window
    assert w1 > w0 and c1 > c0
    assert f"W {w1:.0f} L {c1:.0f}" in view.scene.corners.GetText(1)
    view.viewport.apply_preset("bone")
    assert view.viewport.window == (500.0, 2000.0)

    # Zoom about the cursor: the image point under it stays put.
    anchor = QPointF(rv.width() * 0.3, rv.height() * 0.4)
    under = view.image_point(anchor)
    z0 = view.viewport.transform.zoom
    wheel(rv, 2, anchor, Qt.KeyboardModifier.ControlModifier)
    assert view.viewport.transform.zoom == pytest.approx(z0 * 1.15**2)
    assert view.image_point(anchor) == pytest.approx(under, abs=1e-6)
    # Middle-button drag pans: the image point under the cursor moves with it.
    start = QPointF(rv.width() * 0.5, rv.height() * 0.5)
    before = view.image_point(start)
    drag(qtbot, rv, start, start + QPointF(40, -30), Qt.MouseButton.MiddleButton)
    assert view.image_point(start + QPointF(40, -30)) == pytest.approx(before, abs=1e-6)
    save_png(v.screenshot(), artifacts_dir / "viewer-zoomed-bone.png")


def test_length_matches_header_distance(
    qtbot, make_viewer, ct_catalog, artifacts_dir, tmp_path
) -> None:
    v = make_viewer(ct_catalog)
    open_and_wait(qtbot, v, ct_catalog)
    view = v.views[0]
    view.viewport.set_index(5)
    wait_index_drawn(qtbot, view, 5)
    v.set_tool(v.tool.LENGTH)
    a, b = (20.0, 30.0), (140.0, 100.0)
    drag(qtbot, view.render_view, view.screen_point(a), view.screen_point(b))
    (ann,) = v.model.annotations()
    frame = view.viewport.current_frame()
    # Header-computed: patient positions of the drawn end points (IPP, IOP, Pixel Spacing).
    pa = geometry.pixel_to_patient(frame.geometry, *ann.points[0])
    pb = geometry.pixel_to_patient(frame.geometry, *ann.points[1])
    assert ann.results["length"] == pytest.approx(float(np.linalg.norm(pb - pa)), abs=1e-6)
    # ...and the drawn points are the intended pixels to within a screen pixel.
    expected = float(
        np.linalg.norm(
            geometry.pixel_to_patient(frame.geometry, *b)
            - geometry.pixel_to_patient(frame.geometry, *a)
        )
    )
    assert abs(ann.results["length"] - expected) < 0.5
    assert ann.results["length_unit"] == "mm"

    # ROI on the water disc reads 0 HU; probe on the bone square reads 1000 HU.
    v.set_tool(v.tool.ELLIPSE)
    drag(qtbot, view.render_view, view.screen_point((65, 50)), view.screen_point((95, 78)))
    roi = v.model.annotations()[-1]
    assert roi.kind is Kind.ELLIPSE
    assert roi.results["mean"] == pytest.approx(0.0) and roi.results["sd"] == pytest.approx(0.0)
    assert roi.results["value_unit"] == "HU" and roi.results["area"] > 0
    v.set_tool(v.tool.PROBE)
    qtbot.mouseClick(
        view.render_view, Qt.MouseButton.LeftButton, pos=view.screen_point((45, 37)).toPoint()
    )
    assert v.model.annotations()[-1].results["value"] == pytest.approx(1000.0)
    v.set_tool(v.tool.ANGLE)
    for p in [(30, 90), (60, 90), (60, 60)]:
        qtbot.mouseClick(
            view.render_view, Qt.MouseButton.LeftButton, pos=view.screen_point(p).toPoint()
        )
    assert v.model.annotations()[-1].results["angle"] == pytest.approx(90.0, abs=1.5)
    settle()
    assert v.panel.list.count() == 4
    save_png(v.screenshot(), artifacts_dir / "viewer-measurements.png")
    import pydicom

    sr = pydicom.dcmread(v.export_sr(tmp_path / "measurements-sr.dcm"))
    assert sr.Modality == "SR" and sr.ContentTemplateSequence[0].TemplateIdentifier == "1500"


def test_annotations_persist_and_remove(qtbot, make_viewer, ct_files, artifacts_dir) -> None:
    catalog = FileCatalog(ct_files)
    v = make_viewer(catalog)
    open_and_wait(qtbot, v, catalog)
    view = v.views[0]
    v.set_tool(v.tool.TEXT)
    qtbot.mouseClick(
        view.render_view, Qt.MouseButton.LeftButton, pos=view.screen_point((30, 20)).toPoint()
    )
    v.set_tool(v.tool.ARROW)
    drag(qtbot, view.render_view, view.screen_point((20, 110)), view.screen_point((70, 70)))
    v.set_tool(v.tool.FREEHAND)
    pts = [(100, 40), (130, 45), (140, 70), (110, 90), (95, 60)]
    qtbot.mousePress(
        view.render_view, Qt.MouseButton.LeftButton, pos=view.screen_point(pts[0]).toPoint()
    )
    for p in pts[1:]:
        qtbot.mouseMove(view.render_view, view.screen_point(p).toPoint())
    qtbot.mouseRelease(
        view.render_view, Qt.MouseButton.LeftButton, pos=view.screen_point(pts[-1]).toPoint()
    )
    kinds = [a.kind for a in v.model.annotations()]
    assert kinds == [Kind.TEXT, Kind.ARROW, Kind.FREEHAND]
    assert v.model.annotations()[0].text == "note"
    settle()
    save_png(v.screenshot(), artifacts_dir / "viewer-annotations.png")
    qtbot.keyClick(view.render_view, Qt.Key.Key_K)
    assert v.model.is_key_image(view.viewport.current_ref().sop_instance_uid, 0)
    study = catalog.studies()[0]
    v.close()

    # A new viewer on the same archive database finds them again.
    v2 = make_viewer(catalog)
    open_and_wait(qtbot, v2, catalog)
    assert [a.kind for a in v2.model.annotations()] == kinds
    from workstation.viewer.store import key_images

    (key,) = key_images(v2.settings, study)
    assert key.sop_instance_uid == v2.views[0].viewport.current_ref().sop_instance_uid
    v2.panel.list.setCurrentRow(0)
    v2.panel.remove_current()
    assert [a.kind for a in v2.model.annotations()] == kinds[1:]
    assert v2.panel.list.count() == 2
    # Select the arrow on screen and delete it with the Delete key.
    view2 = v2.views[0]
    v2.set_tool(v2.tool.SELECT)
    qtbot.mouseClick(
        view2.render_view, Qt.MouseButton.LeftButton, pos=view2.screen_point((45, 90)).toPoint()
    )
    qtbot.keyClick(view2.render_view, Qt.Key.Key_Delete)
    assert [a.kind for a in v2.model.annotations()] == [Kind.FREEHAND]


def test_cine_uses_frame_time(qtbot, make_viewer, tmp_path, artifacts_dir) -> None:
    path = synthetic.write_multiframe(tmp_path / "cine", frames=12, frame_time_ms=40.0)
    catalog = FileCatalog([path])
    v = make_viewer(catalog)
    open_and_wait(qtbot, v, catalog)
    vp = v.views[0].viewport
    assert vp.count == 12
    assert vp.cine_fps == pytest.approx(25.0)
    assert v.fps.value() == 25
    v.toggle_cine()
    assert vp.cine_playing and v.views[0].cine_timer.isActive()
    assert v.views[0].cine_timer.interval() == 40
    seen = set()
    wait_until(qtbot, lambda: seen.add(vp.index) or len(seen) >= 6, 5000)
    v.fps.setValue(10)
    assert vp.cine_fps == 10 and v.views[0].cine_timer.interval() == 100
    save_png(v.screenshot(), artifacts_dir / "viewer-cine.png")
    v.toggle_cine()
    assert not v.views[0].cine_timer.isActive()


def test_hostile_pixels_show_a_reason(qtbot, make_viewer, tmp_path, artifacts_dir) -> None:
    bad = synthetic.write_truncated(tmp_path / "bad")
    catalog = FileCatalog([bad])
    v = make_viewer(catalog)
    open_and_wait(qtbot, v, catalog)
    view = v.views[0]
    frame = view.viewport.current_frame()
    assert frame is not None and not frame.ok
    assert view.scene.message.GetVisibility()
    assert view.scene.message_text.startswith("Cannot display:")
    # The app stays up: scrolling, W/L drag and tools on the broken tile do nothing harmful.
    wheel(view.render_view, -1)
    drag(qtbot, view.render_view, QPointF(50, 50), QPointF(80, 90), Qt.MouseButton.RightButton)
    v.set_tool(v.tool.LENGTH)
    drag(qtbot, view.render_view, QPointF(50, 50), QPointF(80, 90))
    assert v.model.annotations() == []
    save_png(v.screenshot(), artifacts_dir / "viewer-cannot-display.png")


def _drop_series(widget: Any, series_uid: str) -> bool:
    """Drag a series thumbnail onto the middle of ``widget`` and drop it there, as Qt
    delivers it; whether the drag was accepted on entering."""
    mime = QMimeData()
    mime.setData("application/x-klinika-series-uid", series_uid.encode("ascii"))
    pos = QPointF(widget.width() / 2, widget.height() / 2)
    action, button, modifier = (
        Qt.DropAction.CopyAction,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    enter = QDragEnterEvent(pos.toPoint(), action, mime, button, modifier)
    QApplication.sendEvent(widget, enter)
    accepted = enter.isAccepted()
    QApplication.sendEvent(widget, QDropEvent(pos, action, mime, button, modifier))
    return accepted


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_layout_drop_sync_and_reference_lines(qtbot, make_viewer, tmp_path, artifacts_dir) -> None:
    study, for_uid = "1.2.826.0.1.3680043.8.498.10", "1.2.826.0.1.3680043.8.498.11"
    # Three series of one study in one frame of reference, 1 mm pixels.
    series = functools.partial(
        synthetic.write_ct_series, study_uid=study, for_uid=for_uid, spacing=(1.0, 1.0)
    )
    axial = series(
        tmp_path / "ax",
        n=30,
        rows=128,
        cols=128,
        slice_mm=2.0,
        description="Axial",
        series_number=1,
    )
    coronal = series(
        tmp_path / "cor",
        n=40,
        rows=60,
        cols=128,
        slice_mm=2.0,
        orientation=(1, 0, 0, 0, 0, -1),
        description="Coronal",
        origin=(-50.0, -40.0, -41.0),
        series_number=2,
    )
    axial2 = series(
        tmp_path / "ax2",
        n=15,
        rows=128,
        cols=128,
        slice_mm=4.0,
        description="Axial thick",
        series_number=3,
    )
    catalog = FileCatalog(axial + coronal + axial2)
    v = make_viewer(catalog, size=(1300, 760))
    open_and_wait(qtbot, v, catalog)
    v.set_layout(2, 2)
    assert len(v.views) == 4
    # Empty viewports were filled with the other series; clear one and drop a thumbnail on it.
    uids = v.thumbnails.series_uids()
    assert len(uids) == 3
    target = v.views[3]
    assert _drop_series(target.render_view, uids[1])
    assert target.viewport.series_uid == uids[1]
    views = v.views
    wait_until(qtbot, lambda: all(x.viewport.current_frame() is not None for x in views[:3]))
    # Scroll the axial stack: the thick axial follows (same frame of reference).
    ax, cor, thick = views[0].viewport, views[1].viewport, views[2].viewport
    assert (ax.series_uid, cor.series_uid, thick.series_uid) == tuple(uids)
    wait_until(qtbot, lambda: thick.source.decoded_count() == 15)
    # Head-most first: index i of the axial is z = -100 + 2 (29 - i), thick -100 + 4 (14 - i).
    ax.set_index(9)  # z = -100 + 40 mm
    assert thick.index == 4  # z = -100 + 40 mm at 4 mm spacing
    settle(50)
    # The coronal plane cuts the axial image: a horizontal reference line, and vice versa.
    assert cor.index == 0  # orthogonal planes do not scroll each other
    cor.set_index(20)  # y = -40 + 40 mm: row 40 of the axial images
    wait_until(qtbot, lambda: cor.current_frame() is not None)
    v._update_reference_lines()
    segments = views[0]._reference_segments
    assert len(segments) == 2  # both coronal viewports cut the axial image...
    assert views[3].viewport.index == 20  # ...and the second one scrolled with the first
    ys = sorted(p[1] for seg in segments for p in seg)
    assert ys == pytest.approx([40.0] * 4)
    # On the coronal image the axial slice (z = -60 mm) is a row counted down from the top.
    # Both axial stacks (thin and thick, synchronised) sit at the same z.
    top_z = cor.current_frame().geometry.image_position[2]
    rows = [p[1] for seg in views[1]._reference_segments for p in seg]
    assert len(rows) == 4
    assert rows == pytest.approx([top_z - (-100.0 + 40.0)] * 4)
    v._on_view_activated(1)
    v.set_tool(v.tool.MAGNIFY)
    rv = views[1].render_view
    qtbot.mousePress(
        rv, Qt.MouseButton.LeftButton, pos=QPointF(rv.width() / 2, rv.height() / 2).toPoint()
    )
    settle(30)
    assert views[1].scene._magnifier is not None and views[1].scene._magnifier.GetDraw()
    save_png(v.screenshot(), artifacts_dir / "viewer-2x2-reference-lines-magnifier.png")
    qtbot.mouseRelease(
        rv, Qt.MouseButton.LeftButton, pos=QPointF(rv.width() / 2, rv.height() / 2).toPoint()
    )
    assert not views[1].scene._magnifier.GetDraw()
    v.set_layout(1, 2)
    assert len(v.views) == 2


def test_rotate_flip_invert_update_markers(qtbot, make_viewer, ct_catalog) -> None:
    v = make_viewer(ct_catalog)
    open_and_wait(qtbot, v, ct_catalog)
    view = v.views[0]
    rv = view.render_view
    c = view.scene.corners
    assert (c.GetText(6), c.GetText(5), c.GetText(7), c.GetText(4)) == ("R", "L", "A", "P")
    qtbot.keyClick(rv, Qt.Key.Key_R)  # a quarter turn clockwise: the anterior goes right
    assert (c.GetText(6), c.GetText(5), c.GetText(7), c.GetText(4)) == ("P", "A", "R", "L")
    qtbot.keyClick(rv, Qt.Key.Key_R)
    qtbot.keyClick(rv, Qt.Key.Key_R)
    qtbot.keyClick(rv, Qt.Key.Key_R)
    qtbot.keyClick(rv, Qt.Key.Key_H)
    assert (c.GetText(6), c.GetText(5)) == ("L", "R")
    before = view.grab_frame()
    qtbot.keyClick(rv, Qt.Key.Key_I)
    after = view.grab_frame()
    mid = (
        slice(before.shape[0] // 3, 2 * before.shape[0] // 3),
        slice(before.shape[1] // 3, 2 * before.shape[1] // 3),
    )
    assert after[mid].mean() != pytest.approx(before[mid].mean(), abs=5)
    qtbot.keyClick(rv, Qt.Key.Key_1)
    assert view.viewport.transform.zoom == 1.0
    qtbot.keyClick(rv, Qt.Key.Key_F)
    assert view.viewport.fit_mode


def test_screen_pixels_equal_the_render_at_one_to_one(qtbot, make_viewer, ct_catalog) -> None:
    """At 1:1 the pixels on screen are the imaging render's, the right way up."""
    v = make_viewer(ct_catalog)
    open_and_wait(qtbot, v, ct_catalog)
    view = v.views[0]
    vp = view.viewport
    vp.one_to_one()
    best, inner = one_to_one_match(view, ct_catalog)
    assert best > 0.99
    # Flipped vertically it would not match: the picture is not symmetric.
    assert float(np.mean(inner[::-1] == inner)) < 0.95


def test_no_patient_data_in_logs(qtbot, make_viewer, ct_catalog, caplog, tmp_path) -> None:
    """Names and IDs are on screen only: nothing at INFO or above carries them."""
    import logging

    caplog.set_level(logging.INFO)
    v = make_viewer(ct_catalog)
    open_and_wait(qtbot, v, ct_catalog)
    view = v.views[0]
    assert "Test Synthetic" in view.scene.corners.GetText(2)  # shown...
    v.set_tool(v.tool.LENGTH)
    drag(qtbot, view.render_view, view.screen_point((10, 10)), view.screen_point((60, 40)))
    v.export_sr(tmp_path / "sr.dcm")
    settle()
    text = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
    assert "opening study" in text  # ...and the log did get written
    for phi in ("Test", "Synthetic", "SYN-001", "20260101"):
        assert phi not in text


def test_hostile_study_every_tile_says_why(qtbot, make_viewer, tmp_path, artifacts_dir) -> None:
    """Truncated pixels, cut or garbled RLE/JPEG-LS/J2K streams, inconsistent pixel
    modules: each viewport shows its reason, the healthy series beside them still works."""
    hostile = synthetic.write_hostile_study(tmp_path / "hostile")
    import pydicom

    study = pydicom.dcmread(next(iter(hostile.values())), stop_before_pixels=True).StudyInstanceUID
    good = synthetic.write_ct_series(
        tmp_path / "good",
        n=5,
        rows=64,
        cols=64,
        study_uid=study,
        description="healthy",
        series_number=9,
    )
    catalog = FileCatalog([*hostile.values(), *good])
    v = make_viewer(catalog, size=(1300, 900))
    v.set_layout(3, 3)
    open_and_wait(qtbot, v, catalog)
    views = [w for w in v.views if w.viewport.source is not None]
    assert len(views) == len(hostile) + 1
    wait_until(qtbot, lambda: all(w.viewport.current_frame() is not None for w in views))
    for w in views:
        w.refresh()
    settle(50)
    by_name = {w.viewport.source.header.series_description: w for w in views}
    for name in hostile:
        scene = by_name[name].scene
        assert scene.message_text.startswith("Cannot display:"), name
        assert len(scene.message_text) > len("Cannot display: ") + 10, name
    healthy = by_name["healthy"]
    assert healthy.viewport.current_frame().ok and healthy.scene.message_text == ""
    # The app stays usable: scroll, window and measure on the healthy series.
    healthy.viewport.scroll(2)
    healthy.viewport.apply_preset("bone")
    save_png(v.screenshot(), artifacts_dir / "viewer-hostile-tiles.png")


def test_click_or_tiny_drag_adds_no_roi_or_length(qtbot, make_viewer, ct_catalog) -> None:
    """Issue 10: one click with the ellipse tool added an empty "Ellipse ROI"."""
    v = make_viewer(ct_catalog)
    open_and_wait(qtbot, v, ct_catalog)
    view = v.views[0]
    wait_index_drawn(qtbot, view, 0)
    at = view.screen_point((64.0, 64.0))
    for tool in (v.tool.ELLIPSE, v.tool.RECTANGLE, v.tool.LENGTH):
        v.set_tool(tool)
        qtbot.mouseClick(view.render_view, Qt.MouseButton.LeftButton, pos=at.toPoint())
        drag(qtbot, view.render_view, at, at + QPointF(2.0, 1.0))
        assert v.model.annotations() == [], tool
    # A long, flat drag is a fine length but no ellipse (one side under the minimum).
    v.set_tool(v.tool.ELLIPSE)
    drag(qtbot, view.render_view, at, at + QPointF(60.0, 1.0))
    assert v.model.annotations() == []
    v.set_tool(v.tool.LENGTH)
    drag(qtbot, view.render_view, at, at + QPointF(60.0, 1.0))
    v.set_tool(v.tool.ELLIPSE)
    drag(qtbot, view.render_view, at, at + QPointF(30.0, 20.0))
    assert [a.kind for a in v.model.annotations()] == [Kind.LENGTH, Kind.ELLIPSE]
    # The Measurements panel shows every value of the ROI, wrapped, none cut off.
    panel = v.panel.list
    item = panel.item(1)
    assert all(word in item.text() for word in ("mean", "SD", "min", "max", "area"))
    rect = panel.visualItemRect(item)
    assert rect.width() <= panel.viewport().width()
    lines = item.text().count("\n") + 1
    assert rect.height() >= lines * panel.fontMetrics().lineSpacing()
    assert panel.horizontalScrollBar().maximum() == 0
