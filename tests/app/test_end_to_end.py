"""End to end against the real central (auth API + token-checked Orthanc): log in,
import the shared DICOMDIR set through the import dialog, see the studies with
thumbnails, send one to Orthanc, find it in the Central tab, open it; the audit log
holds each step (locally and, forwarded, centrally).  Saves the README screenshots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.app import end_to_end_steps as app_steps
from tests.app.conftest import log_in, make_settings, screenshot
from tests.app.viewer_helpers import wait_study_shown, window_picture
from tests.viewer.gui_helpers import save_png

pytestmark = [pytest.mark.qt, pytest.mark.network, pytest.mark.orthanc]


def test_import_browse_send_and_find_centrally(
    qtbot: Any,
    start_app: Any,
    auth_api: Any,
    orthanc: Any,
    testdata: Path,
    tmp_path: Path,
    artifacts_dir: Path,
) -> None:
    shots = artifacts_dir / "app"
    settings = make_settings(
        tmp_path / "home",
        central={"auth_url": auth_api.url, "dicomweb_url": orthanc.dicomweb_url},
    )
    controller = start_app(settings)
    name, password = auth_api.user_for("operator")
    controller.login_dialog.username.setText(name)
    screenshot(controller.login_dialog, shots / "login.png")
    window = log_in(qtbot, controller, name, password)
    window.resize(1500, 900)

    # -- import through the dialog ------------------------------------------------------
    source = testdata / "dicomdir" / "pydicom-dicomdirtests"
    dialog = app_steps.import_through_dialog(qtbot, window, source, timeout_ms=120_000)
    summary = dialog.job.snapshot().result
    assert summary is not None and summary.stored >= 31
    assert dialog.progress.value() == dialog.progress.maximum()
    screenshot(dialog, shots / "import-progress.png")
    dialog.close()

    # -- the studies appear, with thumbnails ------------------------------------------------
    studies = len(summary.study_uids)
    qtbot.waitUntil(lambda: window.model.rowCount() == studies, timeout=20_000)
    uids = [window.model.record(r).study_instance_uid for r in range(studies)]

    def thumbnails_settled() -> bool:
        return (
            not window._change_timer.isActive()
            and window.thumbnails.pending == 0
            and all(window.thumbnails.has(u) for u in uids)
        )

    qtbot.waitUntil(thumbnails_settled, timeout=60_000)
    # every study has a picture except the header-only set (TINY_ALPHA: no pixel data)
    pictures = {u: window.thumbnails.pixmap(u) for u in uids}
    without = [
        window.model.record(r).patient_id
        for r in range(studies)
        if pictures[window.model.record(r).study_instance_uid] is None
    ]
    assert without == ["12345678"]
    qtbot.waitUntil(
        lambda: window.local.count_label.text().startswith(str(studies)), timeout=10_000
    )
    screenshot(window, shots / "browser.png")

    # -- send one to the central archive ------------------------------------------------
    target = next(
        window.model.record(r)
        for r in range(studies)
        if window.model.record(r).patient_id == "77654033"
    )
    job_id, view = app_steps.send_to_central(
        qtbot, window, target.study_instance_uid, timeout_ms=180_000
    )
    assert view.done == target.num_instances
    window.activity.model.reload()
    window.activity.select_job(-job_id)
    screenshot(window.activity_dock, shots / "activity.png")

    # -- find it in the Central tab ------------------------------------------------------
    found = app_steps.find_in_central(qtbot, window, "77654033", target.study_instance_uid)
    assert found is not None and found.local and found.patient_id == "77654033"
    screenshot(window, shots / "central.png")

    # -- open it ------------------------------------------------------------------------
    window.tabs.setCurrentWidget(window.local)
    window.open_study(target.study_instance_uid)
    wait_study_shown(qtbot, window, target.study_instance_uid, target.num_series)
    save_png(window_picture(window), shots / "study-open.png")

    # -- the audit log holds each step --------------------------------------------------
    audit = window.services.audit
    events = audit.events()
    actions = [e.action for e in events]
    for step in ("login", "study_import", "study_send", "study_open"):
        assert step in actions, step
    queued, send = [e for e in events if e.action == "study_send"]
    assert queued.detail["queued"] and queued.detail["sync_job"] == job_id
    assert send.study_uid == target.study_instance_uid and send.detail["node"] == "central"
    assert send.outcome == "success" and send.detail["completed"] == target.num_instances
    assert send.actor == name
    assert audit.verify_chain() is None
    assert app_steps.reached_central_audit(window, auth_api, send.event_id)

    # -- an admin deletes it here and retrieves it back from the Central tab ------------
    window = app_steps.log_in_again_as_admin(qtbot, controller, window, auth_api)
    app_steps.delete_and_retrieve(qtbot, window, "77654033", target.study_instance_uid, studies)
    retrieved = window.services.audit.events(action="study_retrieve")[-1]
    assert retrieved.study_uid == target.study_instance_uid and retrieved.outcome == "success"
    assert retrieved.detail["completed"] == target.num_instances
