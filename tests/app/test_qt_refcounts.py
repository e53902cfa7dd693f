"""Guard against a PySide6 build that drops references to None (PySide6 6.12.0 on
Python 3.11 does so on every void Qt call and the app dies with "none_dealloc" after a
few thousand calls).  pyproject.toml pins PySide6 below 6.12 for this reason."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from PySide6.QtWidgets import QWidget

pytestmark = pytest.mark.qt


def test_void_qt_calls_keep_none_alive(qtbot: Any) -> None:
    widget = QWidget()
    qtbot.addWidget(widget)
    before = sys.getrefcount(None)
    for _ in range(2000):
        widget.setWindowTitle("x")
        widget.update()
    lost = before - sys.getrefcount(None)
    assert lost < 100, f"PySide6 lost {lost} references to None in 4000 void calls"
