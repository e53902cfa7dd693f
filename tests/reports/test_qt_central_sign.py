"""The app's path in central mode: a doctor signed in to the real central auth API
enrols (the engine call the CLI uses), the report editor's Sign makes a B-LT signature
with the central CA and ``/tsa``, the panel shows it signed; after an administrator
revokes the certificate the panel shows the same report NOT SIGNED (revoked) and Sign
is refused with the reason, writing nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6")

from tests.reports.central_workstation import central_workstation
from tests.reports.editor_window import shown_editor
from workstation.auth.session import SessionMode
from workstation.reports.model import ReportStatus
from workstation.services.signing_actions import SigningActions

pytestmark = [pytest.mark.qt, pytest.mark.network]


def test_editor_signs_with_the_central_ca_and_shows_revocation(  # type: ignore[no-untyped-def]
    qtbot, central_ca: Any, settings: Any, tmp_path: Path, artifacts_dir: Path
) -> None:
    with central_workstation(
        settings, central_ca, tmp_path / "study", patient_name="MÜLLER^JÜRGEN", patient_id="Q-1"
    ) as ws:
        uid = ws.study_uid
        session, name, _password = ws.sign_in_new_user(central_ca, "doctor")
        assert session.mode is SessionMode.CENTRAL and session.access_token
        cert = SigningActions(session, ws.audit, ws.settings, ws.secrets).enroll()
        assert cert.issuer != cert.subject

        actions = ws.reports(session)
        draft = actions.create(uid, "mr_brain", "de", {"impression": "Kein Befund."})
        editor = shown_editor(qtbot, actions, uid, size=(1400, 900))
        assert editor.report is not None and editor.report.report_id == draft.report_id
        with qtbot.waitSignal(editor.sig_report_signed, timeout=60000):
            assert editor.sign()
        qtbot.waitUntil(lambda: not editor.signature_checking, timeout=30000)
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
        qtbot.waitUntil(lambda: not editor.signature_checking, timeout=30000)
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
        ws.auth.logout(session)
