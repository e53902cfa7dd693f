"""What a user reads on screen: the visible texts of a window and the widgets holding them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QGroupBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTabBar,
    QWidget,
)

_TAGS = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Shown:
    widget: QWidget
    text: str
    where: str  # "title", "label", "button", "tab", "header", "placeholder", "group"

    def __str__(self) -> str:
        return (
            f"{self.where} {type(self.widget).__name__}#{self.widget.objectName()}: {self.text!r}"
        )


def plain(text: str) -> str:
    """Without Qt's ``&`` accelerator marks and rich-text tags."""
    return _TAGS.sub("", text).replace("&&", "\0").replace("&", "").replace("\0", "&").strip()


def _on_screen(w: QWidget) -> bool:
    return w.isVisible() and w.window().isVisible() and w.width() > 0 and w.height() > 0


def visible_texts() -> Iterator[Shown]:
    """Every text shown by a visible widget of the application, top-level titles too."""
    for w in QApplication.allWidgets():
        if not _on_screen(w):
            continue
        if w.isWindow() and w.windowTitle():
            yield Shown(w, plain(w.windowTitle()), "title")
        if isinstance(w, QLabel) and w.text() and w.pixmap().isNull():
            yield Shown(w, plain(w.text()), "label")
        elif isinstance(w, QAbstractButton) and w.text():
            yield Shown(w, plain(w.text()), "button")
        elif isinstance(w, QGroupBox) and w.title():
            yield Shown(w, plain(w.title()), "group")
        elif isinstance(w, QLineEdit) and w.placeholderText() and not w.text():
            yield Shown(w, plain(w.placeholderText()), "placeholder")
        elif isinstance(w, QTabBar):
            for i in range(w.count()):
                if w.isTabVisible(i) and w.tabText(i):
                    yield Shown(w, plain(w.tabText(i)), "tab")
        elif isinstance(w, QAbstractItemView) and not isinstance(w, QHeaderView) and w.model():
            yield from _item_view_texts(w)


def _item_view_texts(view: QAbstractItemView) -> Iterator[Shown]:
    model = view.model()
    header = getattr(view, "horizontalHeader", lambda: None)()
    try:
        columns = range(model.columnCount(QModelIndex()))
    except TypeError:  # list models keep columnCount private: one column
        columns = range(1)
    if header is not None and header.isVisible():
        for c in columns:
            text = model.headerData(c, Qt.Orientation.Horizontal)
            if text and not header.isSectionHidden(c):
                yield Shown(view, plain(str(text)), f"header:{c}")
    for r in range(min(model.rowCount(QModelIndex()), 20)):
        for c in columns:
            text = model.data(model.index(r, c))
            if isinstance(text, str) and text:
                yield Shown(view, text, "cell")


def clipped(shown: list[Shown]) -> list[str]:
    """Labels and buttons whose text is wider than the room they have.

    The check the issue names: ``fontMetrics().horizontalAdvance(text) <=
    contentsRect().width()``, line by line; word-wrapped labels and elided texts are
    laid out by Qt, so only their longest word must fit."""
    out = []
    for s in shown:
        if s.where.startswith("header:"):
            header = s.widget.horizontalHeader()  # type: ignore[attr-defined]
            column = int(s.where.split(":")[1])
            if header.sectionResizeMode(column) == QHeaderView.ResizeMode.Stretch:
                continue  # takes the room the pane has, in any language
            need = header.fontMetrics().horizontalAdvance(s.text)
            if need > header.sectionSize(column):
                out.append(f"{s} needs {need}px, column has {header.sectionSize(column)}px")
            continue
        if s.where not in ("label", "button"):
            continue
        w = s.widget
        room = w.contentsRect().width()
        fm = w.fontMetrics()
        wraps = isinstance(w, QLabel) and w.wordWrap()
        for line in s.text.splitlines():
            pieces = line.split() if wraps else [line]
            widest = max((fm.horizontalAdvance(p) for p in pieces), default=0)
            if widest > room:
                out.append(f"{s} needs {widest}px, has {room}px")
    return out


def _mnemonic(text: str) -> str | None:
    """The letter after a single ``&`` (Qt's Alt+letter accelerator), lower-cased."""
    i = text.replace("&&", "\0\0").find("&")
    return text[i + 1].lower() if 0 <= i < len(text) - 1 else None


def clashing_accelerators() -> list[str]:
    """Visible buttons of one window that share an Alt+letter accelerator."""
    seen: dict[tuple[int, str], list[str]] = {}
    for w in QApplication.allWidgets():
        if isinstance(w, QAbstractButton) and _on_screen(w) and w.isEnabled():
            letter = _mnemonic(w.text())
            if letter:
                seen.setdefault((id(w.window()), letter), []).append(w.text())
    return [f"Alt+{k[1]}: {v}" for k, v in seen.items() if len(v) > 1]
