"""The background-call utility (results on the GUI thread, dropped when the owner is
gone) and the global error handler (actionable dialog + log)."""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import Any

import pytest
from PySide6.QtCore import QObject

from workstation.app import errors
from workstation.app.workers import run_in_background, wait_for_background
from workstation.auth.errors import PermissionDenied

pytestmark = pytest.mark.qt


def test_results_come_back_on_the_gui_thread(qtbot: Any) -> None:
    gui = threading.get_ident()
    seen: dict[str, Any] = {}

    def work() -> int:
        seen["worker"] = threading.get_ident()
        return 42

    def ok(value: int) -> None:
        seen["callback"] = threading.get_ident()
        seen["value"] = value

    run_in_background(work, ok)
    qtbot.waitUntil(lambda: "value" in seen, timeout=5000)
    assert seen["value"] == 42 and seen["callback"] == gui and seen["worker"] != gui

    failures: list[BaseException] = []
    run_in_background(lambda: 1 / 0, None, failures.append)
    qtbot.waitUntil(lambda: bool(failures), timeout=5000)
    assert isinstance(failures[0], ZeroDivisionError)


def test_callbacks_are_skipped_once_the_owner_is_deleted(qtbot: Any) -> None:
    owner = QObject()
    called: list[object] = []
    run_in_background(lambda: time.sleep(0.3) or "late", called.append, called.append, owner=owner)
    owner.deleteLater()
    qtbot.wait(50)
    assert wait_for_background(5000)
    qtbot.wait(100)
    assert called == []


@pytest.mark.expect_error_dialog
def test_uncaught_exception_shows_an_actionable_dialog_and_logs(
    qtbot: Any, caplog: pytest.LogCaptureFixture, tmp_path: Any
) -> None:
    old = sys.excepthook, threading.excepthook
    try:
        errors.install_excepthook(str(tmp_path / "workstation.log"))
        try:
            raise ValueError("boom")
        except ValueError:
            with caplog.at_level(logging.CRITICAL):
                sys.excepthook(*sys.exc_info())
        boxes = errors.open_error_boxes()
        assert len(boxes) == 1 and len(errors.history) == 1
        text = boxes[0].text()
        assert "ValueError" in text and "workstation.log" in text and "Try again" in text
        assert any("uncaught exception" in r.message and r.exc_info for r in caplog.records)
        boxes[0].close()
    finally:
        sys.excepthook, threading.excepthook = old


def test_messages_tell_what_to_do() -> None:
    denied = PermissionDenied("reports.write", "operator", "write reports")
    assert errors.user_message(denied) == str(denied) and "administrator" in str(denied)
    missing = FileNotFoundError(2, "No such file", "/media/cdrom/DICOMDIR")
    assert "/media/cdrom/DICOMDIR" in errors.user_message(missing)
    full = OSError(28, "No space left on device")
    assert "free space" in errors.user_message(full)
