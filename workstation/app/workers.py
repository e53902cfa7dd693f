"""Run engine calls off the GUI thread; results come back as signals on the GUI thread.

::

    run_in_background(lambda: actions.search(q), on_success=self._show, on_failure=...)

Never touch a widget inside ``fn``.  Without ``on_failure`` the error dialog shows.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

logger = logging.getLogger(__name__)

K = TypeVar("K")

_alive: set[TaskSignals] = set()


class TaskSignals(QObject):
    """Lives on the GUI thread; the worker emits, the slots run on the GUI thread."""

    sig_succeeded = Signal(object)
    sig_failed = Signal(object)

    def __init__(
        self,
        on_success: Callable[[Any], None] | None,
        on_failure: Callable[[BaseException], None] | None,
        owner: QObject | None = None,
    ) -> None:
        # A child of ``owner``: when the owner is deleted, so is this relay, and Qt drops
        # the result instead of calling back into a deleted widget.
        super().__init__(owner)
        self._on_success = on_success
        self._on_failure = on_failure
        self.sig_succeeded.connect(self._succeeded)
        self.sig_failed.connect(self._failed)

    @Slot(object)
    def _succeeded(self, result: Any) -> None:
        _alive.discard(self)
        if self._on_success is not None:
            self._on_success(result)

    @Slot(object)
    def _failed(self, exc: BaseException) -> None:
        _alive.discard(self)
        if self._on_failure is not None:
            self._on_failure(exc)
        else:
            from workstation.app.errors import show_error

            show_error(None, exc)


class _Task(QRunnable):
    def __init__(self, fn: Callable[[], Any], signals: TaskSignals) -> None:
        super().__init__()
        self.fn = fn
        self.signals = signals

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:
            logger.debug("background task failed", exc_info=True)
            self._emit(self.signals.sig_failed, exc)
        else:
            self._emit(self.signals.sig_succeeded, result)

    def _emit(self, signal: Any, value: Any) -> None:
        try:
            signal.emit(value)
        except RuntimeError:  # the owner (and this relay) were deleted meanwhile
            _alive.discard(self.signals)


def pool() -> QThreadPool:
    return QThreadPool.globalInstance()


def run_in_background(
    fn: Callable[[], Any],
    on_success: Callable[[Any], None] | None = None,
    on_failure: Callable[[BaseException], None] | None = None,
    *,
    owner: QObject | None = None,
) -> TaskSignals:
    """Run ``fn()`` on the thread pool; call back on the GUI thread.

    Pass the widget or object the callbacks belong to as ``owner``: once it is deleted
    the callbacks are skipped."""
    signals = TaskSignals(on_success, on_failure, owner)
    _alive.add(signals)
    pool().start(_Task(fn, signals))
    return signals


def run_for_key(
    key: K,
    fn: Callable[[K], Any],
    on_success: Callable[[K, Any], None],
    on_failure: Callable[[K, BaseException], None],
    *,
    owner: QObject | None = None,
) -> TaskSignals:
    """:func:`run_in_background` of ``fn(key)``; each callback gets ``key`` first, so a
    result can be matched to what was asked for (a thumbnail, a study being opened)."""
    return run_in_background(
        lambda: fn(key),
        functools.partial(on_success, key),
        functools.partial(on_failure, key),
        owner=owner,
    )


def wait_for_background(timeout_ms: int = 30_000) -> bool:
    """Wait for every queued task (shutdown and tests)."""
    return pool().waitForDone(timeout_ms)
