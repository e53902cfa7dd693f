"""GUI test fixtures: the real app (controller, login dialog, main window) in a real
window (xcb under Xvfb when DISPLAY is set), an in-memory OS keyring, a manual clock."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

if os.environ.get("DISPLAY") and not os.environ.get("QT_QPA_PLATFORM"):
    os.environ["QT_QPA_PLATFORM"] = "xcb"
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tests.auth.conftest import MemoryKeyring
from workstation.auth.clock import ManualClock
from workstation.auth.keyring_store import SecretStore

pytestmark = pytest.mark.qt

LOGIN_TIMEOUT_MS = 30_000


@pytest.fixture(autouse=True)
def _no_unexpected_error_dialogs(request: pytest.FixtureRequest) -> Iterator[None]:
    """A GUI test fails when the app showed an error dialog it did not expect."""
    from workstation.app import errors

    errors.history.clear()
    yield
    if request.node.get_closest_marker("expect_error_dialog") is None:
        assert errors.history == [], f"the app showed errors: {errors.history}"
    for box in errors.open_error_boxes():
        box.close()


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Everything (data, the user's settings file) under the test's own folder."""
    monkeypatch.setenv("WORKSTATION_HOME", str(tmp_path / "home"))


def make_settings(home: Path, **sections: dict[str, Any]) -> Any:
    """Settings for a fresh data directory with ``sections`` overriding defaults.

    Points ``WORKSTATION_HOME`` there too (restored after the test), so the user's
    settings file is inside it, never in the real home."""
    from workstation.config import ensure_home, load_settings

    os.environ["WORKSTATION_HOME"] = str(home)

    overrides = {s: {k: str(v) for k, v in vals.items()} for s, vals in sections.items()}
    settings = load_settings(overrides, home=home)
    ensure_home(settings)
    return settings


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def keyring_backend() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def start_app(
    qtbot: Any, clock: ManualClock, keyring_backend: MemoryKeyring
) -> Iterator[Callable[..., Any]]:
    """``start_app(settings, store=None)`` -> a started AppController whose engine is ready."""
    from workstation.app.main import AppController
    from workstation.services.workstation import WorkstationServices

    controllers: list[AppController] = []

    def start(
        settings: Any, store: SecretStore | None = None, start_node: bool = False
    ) -> AppController:
        controller = AppController(
            settings,
            make_services=functools.partial(
                WorkstationServices,
                store=store or SecretStore(keyring_backend),
                clock=clock,
                start_node=start_node,
            ),
        )
        controllers.append(controller)
        dialog = controller.start()
        qtbot.addWidget(dialog)
        qtbot.waitUntil(lambda: controller.services is not None, timeout=LOGIN_TIMEOUT_MS)
        qtbot.waitUntil(
            lambda: dialog.login_button.isEnabled() or dialog.first_admin_mode,
            timeout=LOGIN_TIMEOUT_MS,
        )
        return controller

    yield start
    for controller in controllers:
        window = controller.window
        controller.shutdown()
        if window is not None:
            window.close()
            window.deleteLater()
        if controller.login_dialog is not None:
            controller.login_dialog.close()


def log_in(qtbot: Any, controller: Any, username: str, password: str, totp: str = "") -> Any:
    """Type into the login dialog, press Log in, wait for the main window."""
    from PySide6.QtCore import Qt

    dialog = controller.login_dialog
    qtbot.waitUntil(lambda: dialog.login_button.isEnabled(), timeout=LOGIN_TIMEOUT_MS)
    dialog.username.setText(username)
    dialog.password.setText(password)
    if totp:
        dialog.totp.setText(totp)
    with qtbot.waitSignal(controller.sig_window_shown, timeout=LOGIN_TIMEOUT_MS) as blocker:
        qtbot.mouseClick(dialog.login_button, Qt.MouseButton.LeftButton)
    window = blocker.args[0]
    qtbot.waitExposed(window)
    return window


def log_in_fails(qtbot: Any, controller: Any, username: str, password: str) -> str:
    from PySide6.QtCore import Qt

    dialog = controller.login_dialog
    qtbot.waitUntil(lambda: dialog.login_button.isEnabled(), timeout=LOGIN_TIMEOUT_MS)
    dialog.username.setText(username)
    dialog.password.setText(password)
    qtbot.mouseClick(dialog.login_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.login_button.isEnabled(), timeout=LOGIN_TIMEOUT_MS)
    return dialog.message.text()


def screenshot(widget: Any, path: Path) -> Path:
    """Save what ``widget`` shows now (after pending layout and paint events)."""
    from PySide6.QtWidgets import QApplication

    for _ in range(3):
        QApplication.sendPostedEvents()
        QApplication.processEvents()
    path.parent.mkdir(parents=True, exist_ok=True)
    assert widget.grab().save(str(path)), f"could not save {path}"
    return path
