"""The central auth API goes away while a GUI session renews its tokens (issue 16): the
main window's "centralBanner" says so while the problem lasts and hides once a refresh
gets through again.  The refresh runs off the GUI thread; the window polls the session."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from tests.app.conftest import log_in, make_settings, screenshot
from tests.harness.faults import kill_9
from workstation.auth.errors import CentralUnavailable
from workstation.auth.session import SessionMode

pytestmark = [pytest.mark.qt, pytest.mark.network]


def _refresh_off_thread(auth: Any, session: Any) -> list[BaseException | None]:
    """Like the background refresher: the exchange runs on a worker thread."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            auth.refresh_now(session)
            outcome.append(None)
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            outcome.append(exc)

    thread = threading.Thread(target=run, name="test-refresh")
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()
    return outcome


def test_central_banner_shows_while_the_auth_api_is_down_and_hides_when_it_is_back(
    qtbot: Any, start_app: Any, auth_api_factory: Any, tmp_path: Path, artifacts_dir: Path
) -> None:
    server = auth_api_factory(name="auth_api_gui_banner")
    name, password = server.user_for("doctor")
    settings = make_settings(
        tmp_path / "data", central={"auth_url": server.url, "timeout_seconds": 2.0}
    )
    controller = start_app(settings)
    window = log_in(qtbot, controller, name, password)
    session = window.session
    assert session.mode is SessionMode.CENTRAL
    banner = window.central_banner
    assert banner.objectName() == "centralBanner" and not banner.isVisible()
    auth = controller.services.authenticator

    kill_9(server.proc.pid)
    server.proc.wait(timeout=10)
    outcome = _refresh_off_thread(auth, session)
    assert isinstance(outcome[0], CentralUnavailable)
    qtbot.waitUntil(banner.isVisible, timeout=5_000)
    assert "cannot be reached; you stay logged in" in banner.text()
    assert server.url in banner.text() and banner.kind == "warning"
    assert session.active and window.isVisible()
    screenshot(window, artifacts_dir / "app" / "central-unreachable-banner.png")

    server.restart()
    assert _refresh_off_thread(auth, session) == [None]
    qtbot.waitUntil(lambda: not banner.isVisible(), timeout=5_000)
    assert banner.text() == "" and session.central_problem == ""
