"""Coloured one-line banners (online-only, offline, standalone first run)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

_STYLES = {
    "warning": "background:#fff3cd; color:#5c4400; border:1px solid #e0c36b;",
    "info": "background:#e3f0fb; color:#12385c; border:1px solid #9cc3e6;",
    "error": "background:#f8d7da; color:#6b1a21; border:1px solid #e3a1a8;",
}


class Banner(QLabel):
    def __init__(self, parent: QWidget | None = None, object_name: str = "banner") -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setWordWrap(True)
        self.setVisible(False)

    def show_message(self, text: str, kind: str = "warning") -> None:
        self.setText(text)
        self.setStyleSheet(f"QLabel {{ {_STYLES[kind]} padding:6px 8px; border-radius:3px; }}")
        self.setVisible(bool(text))

    @property
    def kind(self) -> str:
        for kind, style in _STYLES.items():
            if style in self.styleSheet():
                return kind
        return ""
