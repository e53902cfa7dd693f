"""Lock after idle (injected clock) hiding patient data while the archive keeps
receiving; offline login after the central stops and its expiry; the online-only banner
without a keyring; no secret left on disk after a GUI session."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from keyring.backends import fail
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QLabel, QLineEdit, QWidget

from tests.app.conftest import log_in, log_in_fails, make_settings, screenshot
from tests.app.synthetic import write_study
from tests.auth.test_central_login import scan_for_secrets
from workstation.auth.errors import SessionLocked
from workstation.auth.keyring_store import SecretStore
from workstation.auth.session import SessionMode
from workstation.pacs_node.archive.queries import StudyQuery

pytestmark = pytest.mark.qt


def create_admin(qtbot: Any, controller: Any, name: str, password: str) -> Any:
    dialog = controller.login_dialog
    assert dialog.first_admin_mode
    dialog.admin_name.setText(name)
    dialog.admin_password.setText(password)
    dialog.admin_confirm.setText(password)
    with qtbot.waitSignal(controller.sig_window_shown, timeout=30_000) as blocker:
        qtbot.mouseClick(dialog.create_admin_button, Qt.MouseButton.LeftButton)
    window = blocker.args[0]
    qtbot.waitExposed(window)
    return window


def visible_texts(root: QWidget) -> str:
    parts = [root.windowTitle()]
    for w in root.findChildren(QWidget):
        if not w.isVisible():
            continue
        if isinstance(w, QLabel | QLineEdit | QAbstractButton):
            parts.append(w.text())
    return "\n".join(parts)


def _store(archive: Any, folder: Path) -> None:
    for f in sorted(folder.iterdir()):
        assert archive.store_file(f).ok


@pytest.mark.dcmtk
@pytest.mark.skipif(shutil.which("storescu") is None, reason="dcmtk storescu not installed")
def test_idle_lock_hides_patient_data_and_receiving_continues(
    qtbot: Any, start_app: Any, clock: Any, tmp_path: Path, artifacts_dir: Path
) -> None:
    settings = make_settings(
        tmp_path / "home",
        security={"idle_lock_minutes": 5},
        node={"port": 0, "bind_address": "127.0.0.1", "ae_title": "LOCKTEST"},
    )
    controller = start_app(settings, start_node=True)
    window = create_admin(qtbot, controller, "chief", "Correct horse 1")
    archive = controller.services.archive
    write_study(tmp_path / "a", patient_name="SECRET^ALICE", patient_id="P-1")
    _store(archive, tmp_path / "a")
    window.model.refresh()
    qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=10_000)
    assert "SECRET" in window.model.data(window.model.index(0, 1))

    clock.advance(5 * 60 - 1)
    assert not window.idle_watcher.check() and not window.is_locked
    clock.advance(2)
    assert window.idle_watcher.check()
    assert window.is_locked and window.session.locked
    assert not window.local.table.isVisible() and not window.activity_dock.isVisible()
    assert "SECRET" not in visible_texts(window) and "P-1" not in visible_texts(window)
    with pytest.raises(SessionLocked):
        window.study_actions.search(StudyQuery())
    screenshot(window, artifacts_dir / "app" / "lock-screen.png")

    # the DICOM node keeps receiving while the screen is locked (dcmtk storescu sends)
    write_study(tmp_path / "b", patient_name="ARRIVED^WHILE^LOCKED", patient_id="P-2")
    node = controller.services.node
    assert node is not None and node.port > 0
    sent = subprocess.run(
        [
            "storescu",
            "-aec",
            "LOCKTEST",
            "127.0.0.1",
            str(node.port),
            *map(str, sorted((tmp_path / "b").iterdir())),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert sent.returncode == 0, sent.stderr
    assert archive.counts()["studies"] == 2
    assert "ARRIVED" not in visible_texts(window)

    page = window.lock_page
    page.password.setText("wrong password")
    qtbot.mouseClick(page.unlock_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(page.message.text()), timeout=10_000)
    assert window.is_locked
    page.password.setText("Correct horse 1")
    qtbot.mouseClick(page.unlock_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.is_locked, timeout=10_000)
    assert window.local.table.isVisible()
    qtbot.waitUntil(lambda: window.model.rowCount() == 2, timeout=10_000)
    actions = [e.action for e in controller.services.audit.events()]
    assert actions[-3:] == ["lock", "unlock_failed", "unlock"]


def test_offline_login_after_central_stops_then_expiry(
    qtbot: Any,
    start_app: Any,
    auth_api_factory: Any,
    clock: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    artifacts_dir: Path,
) -> None:
    home = tmp_path / "user-home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    server = auth_api_factory(name="auth_api_gui_offline")
    name, password = server.user_for("doctor")
    settings = make_settings(
        tmp_path / "data",
        central={"auth_url": server.url},
        security={"offline_login_days": 2},
    )
    controller = start_app(settings)
    window = log_in(qtbot, controller, name, password)
    assert window.session.mode is SessionMode.CENTRAL and not window.banner.isVisible()
    tokens = window.session.tokens
    seen = {password, tokens.access_token, tokens.refresh_token}
    window.sig_logout_requested.emit()
    qtbot.waitUntil(lambda: not window.session.active, timeout=10_000)

    server.stop()
    window = log_in(qtbot, controller, name, password)
    assert window.session.mode is SessionMode.OFFLINE
    assert window.banner.isVisible() and "Offline" in window.banner.text()
    assert "Offline" in window.user_label.text()
    assert not window.central.form.isEnabled()
    screenshot(window, artifacts_dir / "app" / "offline-banner.png")
    window.sig_logout_requested.emit()
    qtbot.waitUntil(lambda: not window.session.active, timeout=10_000)

    clock.advance(2 * 86400 + 60)
    message = log_in_fails(qtbot, controller, name, password)
    assert "expired" in message
    assert controller.window is None
    controller.shutdown()
    assert scan_for_secrets([home, settings.home], seen) == []


def test_no_keyring_shows_the_online_only_banner(
    qtbot: Any, start_app: Any, auth_api: Any, tmp_path: Path, artifacts_dir: Path
) -> None:
    settings = make_settings(tmp_path / "home", central={"auth_url": auth_api.url})
    controller = start_app(settings, store=SecretStore(fail.Keyring()))
    dialog = controller.login_dialog
    assert dialog.banner.isVisible() and "online-only" in dialog.banner.text()
    dialog.username.setText("operator-name")
    screenshot(dialog, artifacts_dir / "app" / "login-online-only.png")
    window = log_in(qtbot, controller, *auth_api.user_for("operator"))
    assert window.session.online_only
    assert window.banner.isVisible() and "online-only" in window.banner.text()


def test_login_asks_for_the_authenticator_code_when_the_account_has_one(
    qtbot: Any, start_app: Any, auth_api: Any, tmp_path: Path, artifacts_dir: Path
) -> None:
    import secrets
    import time

    import pyotp

    name, password = f"mfa-gui-{secrets.token_hex(3)}", "Mfa-" + secrets.token_urlsafe(16)
    auth_api.create_user(name, password, "doctor")
    token = auth_api.login(name, password)["access_token"]
    setup = auth_api.request("POST", "/auth/mfa/setup", token=token, json={"password": password})
    totp = pyotp.TOTP(setup.json()["secret"])
    assert (
        auth_api.request(
            "POST", "/auth/mfa/confirm", token=token, json={"totp": totp.now()}
        ).status_code
        == 200
    )
    settings = make_settings(tmp_path / "home", central={"auth_url": auth_api.url})
    controller = start_app(settings)
    dialog = controller.login_dialog
    assert not dialog.totp.isVisible()
    dialog.username.setText(name)
    dialog.password.setText(password)
    qtbot.mouseClick(dialog.login_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dialog.totp.isVisible, timeout=30_000)
    assert "6-digit code" in dialog.message.text() and controller.window is None
    screenshot(dialog, artifacts_dir / "app" / "login-totp.png")
    # the password stays typed; the code of the next step (the confirmed one is used up)
    window = log_in(
        qtbot, controller, name, password, totp=totp.generate_otp(int(time.time() // 30) + 1)
    )
    assert window.session.role.value == "doctor"
