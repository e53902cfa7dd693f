"""Open a series in the MPR / 3-D window: decode and build the volume off the GUI
thread with a progress dialog, then show :class:`QtMprView` (or say why not)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from workstation.i18n import _
from workstation.imaging.errors import CannotDisplay
from workstation.mpr.series_input import read_series
from workstation.mpr.volume import build_mpr_volume

if TYPE_CHECKING:
    from workstation.mpr.snapshot_store import SnapshotStore
    from workstation.viewer.crosshair_link import CrosshairLink

logger = logging.getLogger(__name__)


class _Relay(QObject):
    sig_progress = Signal(int, int)
    sig_done = Signal(object)


class MprLauncher(QObject):
    """Builds the volume of `paths` in a thread; shows the window when it is ready."""

    sig_opened = Signal(object)  # the QtMprView
    sig_failed = Signal(str)

    def __init__(
        self,
        paths: Sequence[Path],
        parent: QWidget | None = None,
        *,
        link: CrosshairLink | None = None,
        context: SnapshotStore | None = None,
    ) -> None:
        super().__init__(parent)
        self.paths = list(paths)
        self.link = link
        self.context = context
        self.window: QWidget | None = None
        self._cancel = threading.Event()
        self._relay = _Relay()
        self._relay.sig_progress.connect(self._on_progress, Qt.ConnectionType.QueuedConnection)
        self._relay.sig_done.connect(self._on_done, Qt.ConnectionType.QueuedConnection)
        self.dialog = QProgressDialog(_("Preparing the volume…"), _("Cancel"), 0, 0, parent)
        self.dialog.setWindowTitle(_("MPR / 3-D"))
        self.dialog.setMinimumDuration(300)
        self.dialog.canceled.connect(self._cancel.set)

    def start(self) -> MprLauncher:
        threading.Thread(target=self._work, name="mpr-volume", daemon=True).start()
        return self

    def _work(self) -> None:
        try:
            loaded = read_series(self.paths, lambda d, n: self._relay.sig_progress.emit(d, n))
            if isinstance(loaded, CannotDisplay) or self._cancel.is_set():
                self._relay.sig_done.emit(loaded)
                return
            self._relay.sig_done.emit(build_mpr_volume(loaded.frames))
        except Exception as exc:  # reported to the user, never lost in a thread
            logger.exception("building the MPR volume failed")
            self._relay.sig_done.emit(CannotDisplay(_("The volume could not be built."), str(exc)))

    def _on_progress(self, done: int, total: int) -> None:
        self.dialog.setMaximum(total)
        self.dialog.setValue(done)

    def _on_done(self, result: object) -> None:
        self.dialog.reset()
        if self._cancel.is_set():
            return
        if isinstance(result, CannotDisplay):
            self.sig_failed.emit(result.reason)
            return
        from workstation.mpr._qt.qt_mpr_view import QtMprView

        window = QtMprView(
            result,  # type: ignore[arg-type]
            link=self.link,
            snapshot_target=self.context,
            source_path=self.paths[0] if self.paths else None,
        )
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        window.resize(1200, 900)
        window.show()
        self.window = window
        self.sig_opened.emit(window)


def open_mpr_window(
    paths: Sequence[Path],
    parent: QWidget | None,
    on_error: Callable[[str], None],
    *,
    link: CrosshairLink | None = None,
    context: SnapshotStore | None = None,
) -> MprLauncher:
    """Start building; `on_error` gets a readable reason if MPR cannot be offered. The
    window shares its crosshair through `link` and stores snapshots to `context`."""
    launcher = MprLauncher(paths, parent, link=link, context=context)
    launcher.sig_failed.connect(on_error)
    return launcher.start()
