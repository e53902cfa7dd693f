"""The app's path in central mode: a doctor signed in to the real central auth API
enrols (the engine call the CLI uses), the report editor's Sign makes a B-LT signature
with the central CA and ``/tsa``, the panel shows it signed; after an administrator
revokes the certificate the panel shows the same report NOT SIGNED (revoked) and Sign
is refused with the reason, writing nothing."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6")

from tests.app.synthetic import write_study
from tests.auth.conftest import MemoryKeyring
from workstation.auth.audit import AuditLog
from workstation.auth.authenticator import Authenticator
from workstation.auth.db import AuthDatabase
from workstation.auth.keyring_store import SecretStore
from workstation.auth.session import SessionMode
from workstation.config import CentralSettings
from workstation.pacs_node.archive.archive import Archive
from workstation.reports.model import ReportStatus
from workstation.reports.store import ReportStore
from workstation.services.report_actions import ReportActions
from workstation.services.signing_actions import SigningActions

pytestmark = [pytest.mark.qt, pytest.mark.network]


def test_editor_signs_with_the_central_ca_and_shows_revocation(  # type: ignore[no-untyped-def]
    qtbot, central_ca: Any, settings: Any, tmp_path: Path, artifacts_dir: Path
) -> None:
    from workstation.reports._qt.qt_report_editor import QtReportEditor

    settings = dataclasses.replace(settings, central=CentralSettings(auth_url=central_ca.url))
    archive = Archive.open(settings)
    db = AuthDatabase.from_settings(settings)
    audit = AuditLog(db)
    secrets = SecretStore(MemoryKeyring())
    auth = Authenticator.from_settings(settings, audit, store=secrets)
    try:
        folder = tmp_path / "study"
        uid = write_study(folder, patient_name="MÜLLER^JÜRGEN", patient_id="Q-1", series=1)
        for f in sorted(folder.iterdir()):
            assert archive.store_file(f).ok
        name, password = f"doctor-{os.urandom(4).hex()}", "Pw-" + os.urandom(12).hex()
        central_ca.create_user(name, password, "doctor")
        session = auth.login(name, password, allow_offline=False)
        assert session.mode is SessionMode.CENTRAL and session.access_token
        cert = SigningActions(session, audit, settings, secrets).enroll()
        assert cert.issuer != cert.subject

        actions = ReportActions(
            session, ReportStore(archive.engine), audit, settings, archive=archive, secrets=secrets
        )
        draft = actions.create(uid, "mr_brain", "de", {"impression": "Kein Befund."})
        editor = QtReportEditor(actions, uid)
        qtbot.addWidget(editor)
        editor.resize(1400, 900)
        editor.show()
        qtbot.waitExposed(editor)
        assert editor.report is not None and editor.report.report_id == draft.report_id
        with qtbot.waitSignal(editor.sig_report_signed, timeout=60000):
            assert editor.sign()
        text = editor.signature.text()
        assert text.startswith(f"Signed by {name}") and "intact, trusted" in text, text
        signed = actions.store.pdf(draft.report_id)
        assert signed is not None and b"/ETSI.CAdES.detached" in signed

        serial = format(cert.serial_number, "x")
        revoked = central_ca.request(
            "POST", "/admin/ca/revoke", token=central_ca.admin_token(), json={"serial": serial}
        )
        assert revoked.status_code == 200, revoked.text
        editor.show_report(actions.get(draft.report_id))
        text = editor.signature.text()
        assert text.startswith("NOT SIGNED") and "revoked" in text, text
        assert "#c00000" in editor.signature.styleSheet()
        (artifacts_dir / "reports").mkdir(exist_ok=True)
        editor.signature.grab().save(str(artifacts_dir / "reports" / "panel_central_revoked.png"))

        second = actions.create(uid, "mr_brain", "de", {"impression": "Kontrolle."})
        editor.show_report(second)
        errors: list[str] = []
        editor.sig_error.connect(errors.append)
        assert not editor.sign()
        assert errors and "revoked" in errors[0], errors
        assert actions.store.get(second.report_id).status == ReportStatus.DRAFT
        assert actions.store.pdf(second.report_id) is None
        auth.logout(session)
    finally:
        auth.close()
        archive.close()
        db.close()
