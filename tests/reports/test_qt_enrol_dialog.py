"""Central mode, a doctor without a signing certificate: the report editor offers "Get a
signing certificate"; its dialog (password typed again, authenticator code) enrols
through the real central auth API with the same service as ``workstation signing
enroll``.  A wrong password is refused before anything leaves; after the enrolment the
button goes away and Sign makes a signature the panel shows as intact and trusted.  An
operator is not offered the button.  A two-factor account types a fresh code."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from tests.auth.conftest import MemoryKeyring
from tests.reports.central_workstation import central_workstation
from tests.reports.editor_window import shown_editor
from workstation.auth.audit import AuditLog
from workstation.auth.authenticator import Authenticator
from workstation.auth.db import AuthDatabase
from workstation.auth.keyring_store import SecretStore
from workstation.config import CentralSettings
from workstation.reports.keystore import SigningHome
from workstation.reports.signing import SigningRefused
from workstation.services.signing_actions import SigningActions

pytestmark = [pytest.mark.qt, pytest.mark.network]


def _click_ok(qtbot: Any, dialog: Any) -> None:
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)


def test_doctor_gets_a_certificate_in_the_editor_and_signs(  # type: ignore[no-untyped-def]
    qtbot, central_ca: Any, settings: Any, tmp_path: Path, artifacts_dir: Path
) -> None:
    with central_workstation(
        settings, central_ca, tmp_path / "study", patient_name="DUPONT^ÉLODIE", patient_id="E-1"
    ) as ws:
        uid = ws.study_uid
        op_session, _operator, _op_password = ws.sign_in_new_user(central_ca, "operator")
        op_editor = shown_editor(qtbot, ws.reports(op_session), uid)
        assert not op_editor.enrol_button.isVisible()

        session, doctor, password = ws.sign_in_new_user(central_ca, "doctor")
        actions = ws.reports(session)
        draft = actions.create(uid, "ct_head", "fr", {"impression": "Pas d'anomalie."})
        editor = shown_editor(qtbot, actions, uid, size=(1300, 850))
        assert editor.enrol_button.isVisible()
        home = SigningHome(ws.settings.signing_dir)

        dialog = editor.open_enrolment()
        qtbot.waitExposed(dialog)
        assert not dialog.needs_passphrase  # the keyring keeps the key's passphrase
        qtbot.keyClicks(dialog.password, "not-the-password")
        _click_ok(qtbot, dialog)
        qtbot.waitUntil(lambda: not dialog.busy and "password" in dialog.message.text())
        assert "Wrong password" in dialog.message.text(), dialog.message.text()
        assert dialog.isVisible() and not home.has_key(doctor)

        dialog.password.clear()
        qtbot.keyClicks(dialog.password, password)
        out = artifacts_dir / "reports"
        out.mkdir(exist_ok=True)
        dialog.grab().save(str(out / "enrol_dialog.png"))
        with qtbot.waitSignal(dialog.sig_enrolled, timeout=60000) as enrolled:
            _click_ok(qtbot, dialog)
        assert len(enrolled.args[0]) == 64
        assert home.has_key(doctor) and not dialog.isVisible()
        assert not editor.enrol_button.isVisible()

        assert editor.report is not None and editor.report.report_id == draft.report_id
        with qtbot.waitSignal(editor.sig_report_signed, timeout=60000):
            assert editor.sign()
        qtbot.waitUntil(lambda: not editor.signature_checking, timeout=30000)
        text = editor.signature.text()
        assert text.startswith(f"Signed by {doctor}") and "intact, trusted" in text, text
        ws.auth.logout(session)
        ws.auth.logout(op_session)


def test_two_factor_doctor_gives_a_fresh_code_in_the_dialog(  # type: ignore[no-untyped-def]
    qtbot, central_ca: Any, settings: Any, tmp_path: Path
) -> None:
    """The central takes each authenticator code once: the sign-in's code typed again is
    refused with the reason and nothing is kept; the next code enrols."""
    from tests.reports.test_central_signing import _mfa_on
    from workstation.reports._qt.qt_enrol_dialog import QtEnrolDialog

    settings = dataclasses.replace(settings, central=CentralSettings(auth_url=central_ca.url))
    db = AuthDatabase.from_settings(settings)
    audit = AuditLog(db)
    secrets = SecretStore(MemoryKeyring())
    auth = Authenticator.from_settings(settings, audit, store=secrets)
    try:
        doctor, password = f"doctor-{os.urandom(4).hex()}", "Pw-" + os.urandom(12).hex()
        central_ca.create_user(doctor, password, "doctor")
        totp, step = _mfa_on(central_ca, doctor, password)
        sign_in = totp.at((step + 1) * 30)
        session = auth.login(doctor, password, sign_in, allow_offline=False)
        dialog = QtEnrolDialog(SigningActions(session, audit, settings, secrets))
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        home = SigningHome(settings.signing_dir)

        qtbot.keyClicks(dialog.password, password)
        qtbot.keyClicks(dialog.code, sign_in)
        _click_ok(qtbot, dialog)
        qtbot.waitUntil(lambda: not dialog.busy, timeout=60000)
        assert "used already" in dialog.message.text(), dialog.message.text()
        assert not home.has_key(doctor)

        dialog.code.clear()
        qtbot.keyClicks(dialog.code, totp.at((step + 2) * 30))  # the next step: accepted
        with qtbot.waitSignal(dialog.sig_enrolled, timeout=60000):
            _click_ok(qtbot, dialog)
        assert home.has_key(doctor)
        auth.logout(session)
    finally:
        auth.close()
        db.close()


def test_without_a_keyring_the_typed_passphrase_protects_the_new_key(  # type: ignore[no-untyped-def]
    qtbot, central_ca: Any, settings: Any
) -> None:
    """No OS keyring: the dialog asks for the key's passphrase twice.  A short one and two
    that differ are refused in the dialog, with the reason, before anything leaves (no
    key, no certificate); then the same passphrase twice enrols, and the key file opens
    with that passphrase and no other."""
    import keyring.backends.null

    from workstation.reports._qt.qt_enrol_dialog import QtEnrolDialog
    from workstation.reports.keystore import MIN_PASSPHRASE

    settings = dataclasses.replace(settings, central=CentralSettings(auth_url=central_ca.url))
    db = AuthDatabase.from_settings(settings)
    audit = AuditLog(db)
    secrets = SecretStore(keyring.backends.null.Keyring())
    assert not secrets.available
    auth = Authenticator.from_settings(settings, audit, store=secrets)
    try:
        doctor, password = f"doctor-{os.urandom(4).hex()}", "Pw-" + os.urandom(12).hex()
        central_ca.create_user(doctor, password, "doctor")
        session = auth.login(doctor, password, allow_offline=False)
        dialog = QtEnrolDialog(SigningActions(session, audit, settings, secrets))
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        assert dialog.needs_passphrase
        assert dialog.passphrase.isVisible() and dialog.passphrase_again.isVisible()
        home = SigningHome(settings.signing_dir)
        qtbot.keyClicks(dialog.password, password)

        def refused(first: str, again: str, reason: str) -> None:
            dialog.passphrase.clear()
            dialog.passphrase_again.clear()
            qtbot.keyClicks(dialog.passphrase, first)
            qtbot.keyClicks(dialog.passphrase_again, again)
            assert dialog.passphrase.text() == first  # typed into the real fields
            _click_ok(qtbot, dialog)
            assert not dialog.busy  # refused in the dialog: no enrolment started
            assert reason in dialog.message.text(), dialog.message.text()
            assert dialog.isVisible() and not home.has_key(doctor)

        short = "k" * (MIN_PASSPHRASE - 1)
        refused(short, short, f"at least {MIN_PASSPHRASE} characters")
        refused("", "", "Type a passphrase")
        chosen = "Key-pass-" + os.urandom(6).hex()
        refused(chosen, chosen + "x", "differ")
        refused(chosen, chosen[:-1], "differ")
        assert not home.key_path(doctor).exists()

        dialog.passphrase.clear()
        dialog.passphrase_again.clear()
        qtbot.keyClicks(dialog.passphrase, chosen)
        qtbot.keyClicks(dialog.passphrase_again, chosen)
        with qtbot.waitSignal(dialog.sig_enrolled, timeout=60000) as enrolled:
            _click_ok(qtbot, dialog)
        assert home.has_key(doctor) and not dialog.isVisible()
        # The PKCS#12 file is protected by the typed passphrase, and by no other.
        from workstation.reports.site_ca import fingerprint

        cert = home.certificate(doctor, chosen)
        assert fingerprint(cert) == enrolled.args[0]
        for wrong in (chosen + "x", chosen[:-1], "Other-pass-" + os.urandom(4).hex()):
            with pytest.raises(SigningRefused, match="wrong passphrase"):
                home.certificate(doctor, wrong)
        assert secrets.get("anything") is None  # and nothing went to a keyring
        auth.logout(session)
    finally:
        auth.close()
        db.close()
