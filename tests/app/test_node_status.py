"""The status bar says why the DICOM node is off and how to fix it; an administrator is
told at once by a banner (modalities cannot send)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from tests.app.conftest import make_settings, screenshot
from tests.app.test_session_gui import create_admin

pytestmark = pytest.mark.qt


def test_a_busy_port_is_explained_in_the_status_bar_and_to_the_admin(
    qtbot: Any, start_app: Any, tmp_path: Path, artifacts_dir: Path
) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        settings = make_settings(
            tmp_path / "home", node={"port": port, "bind_address": "127.0.0.1"}
        )
        controller = start_app(settings, start_node=True)
        qtbot.waitUntil(lambda: controller.services.node_error is not None, timeout=30_000)
        window = create_admin(qtbot, controller, "chief", "Correct horse 1")
    assert controller.services.node is None
    label = window.node_label.text()
    assert label.startswith("DICOM node off: ")
    assert f"Port {port} is already in use by another program" in label
    assert "--set node.port=N" in label
    banner = window.node_banner
    assert banner.isVisible() and banner.kind == "error"
    assert "modalities cannot send images to this workstation" in banner.text()
    assert f"Port {port} is already in use" in banner.text()
    screenshot(window, artifacts_dir / "app" / "node-port-busy.png")
