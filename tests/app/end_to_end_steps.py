"""The steps the end-to-end app tests take in the real main window, as a user would:
import through the dialog, send to the central through the outbox, find a study in the
Central tab, see the send reach the central audit, log in again as the administrator,
delete a study here and retrieve it back from the Central tab."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from tests.app.conftest import log_in


def import_through_dialog(qtbot: Any, window: Any, source: Path, timeout_ms: int) -> Any:
    """Start the import dialog on ``source`` and wait until its job has ended and the
    dialog stopped polling; gives the open dialog (its job's result is the summary)."""
    dialog = window.open_import_dialog()
    dialog.set_paths([source])
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.job is not None and not dialog.running, timeout=timeout_ms)
    qtbot.waitUntil(lambda: not dialog._timer.isActive(), timeout=5_000)
    return dialog


def send_to_central(qtbot: Any, window: Any, study_uid: str, timeout_ms: int) -> tuple[int, Any]:
    """Select the study, send it to "central" through the persistent outbox and wait for
    the job to end, which must be done with no failure; gives (job id, job view)."""
    assert window.local.select_study(study_uid)
    assert window.act["send"].isEnabled()
    job_id = window.send_selected("central")
    assert isinstance(job_id, int)  # a job of the persistent outbox
    sync = window.services.sync
    qtbot.waitUntil(lambda: str(sync.job(job_id).state) in ("done", "failed"), timeout=timeout_ms)
    view = sync.job(job_id)
    assert str(view.state) == "done" and view.failed == 0, view.last_error
    return job_id, view


def find_in_central(qtbot: Any, window: Any, patient_id: str, study_uid: str) -> Any:
    """Search the Central tab (QIDO-RS with the session's token) for ``patient_id`` and
    select the study; gives the selected row."""
    window.tabs.setCurrentWidget(window.central)
    window.central.form.patient_id.setText(patient_id)
    window.central.search_now()
    qtbot.waitUntil(lambda: window.central.select_study(study_uid), timeout=30_000)
    return window.central.selected()


def reached_central_audit(window: Any, auth_api: Any, event_id: str) -> bool:
    """Forward the pending audit events now; whether the central's audit holds
    ``event_id`` among its workstation.study_send events."""
    forwarder = window.services.forwarder
    assert forwarder is not None
    forwarder.forward_pending()
    central_events = auth_api.request(
        "GET",
        "/audit/events",
        token=auth_api.admin_token(),
        params={"action": "workstation.study_send", "limit": 1000},
    ).json()["events"]
    return any(e["client_event_id"] == event_id for e in central_events)


def log_in_again_as_admin(qtbot: Any, controller: Any, window: Any, auth_api: Any) -> Any:
    """Log the window's user out and the central's administrator in; the new window."""
    window.sig_logout_requested.emit()
    qtbot.waitUntil(lambda: not window.session.active, timeout=10_000)
    return log_in(qtbot, controller, auth_api.admin_username, auth_api.admin_password)


def delete_and_retrieve(
    qtbot: Any, window: Any, patient_id: str, study_uid: str, studies: int
) -> None:
    """With ``studies`` studies listed here: delete ``study_uid``, find it in the Central
    tab as not local, retrieve it, and wait for the archive to hold ``studies`` again
    and for the retrieve's audit record."""
    archive = window.services.archive
    qtbot.waitUntil(lambda: window.model.rowCount() == studies, timeout=20_000)
    assert window.local.select_study(study_uid)
    window.delete_selected(confirmed=True)
    qtbot.waitUntil(lambda: archive.counts()["studies"] == studies - 1, timeout=20_000)
    assert not find_in_central(qtbot, window, patient_id, study_uid).local
    assert window.central.retrieve_button.isEnabled()
    qtbot.mouseClick(window.central.retrieve_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: archive.counts()["studies"] == studies, timeout=120_000)
    audit = window.services.audit
    qtbot.waitUntil(lambda: bool(audit.events(action="study_retrieve")), timeout=60_000)
