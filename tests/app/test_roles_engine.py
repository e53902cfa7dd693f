"""Each role, logged in through the dialog against the real central, calls the engine
directly (not the buttons) for send, retrieve, AE-table and settings changes and
measurement writing: what the role may do works against the real Orthanc, the rest is
refused, audited and changes nothing.

The expectations are the table in ``workstation/auth/permissions.py``, written out here
by hand so that a change of the table has to change this test too.  Report writing has
no engine entry point yet (the reports issue), so it is not called here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.app.conftest import log_in, make_settings
from tests.app.synthetic import write_study
from workstation.auth.errors import PermissionDenied
from workstation.services.jobs import JobState
from workstation.services.user_settings import save_user_settings
from workstation.viewer.annotations import Annotation, Kind

pytestmark = [pytest.mark.qt, pytest.mark.network, pytest.mark.orthanc]

MAY = {
    "operator": {"send", "retrieve"},
    "doctor": {"retrieve", "measure"},
    "admin": {"send", "retrieve", "nodes", "settings", "measure"},
}
PERMISSION = {
    "send": "studies.send",
    "retrieve": "studies.retrieve",
    "nodes": "nodes.manage",
    "settings": "settings.manage",
    "measure": "measurements.write",
}


def _credentials(auth_api: Any, role: str) -> tuple[str, str]:
    if role == "admin":
        return auth_api.admin_username, auth_api.admin_password
    return auth_api.user_for(role)


def test_engine_calls_per_role(
    qtbot: Any, start_app: Any, auth_api: Any, orthanc: Any, tmp_path: Path
) -> None:
    settings = make_settings(
        tmp_path / "home",
        central={"auth_url": auth_api.url, "dicomweb_url": orthanc.dicomweb_url},
    )
    controller = start_app(settings)
    archive = controller.services.archive
    study_dir = tmp_path / "study"
    uid = write_study(study_dir, patient_name="ENGINE^ROLES", patient_id="ER-1", images=2)
    for f in sorted(study_dir.iterdir()):
        assert archive.store_file(f).ok
    sop = archive.study_instances(uid)[0].sop_instance_uid

    for role in ("operator", "doctor", "admin"):  # the operator's send feeds the retrieves
        window = log_in(qtbot, controller, *_credentials(auth_api, role))
        assert window.session.role.value == role
        audit, sync = window.services.audit, window.services.sync
        for what, call in _guarded_calls(qtbot, window, uid).items():
            if what in MAY[role]:
                call()
                continue
            denied_before = len(audit.events(action="permission_denied"))
            queued_before = len(sync.jobs())
            with pytest.raises(PermissionDenied):
                call()
            denied = audit.events(action="permission_denied")[denied_before:]
            assert [e.detail["permission"] for e in denied] == [PERMISSION[what]], (role, what)
            assert denied[0].actor == window.session.username and denied[0].outcome == "denied"
            assert len(sync.jobs()) == queued_before  # nothing was queued
        _check_measurement(qtbot, window, uid, sop, may="measure" in MAY[role])
        window.sig_logout_requested.emit()
        qtbot.waitUntil(lambda w=window: not w.session.active, timeout=10_000)
    # the user's settings file holds only what the admin wrote
    text = settings.user_config_file.read_text(encoding="utf-8")
    assert "ROLEPEER" in text and "idle_lock_minutes = 7" in text


def _guarded_calls(qtbot: Any, window: Any, uid: str) -> dict[str, Any]:
    """One engine call per guarded action; each asserts its own effect when it runs."""
    services, session, actions = window.services, window.session, window.study_actions
    settings = services.settings

    def send() -> None:
        job_id = services.queue_send(session, uid, "central")
        sync = services.sync
        qtbot.waitUntil(lambda: str(sync.job(job_id).state) in ("done", "failed"), timeout=120_000)
        view = sync.job(job_id)
        assert str(view.state) == "done" and view.failed == 0, view.last_error
        assert view.done == 2

    def retrieve() -> None:
        job = actions.retrieve_study(uid, services.central_node(session), "central")
        snap = services.jobs.wait(job, 120)
        assert snap.state is JobState.DONE, (snap.error, snap.failures)
        assert snap.result.failed == 0 and snap.result.completed + snap.result.warning == 2

    def nodes() -> None:
        peer = {"name": "ROLEPEER", "ae_title": "ROLEPEER", "host": "127.0.0.1", "port": 11112}
        path = save_user_settings(settings, session, {"node.peers": [peer]}, services.audit)
        assert "ROLEPEER" in path.read_text(encoding="utf-8")

    def change_settings() -> None:
        changes = {"security.idle_lock_minutes": 7}
        path = save_user_settings(settings, session, changes, services.audit)
        assert "idle_lock_minutes = 7" in path.read_text(encoding="utf-8")

    return {
        "send": send,
        "retrieve": retrieve,
        "nodes": nodes,
        "settings": change_settings,
    }


def _check_measurement(qtbot: Any, window: Any, uid: str, sop: str, *, may: bool) -> None:
    """The viewer's model is the engine entry for measurements: it refuses by value (and
    says why) and keeps nothing when the role may not write."""
    from workstation.viewer._qt.qt_viewer import QtViewer

    viewer = QtViewer(
        window.services.archive, window.services.settings, actions=window.study_actions
    )
    qtbot.addWidget(viewer)
    viewer.model.study_uid = uid
    audit = window.services.audit
    denied_before = len(audit.events(action="permission_denied"))
    refused: list[str] = []
    viewer.model.write_refused.connect(refused.append)
    ann = Annotation(Kind.LENGTH, ((1.0, 1.0), (10.0, 10.0)), sop, study_instance_uid=uid)
    assert viewer.model.add_annotation(ann) is may
    kept = [a.annotation_id for a in viewer.model.annotations_on(sop, 0)]
    if may:
        assert not refused and kept == [ann.annotation_id]
    else:
        assert len(refused) == 1 and "measure" in refused[0] and kept == []
    # The refusal is in the local audit log (outcome denied), with the study's UID.
    denied = audit.events(action="permission_denied")[denied_before:]
    assert [(e.detail["permission"], e.outcome, e.study_uid) for e in denied] == (
        [] if may else [("measurements.write", "denied", uid)]
    )
    # Remove / Export SR are enabled only for roles that may write measurements.
    assert viewer.panel.writable is may
