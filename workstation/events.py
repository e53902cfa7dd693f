"""``Event``: the one observer mechanism of the engine (no Qt).

``event.connect(fn)`` adds a listener and returns a function that removes it;
``event.emit(*args)`` calls every listener, in the order they connected, on the emitting
thread.  The contract, the same for every emitter (the archive's writer thread, the
sync queue, the job pool, the audit log, the viewer and MPR models):

- connecting, disconnecting and emitting are safe from any thread; a listener added or
  removed during an emit takes effect from the next one;
- a listener that raises is logged and the others still run: a failing panel must not
  stop the archive's writer or a job's worker;
- listeners must return quickly; GUI code hands over to its own thread (a queued Qt
  signal) before touching a widget.

Why not psygnal (napari's signals, on PyPI): its ``emit`` re-raises a failing
listener's error (``EmitLoopError``) into the emitter and stops the loop, which is the
one thing our writer threads must not see, so every emitter would still need a wrapper;
what is left is the thirty lines below.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

Listener = Callable[..., Any]


class Event:
    """A synchronous, thread-safe signal; ``name`` says whose it is in the log."""

    def __init__(self, name: str = "event") -> None:
        self.name = name
        self._listeners: tuple[Listener, ...] = ()
        self._lock = threading.Lock()

    def connect(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(*args)`` on every emit; returns a function that disconnects it."""
        with self._lock:
            self._listeners = (*self._listeners, listener)
        return lambda: self.disconnect(listener)

    def disconnect(self, listener: Listener) -> None:
        """Stop calling ``listener`` (its first connection; nothing if not connected)."""
        with self._lock:
            listeners = list(self._listeners)
            if listener in listeners:
                listeners.remove(listener)
            self._listeners = tuple(listeners)

    def clear(self) -> None:
        """Disconnect every listener (the emitter is closing)."""
        with self._lock:
            self._listeners = ()

    def emit(self, *args: Any) -> None:
        for listener in self._listeners:  # a snapshot: the tuple is replaced, never changed
            try:
                listener(*args)
            except Exception:
                logger.exception("listener of %s failed", self.name)

    def __len__(self) -> int:
        """How many listeners are connected."""
        return len(self._listeners)
