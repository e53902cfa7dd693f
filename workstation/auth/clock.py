"""Time sources: the real clock, and a clock tests and benchmarks move by hand.

Idle lock and offline-login expiry ask a :class:`Clock` for the time instead of calling
``time`` directly, so the rules can be checked without waiting.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch (wall time: used for expiry dates)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (used for idle time)."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


class ManualClock:
    """A clock that only moves when told to (``advance``); thread-safe."""

    def __init__(self, start: float | None = None) -> None:
        self._lock = threading.Lock()
        self._wall = time.time() if start is None else start
        self._mono = 1000.0

    def now(self) -> float:
        with self._lock:
            return self._wall

    def monotonic(self) -> float:
        with self._lock:
            return self._mono

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._wall += seconds
            self._mono += seconds
