"""The 2-D viewer inside the app, in a real window under Xvfb: a double-click in the
study browser opens the study (guarded and audited) and its first image is on screen at
once and right; scrolling; the lock screen hides it; deleting the study and logging out
close it; the session's role decides whether measurements may be written."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.app.conftest import log_in, make_settings
from tests.app.test_session_gui import create_admin, visible_texts
from tests.app.viewer_helpers import (
    global_rect,
    import_folder,
    match_fraction,
    open_by_double_click,
    render_reference,
    screen_region,
    wait_slice_drawn,
    wait_thumbnails,
    window_picture,
    write_ct_study,
)
from tests.viewer.gui_helpers import save_png, settle, wheel
from workstation.app.viewer_area import PLACEHOLDER_PAGE, VIEWER_PAGE
from workstation.auth.permissions import Role

pytestmark = [
    pytest.mark.qt,
    pytest.mark.vtk,
    pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="needs a display: run under xvfb-run"),
]

ADMIN, ADMIN_PASSWORD = "chief", "Correct horse 1"


@pytest.fixture
def app_window(qtbot: Any, start_app: Any, tmp_path: Path) -> Any:
    controller = start_app(make_settings(tmp_path / "home"))
    window = create_admin(qtbot, controller, ADMIN, ADMIN_PASSWORD)
    window.resize(1600, 950)
    settle(50)
    return controller, window


def test_double_click_shows_the_first_image_right_then_scroll_lock_delete(
    qtbot: Any, app_window: Any, tmp_path: Path, artifacts_dir: Path
) -> None:
    controller, window = app_window
    uid = write_ct_study(tmp_path / "ct" / "a", images=16)
    other = write_ct_study(
        tmp_path / "ct" / "b", images=4, patient_name="OTHER^STUDY", patient_id="V-2"
    )
    import_folder(qtbot, window, tmp_path / "ct")

    open_by_double_click(qtbot, window, uid)
    area = window.viewer
    viewer = area.image_viewer
    assert viewer is not None and area.pages.currentIndex() == VIEWER_PAGE
    assert viewer.current_study_uid == uid
    assert viewer.session is window.session  # the viewer acts for the logged-in user
    view = viewer.views[0]
    assert view.viewport.count == 16 and view.viewport.index == 0
    first = view.grab_frame()
    assert first.std() > 20, "the first image is on screen (not a blank picture)"
    archive = controller.services.archive
    assert match_fraction(view, render_reference(archive, view)) > 0.9
    assert "Im 1/16" in view.scene.corners.GetText(0)
    assert "VIEWER" in area.header.text()
    wait_thumbnails(qtbot, viewer)
    save_png(window_picture(window), artifacts_dir / "app" / "viewer-open.png")
    save_png(screen_region(window), artifacts_dir / "app" / "viewer-open-screen.png")

    # the study open went through the engine: audited, with the actor
    (opened,) = controller.services.audit.events(action="study_open", study_uid=uid)
    assert opened.actor == ADMIN and opened.outcome == "success"

    # scroll with the wheel: another slice, still the imaging render of that slice
    wheel(view.render_view, -3)
    wait_slice_drawn(qtbot, view, 3)
    assert "Im 4/16" in view.scene.corners.GetText(0)
    assert not np.array_equal(view.grab_frame(), first)
    assert match_fraction(view, render_reference(archive, view)) > 0.9

    # the lock screen hides the images, overlays and thumbnails; unlock brings them back
    picture_rect = global_rect(view.render_view)
    on_screen = screen_region(picture_rect).astype(int)
    assert np.abs(on_screen - view.grab_frame()[:, :, :3]).mean() < 8, "the X screen shows it"
    viewer.toggle_cine()
    assert view.viewport.cine_playing
    window.lock("user")
    settle(200)
    assert window.is_locked
    assert not view.viewport.cine_playing and not viewer.cine_action.isChecked()
    assert not viewer.isVisible() and not view.render_view.isVisible()
    assert not viewer.thumbnails.isVisible()
    assert "VIEWER" not in visible_texts(window)
    locked = screen_region(picture_rect).astype(int)
    same = np.all(np.abs(locked - on_screen) < 8, axis=2)
    assert on_screen.std() > 20 and same.mean() < 0.05, "nothing of the image is left"
    assert np.all(locked == locked[0, 0], axis=2).mean() > 0.8  # the lock page's background
    save_png(screen_region(window), artifacts_dir / "app" / "viewer-locked-screen.png")
    window.lock_page.password.setText(ADMIN_PASSWORD)
    qtbot.mouseClick(window.lock_page.unlock_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.is_locked, timeout=10_000)
    qtbot.waitUntil(view.render_view.isVisible, timeout=5_000)
    assert area.current_study_uid == uid
    view.viewport.set_index(3)
    wait_slice_drawn(qtbot, view, 3)
    qtbot.waitUntil(lambda: screen_region(view.render_view).std() > 20, timeout=5_000)

    # deleting the open study empties the viewer (the row double-clicked stays selected
    # through the browser's refreshes)
    window.model.refresh()
    qtbot.waitUntil(lambda: window.model.row_of(uid) is not None, timeout=10_000)
    selected = window.selected_study()
    assert selected is not None and selected.study_instance_uid == uid
    window.delete_selected(confirmed=True)
    qtbot.waitUntil(lambda: archive.counts()["studies"] == 1, timeout=20_000)
    assert area.current_study_uid is None and viewer.current_study_uid is None
    assert area.pages.currentIndex() == PLACEHOLDER_PAGE
    assert view.viewport.source is None

    # a study deleted elsewhere (another session, the command line) closes too
    open_by_double_click(qtbot, window, other)
    assert view.viewport.count == 4
    controller.services.actions(window.session).delete_study(other)
    qtbot.waitUntil(lambda: area.current_study_uid is None, timeout=20_000)
    assert viewer.current_study_uid is None and view.viewport.source is None


def test_logout_closes_the_viewer_and_the_next_login_gets_its_own(
    qtbot: Any, app_window: Any, tmp_path: Path
) -> None:
    controller, window = app_window
    uid = write_ct_study(tmp_path / "ct", images=8)
    import_folder(qtbot, window, tmp_path / "ct")
    open_by_double_click(qtbot, window, uid)
    viewer = window.viewer.image_viewer
    views = viewer.views
    window.sig_logout_requested.emit()
    qtbot.waitUntil(lambda: not window.session.active, timeout=10_000)
    # its render windows are finalized and it is gone from the (hidden) window
    assert all(v.render_view.closed for v in views)
    assert window.viewer.image_viewer is None and window.viewer.current_study_uid is None

    again = log_in(qtbot, controller, ADMIN, ADMIN_PASSWORD)
    assert again is not window and again.viewer.image_viewer is None
    open_by_double_click(qtbot, again, uid)
    assert again.viewer.image_viewer.session is again.session
    # decoded before, its first image is drawn at once; the thumbnails still come
    wait_thumbnails(qtbot, again.viewer.image_viewer)
    # closing the window finalizes the viewer too
    views = again.viewer.image_viewer.views
    again.close()
    assert all(v.render_view.closed for v in views)


def test_operator_views_but_may_not_measure_a_doctor_may(
    qtbot: Any, app_window: Any, tmp_path: Path, artifacts_dir: Path
) -> None:
    controller, window = app_window
    uid = write_ct_study(tmp_path / "ct", images=6)
    import_folder(qtbot, window, tmp_path / "ct")
    admin = window.services.user_admin(window.session)
    admin.create_user("olga", "Operator pass 1", Role.OPERATOR)
    admin.create_user("dora", "Doctor pass 1", Role.DOCTOR)
    window.sig_logout_requested.emit()
    qtbot.waitUntil(lambda: not window.session.active, timeout=10_000)

    for user, password, allowed in (
        ("olga", "Operator pass 1", False),
        ("dora", "Doctor pass 1", True),
    ):
        window = log_in(qtbot, controller, user, password)
        window.resize(1600, 950)
        open_by_double_click(qtbot, window, uid)
        viewer = window.viewer.image_viewer
        view = viewer.views[0]
        viewer.set_tool(viewer.tool.LENGTH)
        rv = view.render_view
        start, end = view.screen_point((20, 20)), view.screen_point((100, 90))
        qtbot.mousePress(rv, Qt.MouseButton.LeftButton, pos=start.toPoint())
        qtbot.mouseMove(rv, pos=((start + end) / 2).toPoint())
        qtbot.mouseMove(rv, pos=end.toPoint())
        qtbot.mouseRelease(rv, Qt.MouseButton.LeftButton, pos=end.toPoint())
        settle(50)
        assert (len(viewer.model.annotations()) == 1) is allowed, user
        message = window.viewer.message
        if allowed:
            result = viewer.store_sr()  # the measurement report goes into the study
            assert result.ok, result.reason
            assert not message.isVisible()
        else:
            assert message.isVisible() and "not allowed" in message.text()
            save_png(window_picture(window), artifacts_dir / "app" / "viewer-operator.png")
            with pytest.raises(ValueError):
                viewer.store_sr()
        window.sig_logout_requested.emit()
        qtbot.waitUntil(lambda w=window: not w.session.active, timeout=10_000)

    archive = controller.services.archive
    assert sorted(s.modality for s in archive.find_series(uid)) == ["CT", "SR"]
    opens = controller.services.audit.events(action="study_open", study_uid=uid)
    assert [e.actor for e in opens] == ["olga", "dora"]


def test_shared_ct_series_opens_in_the_viewer(
    qtbot: Any, app_window: Any, testdata: Path, artifacts_dir: Path
) -> None:
    controller, window = app_window
    folder = testdata / "series" / "ct-lung-petctdx-30sl"
    if not folder.is_dir():
        pytest.skip("the 30-slice CT of the shared test data is absent")
    import_folder(qtbot, window, folder)
    archive = controller.services.archive
    (study,) = archive.find_studies()
    open_by_double_click(qtbot, window, study.study_instance_uid)
    viewer = window.viewer.image_viewer
    view = viewer.views[0]
    assert view.viewport.count == 30
    assert view.grab_frame().std() > 20
    assert match_fraction(view, render_reference(archive, view)) > 0.9
    wheel(view.render_view, -10)
    wait_slice_drawn(qtbot, view, 10)
    assert match_fraction(view, render_reference(archive, view)) > 0.9
    wait_thumbnails(qtbot, viewer)
    save_png(window_picture(window), artifacts_dir / "app" / "viewer-ct-lung.png")
