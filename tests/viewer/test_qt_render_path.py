"""How frames reach the screen: what the X server shows is what VTK drew, and a burst of
wheel steps is drawn once, at its last slice."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("vtkmodules")

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QApplication

from tests.viewer.gui_helpers import (
    one_to_one_match,
    open_and_wait,
    post_wheel,
    settle,
    wait_until,
    wheel,
)
from workstation.viewer._qt.qt_viewport import STILL_AFTER_MS

pytestmark = [pytest.mark.qt, pytest.mark.vtk]


def screen_pixels(widget) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The widget's area as the X server holds it (RGB), read from the root window."""
    top_left = widget.mapToGlobal(QPoint(0, 0))
    shot = QApplication.primaryScreen().grabWindow(
        0, top_left.x(), top_left.y(), widget.width(), widget.height()
    )
    image = shot.toImage().convertToFormat(shot.toImage().Format.Format_RGB888)
    w, h, stride = image.width(), image.height(), image.bytesPerLine()
    buf = np.frombuffer(image.constBits(), dtype=np.uint8, count=stride * h)
    return buf.reshape(h, stride)[:, : w * 3].reshape(h, w, 3).copy()


def render_counter(view) -> list[int]:  # type: ignore[no-untyped-def]
    """The stack index at the end of each render of ``view``'s window."""
    drawn: list[int] = []
    view.render_view.GetRenderWindow().AddObserver(
        "EndEvent", lambda *_: drawn.append(view.viewport.index)
    )
    return drawn


def test_screen_shows_what_vtk_drew(qtbot, make_viewer, ct_catalog) -> None:
    """The frame is presented by a colour blit into the window (not VTK's default depth
    and colour blit); the X server's pixels must equal the rendered picture, overlays
    included, both while moving (nearest sampling) and at rest."""
    v = make_viewer(ct_catalog)
    open_and_wait(qtbot, v, ct_catalog)
    view = v.views[0]
    wheel(view.render_view, -4)
    wait_until(qtbot, lambda: view.viewport.index == 4)
    for still in (False, True):
        drawn = view.grab_frame(still=still)
        settle(20)
        on_screen = screen_pixels(view.render_view)
        assert drawn.shape == on_screen.shape
        assert drawn.std() > 10, "a picture, not an empty window"
        assert np.array_equal(on_screen, drawn), f"still={still}"


def test_wheel_burst_is_drawn_once_at_its_last_slice(qtbot, make_viewer, ct_catalog) -> None:
    """Twelve queued wheel notches move the stack twelve slices; the slices in between
    are stepped over, not drawn, and what is drawn is the last one with its overlay."""
    v = make_viewer(ct_catalog)
    open_and_wait(qtbot, v, ct_catalog)
    view = v.views[0]
    settle(STILL_AFTER_MS + 50)
    drawn = render_counter(view)
    for _ in range(12):
        post_wheel(view.render_view, -1)
    settle(30)  # the queued notches, then one render (the still one comes after 150 ms)
    assert view.viewport.index == 12
    assert drawn == [12]
    assert "Im 13/20" in view.scene.corners.GetText(0)
    # At rest the same slice is drawn once more, with linear sampling; the scrollbar
    # has caught up.
    wait_until(qtbot, lambda: len(drawn) == 2)
    assert drawn == [12, 12]
    assert view.scrollbar.value() == 12


def test_each_step_is_drawn_when_the_loop_keeps_up(qtbot, make_viewer, ct_catalog) -> None:
    """One notch per event-loop turn: every slice reaches the screen, none is skipped."""
    v = make_viewer(ct_catalog)
    open_and_wait(qtbot, v, ct_catalog)
    view = v.views[0]
    drawn = render_counter(view)
    for _ in range(6):
        wheel(view.render_view, -1)
        QApplication.processEvents()
    assert drawn[:6] == [1, 2, 3, 4, 5, 6]


def test_a_step_redraws_only_its_viewport(qtbot, make_viewer, tmp_path) -> None:
    """Two series side by side in different frames of reference: stepping one redraws
    that one only (no reference line of the other changed)."""
    from tests.viewer import synthetic
    from workstation.viewer.catalog import FileCatalog

    study = "1.2.826.0.1.3680043.8.498.1"
    first = synthetic.write_ct_series(tmp_path / "a", n=8, study_uid=study, series_number=1)
    second = synthetic.write_ct_series(tmp_path / "b", n=8, study_uid=study, series_number=2)
    catalog = FileCatalog(first + second)
    v = make_viewer(catalog)
    open_and_wait(qtbot, v, catalog)
    v.set_layout(1, 2)
    left, right = v.views
    wait_until(qtbot, lambda: right.viewport.current_frame() is not None)
    settle(STILL_AFTER_MS + 50)
    drawn_left, drawn_right = render_counter(left), render_counter(right)
    for _ in range(3):
        wheel(left.render_view, -1)
        QApplication.processEvents()
    assert drawn_left[:3] == [1, 2, 3]
    assert drawn_right == []


def test_decode_workers_yield_to_the_screen(qtbot, make_viewer, ct_catalog) -> None:
    """The shared pool's worker processes run nicer than the viewer, so background
    decoding does not take the cores from drawing while the user scrolls."""
    import os

    from workstation.imaging import shared

    if not hasattr(os, "getpriority"):
        pytest.skip("no process niceness on this platform")
    v = make_viewer(ct_catalog)
    open_and_wait(qtbot, v, ct_catalog)
    running = shared.running()
    assert running is not None
    pool = running[0]
    if not pool.processes:
        pytest.skip("decoding in-process only (KLINIKA_DECODE_PROCESSES=0)")
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    wanted = min(19, mine + shared.WORKER_NICENESS)

    def reniced() -> bool:
        pids = pool.worker_pids
        return bool(pids) and all(os.getpriority(os.PRIO_PROCESS, p) >= wanted for p in pids)

    wait_until(qtbot, reniced)


def test_study_opened_before_the_window_shows(qtbot, settings, ct_catalog) -> None:
    """The app opens a study before its viewer page is first painted (the first paint
    builds the GL state with a placeholder picture); the slice must still be drawn, and
    a pan that re-uses the uploaded picture must keep it."""
    from workstation.viewer._qt.qt_viewer import QtViewer

    v = QtViewer(ct_catalog, settings)
    qtbot.addWidget(v)
    try:
        assert v.open_study(ct_catalog.studies()[0])
        view = v.views[0]
        wait_until(qtbot, lambda: view.viewport.current_frame() is not None)
        settle(50)  # the decoded slice is uploaded while the window is still hidden
        v.resize(1000, 700)
        v.show()
        qtbot.waitExposed(v)
        settle(50)
        vp = view.viewport
        vp.one_to_one()
        vp.pan(7.0, 5.0)
        settle(20)
        best, _inner = one_to_one_match(view, ct_catalog)
        assert best > 0.99
    finally:
        v.close()


def test_a_failing_scene_update_does_not_stop_drawing(
    qtbot, make_viewer, ct_catalog, monkeypatch, caplog
) -> None:
    """If building the scene for a render raises, the error is logged, the last scene is
    drawn and later steps are drawn again (the view does not freeze)."""
    v = make_viewer(ct_catalog)
    open_and_wait(qtbot, v, ct_catalog)
    view = v.views[0]
    drawn = render_counter(view)
    good = view.before_render
    calls = {"n": 0}

    def flaky() -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("overlay failed")
        good()

    monkeypatch.setattr(view, "before_render", flaky)
    wheel(view.render_view, -1)
    QApplication.processEvents()
    assert "scene update before a render failed" in caplog.text
    wheel(view.render_view, -1)
    QApplication.processEvents()
    assert view.viewport.index == 2 and drawn[-1] == 2
    assert "Im 3/20" in view.scene.corners.GetText(0)


def test_grab_right_after_a_step_shows_that_step(qtbot, make_viewer, ct_catalog) -> None:
    """A step not drawn yet (no event-loop turn since) is drawn by a grab."""
    v = make_viewer(ct_catalog)
    open_and_wait(qtbot, v, ct_catalog)
    view = v.views[0]
    first = view.grab_frame()
    assert view.viewport.set_index(7)
    moved = view.grab_frame()
    assert "Im 8/20" in view.scene.corners.GetText(0)
    assert not np.array_equal(moved, first)
