"""Standalone first start: the login dialog asks for the administrator, who lands in
the main window with every action open; a screenshot of each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from tests.app.conftest import make_settings, screenshot


def test_first_start_creates_the_admin(
    qtbot: Any, start_app: Any, tmp_path: Path, artifacts_dir: Path
) -> None:
    controller = start_app(make_settings(tmp_path / "home"))
    dialog = controller.login_dialog
    assert dialog.first_admin_mode
    dialog.admin_name.setText("chief")
    dialog.admin_password.setText("Correct horse 1")
    dialog.admin_confirm.setText("Correct horse 1")
    screenshot(dialog, artifacts_dir / "app" / "first-start.png")
    with qtbot.waitSignal(controller.sig_window_shown, timeout=30_000) as blocker:
        qtbot.mouseClick(dialog.create_admin_button, Qt.MouseButton.LeftButton)
    window = blocker.args[0]
    qtbot.waitExposed(window)
    assert window.session.role.value == "admin"
    assert all(a.isEnabled() for k, a in window.act.items() if k in ("import", "users", "audit"))
    screenshot(window, artifacts_dir / "app" / "main-empty.png")
