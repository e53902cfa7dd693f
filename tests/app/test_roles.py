"""Each role logs in through the dialog against the real central auth API and can do
exactly what it may: the toolbar mirrors it, and the engine refuses the rest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.app.conftest import log_in, make_settings
from tests.app.synthetic import write_study
from workstation.auth.errors import PermissionDenied
from workstation.services.audit_access import AuditReader
from workstation.services.jobs import JobState

pytestmark = [pytest.mark.qt, pytest.mark.network]

ALLOWED = {
    "operator": {"import", "open", "send", "settings", "lock", "logout", "quit"},
    "doctor": {"open", "export", "settings", "lock", "logout", "quit"},
    "admin": {
        "import",
        "open",
        "send",
        "export",
        "delete",
        "settings",
        "users",
        "audit",
        "lock",
        "logout",
        "quit",
    },
}


def _credentials(auth_api: Any, role: str) -> tuple[str, str]:
    if role == "admin":
        return auth_api.admin_username, auth_api.admin_password
    return auth_api.user_for(role)


def test_each_role_can_do_exactly_what_it_may(
    qtbot: Any, start_app: Any, auth_api: Any, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path / "home", central={"auth_url": auth_api.url})
    controller = start_app(settings)
    archive = controller.services.archive
    study_dir = tmp_path / "study"
    uid = write_study(study_dir, patient_name="ROLE^TEST", patient_id="R-1")
    for f in sorted(study_dir.iterdir()):
        assert archive.store_file(f).ok
    second = tmp_path / "second"
    write_study(second, patient_name="SECOND^STUDY", patient_id="R-2")

    for role in ("operator", "doctor", "admin"):
        window = log_in(qtbot, controller, *_credentials(auth_api, role))
        assert window.session.role.value == role
        qtbot.waitUntil(lambda w=window: w.model.rowCount() >= 1, timeout=10_000)
        assert window.local.select_study(uid)
        enabled = {k for k, a in window.act.items() if a.isEnabled()}
        assert enabled == ALLOWED[role], role
        _check_engine(window, role, uid, second, tmp_path)
        window.sig_logout_requested.emit()
        qtbot.waitUntil(lambda w=window: not w.session.active, timeout=10_000)
        assert controller.login_dialog is not None and controller.window is None


def _check_engine(window: Any, role: str, uid: str, second: Path, tmp_path: Path) -> None:
    actions, session = window.study_actions, window.session
    services = window.services
    refusals = {
        "import": lambda: actions.import_paths([second]),
        "export": lambda: actions.export_study(uid, tmp_path / f"export-{role}"),
        "delete": lambda: actions.delete_study("1.2.3.4.5.6.7.8"),
        "users": lambda: services.user_admin(session).list_users(),
        "audit": lambda: AuditReader(session, services.audit).events(),
    }
    for key, call in refusals.items():
        if key in ALLOWED[role]:
            continue
        with pytest.raises(PermissionDenied):
            call()
    if "import" in ALLOWED[role]:
        job = actions.import_paths([second])
        snap = services.jobs.wait(job, 60)
        assert snap.state is JobState.DONE, (snap.error, snap.failures)
    if "export" in ALLOWED[role]:
        job = actions.export_study(uid, tmp_path / f"export-{role}")
        assert services.jobs.wait(job, 60).state is JobState.DONE
        assert any((tmp_path / f"export-{role}").rglob("*.dcm"))
    if "users" in ALLOWED[role]:
        assert any(u.role.value == "admin" for u in services.user_admin(session).list_users())
    if "audit" in ALLOWED[role]:
        actions_seen = {e.action for e in AuditReader(session, services.audit).events()}
        assert {"login", "logout", "permission_denied"} <= actions_seen
