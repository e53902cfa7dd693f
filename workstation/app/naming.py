"""``named(widget, "name")``: set a widget's object name (tests and style sheets find
widgets by it) and return the widget."""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtCore import QObject

W = TypeVar("W", bound=QObject)


def named(obj: W, name: str) -> W:
    obj.setObjectName(name)
    return obj
