"""The lock screen (hides every patient detail) and the idle watcher that brings it up.

While locked the DICOM node keeps receiving and jobs keep running; only the screen and
the session's engine calls are locked."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from workstation.app.naming import named
from workstation.auth.idle import IdleLock
from workstation.i18n import _

_INPUT_EVENTS = {
    QEvent.Type.KeyPress,
    QEvent.Type.MouseButtonPress,
    QEvent.Type.MouseMove,
    QEvent.Type.Wheel,
    QEvent.Type.TouchBegin,
}


class LockPage(QWidget):
    sig_unlock_requested = Signal(str)
    sig_logout_requested = Signal()

    def __init__(self, username: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lockPage")
        title = QLabel(_("Screen locked"))
        title.setStyleSheet("font-size:20px; font-weight:600;")
        who = QLabel(_("Locked by {user}. Enter the password to continue.").format(user=username))
        self.password = named(QLineEdit(), "unlockPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setMaximumWidth(320)
        self.unlock_button = named(QPushButton(_("Unlock")), "unlockButton")
        self.logout_button = named(QPushButton(_("Log out")), "lockLogoutButton")
        self.message = named(QLabel(), "unlockMessage")
        self.message.setStyleSheet("color:#a4262c;")
        note = QLabel(_("Receiving from other nodes and background jobs continue."))
        note.setStyleSheet("color:#666;")
        row = QHBoxLayout()
        row.addWidget(self.password)
        row.addWidget(self.unlock_button)
        box = QVBoxLayout()
        box.addWidget(title)
        box.addWidget(who)
        box.addLayout(row)
        box.addWidget(self.message)
        box.addWidget(self.logout_button, 0, Qt.AlignmentFlag.AlignLeft)
        box.addWidget(note)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        centre = QHBoxLayout()
        centre.addStretch(1)
        centre.addLayout(box)
        centre.addStretch(1)
        outer.addLayout(centre)
        outer.addStretch(2)
        self.unlock_button.clicked.connect(self._on_unlock)
        self.password.returnPressed.connect(self._on_unlock)
        self.logout_button.clicked.connect(self.sig_logout_requested)

    def _on_unlock(self) -> None:
        text = self.password.text()
        self.password.clear()
        if text:
            self.sig_unlock_requested.emit(text)

    def reset(self) -> None:
        self.password.clear()
        self.message.clear()
        self.password.setFocus()


class IdleWatcher(QObject):
    """Restarts the idle period on any input; asks for a lock once it runs out."""

    sig_idle = Signal()

    def __init__(self, idle: IdleLock, interval_ms: int = 5000, parent: QObject | None = None):
        super().__init__(parent)
        self.idle = idle
        self.paused = False
        self._timer = QTimer(self, interval=interval_ms)
        self._timer.timeout.connect(self.check)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        if idle.enabled:
            self._timer.start()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() in _INPUT_EVENTS and not self.paused:
            self.idle.touch()
        return False

    def check(self) -> bool:
        """Lock now if the idle period is over (the timer calls this; so can tests)."""
        if not self.paused and self.idle.due():
            self.sig_idle.emit()
            return True
        return False

    def stop(self) -> None:
        self._timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
