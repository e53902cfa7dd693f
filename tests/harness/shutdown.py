"""Leave nothing running for the interpreter's shutdown (the suite's end).

A full run once printed ``Segmentation fault`` after pytest's summary.  What can crash
there is what outlives the test session: a VTK render window finalizing after Qt has
destroyed its GL context and display connection, a Qt thread-pool task or a Python
thread calling into Qt (a thumbnail thread emitting a signal) while the application
object is being torn down, a non-daemon thread the interpreter must wait for.  At the
session's end, while the QApplication is still alive, :func:`settle` therefore

- stops the viewer's shared decode pool (its threads deliver frames to Qt widgets);
- releases every VTK render widget's GL context (``close_vtk``/``Finalize``) and closes
  and deletes every top-level widget, then runs the deferred deletions;
- waits for Qt's global thread pool;
- waits briefly for the project's own worker threads, then reports what still runs:
  a non-daemon thread fails the session (it would hang or crash the exit), a daemon
  thread that may call into Qt is named in the summary.

``scripts/test.sh`` runs pytest with ``-X faulthandler`` (the Python stack of a crash at
exit is printed) and fails with the signal's name if pytest dies by one.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field

#: Daemon threads of ours that call into Qt: alive at exit, they may touch a dead app.
QT_CALLING_THREADS = ("viewer-thumbnails",)
#: How long the project's threads get to finish on their own at the session's end.
GRACE_S = 10.0


@dataclass
class Leftovers:
    """What :func:`settle` found still running."""

    widgets_closed: int = 0
    render_windows_finalized: int = 0
    pool_idle: bool = True
    non_daemon: list[str] = field(default_factory=list)
    qt_daemon: list[str] = field(default_factory=list)
    #: Other daemon threads still alive (they stop with the interpreter; listed for a look).
    daemon: list[str] = field(default_factory=list)

    @property
    def fatal(self) -> bool:
        return bool(self.non_daemon or self.qt_daemon or not self.pool_idle)

    def lines(self) -> list[str]:
        out = []
        if self.non_daemon:
            out.append(f"non-daemon threads still running: {', '.join(self.non_daemon)}")
        if self.qt_daemon:
            out.append(f"threads that call Qt still running: {', '.join(self.qt_daemon)}")
        if not self.pool_idle:
            out.append("Qt's global thread pool did not finish its tasks")
        if self.daemon:
            out.append(f"daemon threads still running (not fatal): {', '.join(self.daemon)}")
        return out


def _settle_qt(found: Leftovers) -> None:
    if "PySide6" not in sys.modules:
        return
    from PySide6.QtCore import QCoreApplication, QEvent, QThreadPool
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        return
    decoding = sys.modules.get("workstation.viewer.imaging_source")
    if decoding is not None:  # its lanes hand frames to the viewers: stop them first
        decoding.shutdown()
    # (waitForDone also ends the pool's idle threads, which hold Python thread states.)
    found.pool_idle = QThreadPool.globalInstance().waitForDone(int(GRACE_S * 1000))
    if "vtkmodules.qt.QVTKRenderWindowInteractor" in sys.modules:
        from vtkmodules.qt.QVTKRenderWindowInteractor import QVTKRenderWindowInteractor

        for widget in QApplication.allWidgets():
            if isinstance(widget, QVTKRenderWindowInteractor):
                close = getattr(widget, "close_vtk", None)
                try:
                    close() if close is not None else widget.Finalize()
                except (AttributeError, RuntimeError):
                    continue
                found.render_windows_finalized += 1
    for widget in QApplication.topLevelWidgets():
        widget.close()
        widget.deleteLater()
        found.widgets_closed += 1
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QCoreApplication.processEvents()


def _pool_worker(thread: threading.Thread) -> bool:
    """A ``concurrent.futures`` worker: the interpreter stops and joins those at exit."""
    target = getattr(thread, "_target", None)
    return getattr(target, "__module__", "") == "concurrent.futures.thread"


def _ours(thread: threading.Thread) -> bool:
    """A thread worth waiting for: not the main thread, not an interpreter-managed pool
    worker, not a foreign thread (Qt's pool threads that ran Python show up as
    ``Dummy-N`` entries that never leave ``threading.enumerate``)."""
    return (
        thread is not threading.main_thread()
        and thread.is_alive()
        and not _pool_worker(thread)
        and not isinstance(thread, threading._DummyThread)  # type: ignore[attr-defined]
    )


def settle() -> Leftovers:
    """Close what Qt and VTK hold and wait for threads; what is left (see module doc)."""
    found = Leftovers()
    _settle_qt(found)
    deadline = time.monotonic() + GRACE_S
    for thread in threading.enumerate():
        if not _ours(thread):
            continue
        if not thread.daemon or thread.name.startswith(QT_CALLING_THREADS):
            thread.join(max(0.0, deadline - time.monotonic()))
    for thread in threading.enumerate():
        if not _ours(thread):
            continue
        if not thread.daemon:
            found.non_daemon.append(thread.name)
        elif thread.name.startswith(QT_CALLING_THREADS):
            found.qt_daemon.append(thread.name)
        else:
            found.daemon.append(thread.name)
    return found
