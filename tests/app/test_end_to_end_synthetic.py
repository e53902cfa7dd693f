"""End to end on a synthetic CT study (no shared test data needed): an operator imports it
through the import dialog, sees it with a thumbnail, sends it to the real token-checked
Orthanc through the outbox and finds it in the Central tab; an admin deletes it here and
retrieves it back from the Central tab.  The audit log holds each step, and the send
reaches the central audit.  The twin of ``test_end_to_end.py`` for machines without
``/work/shared/testdata``."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.app import end_to_end_steps as app_steps
from tests.app.conftest import log_in, make_settings
from tests.app.synthetic import write_study

pytestmark = [pytest.mark.qt, pytest.mark.network, pytest.mark.orthanc]

SLICES = 4


def test_synthetic_import_send_find_delete_retrieve(
    qtbot: Any, start_app: Any, auth_api: Any, orthanc: Any, tmp_path: Path
) -> None:
    patient_id = f"SYN-{uuid.uuid4().hex[:10]}"  # Orthanc is shared by the session
    source = tmp_path / "cd"
    study_uid = write_study(
        source, patient_name="SYNTHETIC^CT", patient_id=patient_id, images=SLICES, size=64
    )
    settings = make_settings(
        tmp_path / "home",
        central={"auth_url": auth_api.url, "dicomweb_url": orthanc.dicomweb_url},
    )
    controller = start_app(settings)
    name, password = auth_api.user_for("operator")
    window = log_in(qtbot, controller, name, password)

    # -- import through the dialog ------------------------------------------------------
    dialog = app_steps.import_through_dialog(qtbot, window, source, timeout_ms=60_000)
    summary = dialog.job.snapshot().result
    assert summary is not None and summary.stored == SLICES
    assert list(summary.study_uids) == [study_uid]
    dialog.close()

    # -- it appears in the list, with a thumbnail ---------------------------------------
    qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=20_000)
    record = window.model.record(0)
    assert record.study_instance_uid == study_uid and record.num_instances == SLICES
    qtbot.waitUntil(lambda: window.thumbnails.has(study_uid), timeout=30_000)
    assert window.thumbnails.pixmap(study_uid) is not None

    # -- send it to the central archive through the outbox -----------------------------
    _, view = app_steps.send_to_central(qtbot, window, study_uid, timeout_ms=120_000)
    assert view.done == SLICES

    # -- find it in the Central tab (QIDO-RS with the operator's token) -----------------
    found = app_steps.find_in_central(qtbot, window, patient_id, study_uid)
    assert found is not None and found.local and found.patient_id == patient_id

    audit = window.services.audit
    send = [e for e in audit.events(action="study_send") if e.detail.get("completed")]
    assert len(send) == 1 and send[0].study_uid == study_uid and send[0].outcome == "success"
    assert send[0].actor == name
    assert app_steps.reached_central_audit(window, auth_api, send[0].event_id)

    # -- an admin deletes it here and retrieves it back from the Central tab ------------
    window = app_steps.log_in_again_as_admin(qtbot, controller, window, auth_api)
    app_steps.delete_and_retrieve(qtbot, window, patient_id, study_uid, studies=1)
    archive = window.services.archive
    qtbot.waitUntil(lambda: archive.counts()["instances"] == SLICES, timeout=120_000)
    assert [r.sop_instance_uid for r in archive.study_instances(study_uid)]

    # -- the audit log holds each step, in order, in an unbroken chain ------------------
    events = audit.events()
    steps = [
        (e.action, e.actor)
        for e in events
        if e.action in ("study_import", "study_send", "study_delete", "study_retrieve")
    ]
    admin = auth_api.admin_username
    assert steps == [
        ("study_import", name),
        ("study_send", name),  # queued
        ("study_send", name),  # delivered
        ("study_delete", admin),
        ("study_retrieve", admin),
    ], steps
    for e in events:
        if e.action in ("study_send", "study_delete", "study_retrieve"):
            assert e.study_uid == study_uid and e.outcome == "success", e
    retrieved = audit.events(action="study_retrieve")[-1]
    assert retrieved.detail["completed"] == SLICES
    assert audit.verify_chain() is None
