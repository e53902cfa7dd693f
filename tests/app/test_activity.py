"""The activity panel: a partly failed import with its reasons and a retry; an outbox
send to a node that is down, waiting to retry with the reason, cancelled and queued again
from the panel."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from tests.app.synthetic import write_study
from tests.app.test_session_gui import create_admin
from tests.harness.ports import free_port
from workstation.services.jobs import JobState

pytestmark = pytest.mark.qt


def test_failures_reasons_cancel_and_retry(
    qtbot: Any, start_app: Any, tmp_path: Path, artifacts_dir: Path
) -> None:
    from tests.app.conftest import make_settings, screenshot

    dead_port = free_port()
    peers = json.dumps(
        [
            {
                "name": "NOWHERE",
                "ae_title": "NOWHERE",
                "host": "127.0.0.1",
                "port": dead_port,
                "may_store": True,
            }
        ]
    )
    settings = make_settings(tmp_path / "home", node={"peers": peers})
    controller = start_app(settings)
    window = create_admin(qtbot, controller, "chief", "Correct horse 1")
    panel = window.activity

    folder = tmp_path / "media"
    write_study(folder, patient_name="ACT^ONE", patient_id="A-1")
    (folder / "notes.dcm").write_bytes(b"this is not DICOM at all" * 10)
    dialog = window.open_import_dialog()
    dialog.set_paths([folder])
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.job is not None and not dialog.running, timeout=60_000)
    qtbot.waitUntil(lambda: dialog.rejects.rowCount() == 1, timeout=5_000)
    assert dialog.rejects.item(0, 0).text() == "notes.dcm"
    assert dialog.rejects.item(0, 1).text()  # the reason, in words
    screenshot(dialog, artifacts_dir / "app" / "import-rejects.png")
    dialog.close()

    panel.model.reload()
    panel.select_job(dialog.job.id)
    snap = panel.selected()
    assert snap.state is JobState.PARTIAL and snap.failed_count == 1
    assert panel.details_button.isEnabled() and panel.retry_button.isEnabled()
    assert "notes.dcm" in panel.model.data(panel.model.index(0, 4))
    qtbot.mouseClick(panel.retry_button, Qt.MouseButton.LeftButton)
    retried = panel.selected()
    assert retried.id != snap.id
    job = window.services.jobs.get(retried.id)
    assert window.services.jobs.wait(job, 60).state is JobState.PARTIAL  # same bad file

    # an outbox send to a node that does not answer: it waits and says why
    qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=10_000)
    uid = window.model.record(0).study_instance_uid
    assert window.local.select_study(uid)
    job_id = window.send_selected("NOWHERE")
    assert isinstance(job_id, int)
    sync = window.services.sync
    qtbot.waitUntil(
        lambda: sync.job(job_id).attempts >= 1 and str(sync.job(job_id).state) == "queued",
        timeout=60_000,
    )
    panel.model.reload()
    panel.select_job(-job_id)
    waiting = panel.selected()
    assert waiting.state is JobState.QUEUED and "Waiting to retry" in waiting.message
    assert sync.job(job_id).last_error
    screenshot(window.activity_dock, artifacts_dir / "app" / "activity-failures.png")
    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: str(sync.job(job_id).state) == "cancelled", timeout=30_000)
    panel.model.reload()
    panel.select_job(-job_id)
    assert panel.retry_button.isEnabled()
    qtbot.mouseClick(panel.retry_button, Qt.MouseButton.LeftButton)
    assert str(sync.job(job_id).state) in ("queued", "running")
