"""Errors a person can act on: one dialog for the GUI, everything logged.

``install_excepthook()`` routes uncaught exceptions (GUI thread) to the log and to
:func:`show_error`; other threads' uncaught exceptions go to the log.
"""

from __future__ import annotations

import logging
import sys
import threading
from types import TracebackType
from typing import Any

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from workstation.auth.errors import AuthError
from workstation.i18n import _

logger = logging.getLogger(__name__)

_log_path: str = ""
_open_boxes: list[QMessageBox] = []
MAX_OPEN_BOXES = 3
#: The last messages shown (newest last), for the log view and for tests.
history: list[str] = []


def user_message(exc: BaseException) -> str:
    """What to tell the user about ``exc``: our own errors carry a message already."""
    if isinstance(exc, AuthError):
        return str(exc)
    name = type(exc).__module__
    if name.startswith("workstation.") and str(exc):
        return str(exc)
    if isinstance(exc, PermissionError):
        return _(
            "The file or folder {path} cannot be accessed: permission denied. Choose another "
            "location or ask IT for access."
        ).format(path=exc.filename or "")
    if isinstance(exc, FileNotFoundError):
        return _("{path} does not exist (was the disc or stick removed?).").format(
            path=exc.filename or ""
        )
    if isinstance(exc, OSError):
        return _(
            "A disk or network operation failed: {error}. Check free space and the "
            "connection, then try again."
        ).format(error=exc.strerror or exc)
    if isinstance(exc, TimeoutError):
        return _("The operation took too long and was stopped. Check the network and retry.")
    where = f" ({_log_path})" if _log_path else ""
    return _(
        "Something unexpected went wrong ({kind}). Your data is safe; the details were "
        "written to the log{where}. Try again, and tell IT if it happens again."
    ).format(kind=type(exc).__name__, where=where)


def show_error(parent: QWidget | None, exc: BaseException, title: str = "") -> None:
    """Log ``exc`` and show it in a message box with what to do about it."""
    if isinstance(exc, AuthError) or type(exc).__module__.startswith("workstation."):
        # The text can carry DICOM values (names, IDs) taken from the data: only at DEBUG.
        logger.info("error shown to the user: %s", type(exc).__name__)
        logger.debug("error shown to the user: %s: %s", type(exc).__name__, exc)
    else:
        logger.error("error shown to the user", exc_info=(type(exc), exc, exc.__traceback__))
    history.append(f"{type(exc).__name__}: {user_message(exc)}")
    del history[:-50]
    _open_boxes[:] = [b for b in _open_boxes if shiboken6.isValid(b)]
    if QApplication.instance() is None or len(_open_boxes) >= MAX_OPEN_BOXES:
        return
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(title or _("Klinika Workstation"))
    box.setText(user_message(exc))
    box.setObjectName("errorDialog")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    _open_boxes.append(box)
    box.finished.connect(lambda _r, b=box: _open_boxes.remove(b) if b in _open_boxes else None)
    box.open()  # not exec(): the event loop (and the DICOM node's signals) keep running


def open_error_boxes() -> list[QMessageBox]:
    return [b for b in _open_boxes if shiboken6.isValid(b)]


def _hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, exc, tb)
        return
    logger.critical("uncaught exception", exc_info=(kind, exc, tb))
    show_error(None, exc)


def _thread_hook(args: Any) -> None:
    logger.error(
        "uncaught exception in thread %s",
        getattr(args.thread, "name", "?"),
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )


def install_excepthook(log_path: str = "") -> None:
    global _log_path
    _log_path = log_path
    sys.excepthook = _hook
    threading.excepthook = _thread_hook
