"""Admin screens in standalone mode: users (add, change role), the audit log with its
chain check, settings (saved to the user's file; site-locked and role-locked keys
read-only), and delete with confirmation; then an operator sees them closed."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from tests.app.conftest import log_in, make_settings, screenshot
from tests.app.synthetic import write_study
from tests.app.test_session_gui import create_admin
from workstation.app import errors
from workstation.app.users_dialog import UserFormDialog

pytestmark = pytest.mark.qt


def test_admin_screens_and_what_an_operator_sees(
    qtbot: Any,
    start_app: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    artifacts_dir: Path,
) -> None:
    site = tmp_path / "site.toml"
    site.write_text('locked = ["node.ae_title"]\n[node]\nae_title = "SITE_WS"\n')
    monkeypatch.setenv("WORKSTATION_SITE_CONFIG", str(site))
    settings = make_settings(tmp_path / "home")
    controller = start_app(settings)
    window = create_admin(qtbot, controller, "chief", "Correct horse 1")
    shots = artifacts_dir / "app"

    # -- users ------------------------------------------------------------------------
    users = window.open_users()
    qtbot.waitUntil(lambda: users.table.rowCount() == 1, timeout=10_000)
    # The role picked beside "Add user…" is the new user's default role.
    users.role_combo.setCurrentIndex(users.role_combo.findData("operator"))
    users._add()
    form = users.findChild(UserFormDialog)
    assert form.role.currentData() == "operator"
    form.name.setText("olga")
    form.password.setText("Operator pass 1")
    form.confirm.setText("Operator pass 2")
    form.accept()  # the repeat differs: refused, the form stays open and says why
    assert form.isVisible() and form.message.text() == "The two passwords differ."
    form.confirm.setText("Operator pass 1")
    form.accept()
    qtbot.waitUntil(lambda: users.table.rowCount() == 2, timeout=10_000)
    row = [u.username for u in users.users].index("olga")
    assert users.table.item(row, 1).text() == "Operator"
    screenshot(users, shots / "users.png")
    users.close()

    # -- settings: saved to the user's file; the site lock holds ------------------------
    dialog = window.open_settings()
    assert not dialog.fields["node.ae_title"].widget.isEnabled()
    assert "🔒" in dialog.findChild(type(dialog.note), "label_node.ae_title").text()
    dialog.fields["security.idle_lock_minutes"].put(3)
    assert dialog.save()
    written = tomllib.loads(settings.user_config_file.read_text())
    assert written["security"]["idle_lock_minutes"] == 3
    assert "ae_title" not in written.get("node", {})  # locked: never written
    screenshot(dialog, shots / "settings.png")
    dialog.close()

    # -- delete with confirmation --------------------------------------------------------
    write_study(tmp_path / "s", patient_name="DELETE^ME", patient_id="D-1")
    archive = controller.services.archive
    for f in sorted((tmp_path / "s").iterdir()):
        assert archive.store_file(f).ok
    window.model.refresh()
    qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=10_000)
    window.local.table.selectRow(0)
    window.delete_selected()
    box = window.findChild(QMessageBox, "confirmDelete")
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: archive.counts()["studies"] == 0, timeout=10_000)
    # The delete is audited right after the archive call returns, on the worker thread.
    audit_log = window.study_actions.audit
    qtbot.waitUntil(lambda: bool(audit_log.events(action="study_delete")), timeout=10_000)

    # -- the audit log --------------------------------------------------------------------
    audit = window.open_audit()
    qtbot.waitUntil(lambda: "intact" in audit.chain.text(), timeout=10_000)
    actions = {audit.table.item(r, 3).text() for r in range(audit.table.rowCount())}
    # In words (the audit_text table), not the stored action names.
    assert {"Log in", "User created", "Settings changed", "Study deleted"} <= actions
    roles = {audit.table.item(r, 2).text() for r in range(audit.table.rowCount())}
    assert roles == {"admin"}  # who acted, not the role they gave
    screenshot(audit, shots / "audit.png")
    audit.close()

    # -- an operator: admin screens closed, settings read-only but the language ---------
    window.sig_logout_requested.emit()
    qtbot.waitUntil(lambda: not window.session.active, timeout=10_000)
    window = log_in(qtbot, controller, "olga", "Operator pass 1")
    assert not window.act["users"].isEnabled() and not window.act["audit"].isEnabled()
    assert window.open_users() is None and window.open_audit() is None
    assert [m.split(":")[0] for m in errors.history] == ["PermissionDenied"] * 2
    assert "manage users" in errors.history[0] and "audit log" in errors.history[1]
    errors.history.clear()
    dialog = window.open_settings()
    enabled = {k for k, f in dialog.fields.items() if f.widget.isEnabled()}
    assert enabled == {"general.language"}
    dialog.close()
