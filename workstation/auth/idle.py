"""Idle lock rule: after the site's idle minutes without input, the screen locks.

Pure logic with an injectable clock; the GUI calls :meth:`IdleLock.touch` on user input
and :meth:`IdleLock.due` from a timer, then locks the session through the authenticator.
"""

from __future__ import annotations

from workstation.auth.clock import Clock, SystemClock


class IdleLock:
    def __init__(self, idle_minutes: float, clock: Clock | None = None) -> None:
        self.clock = clock or SystemClock()
        #: 0 or less disables the lock.
        self.idle_seconds = max(0.0, float(idle_minutes) * 60.0)
        self._last_input = self.clock.monotonic()

    @property
    def enabled(self) -> bool:
        return self.idle_seconds > 0

    def touch(self) -> None:
        """The user did something: restart the idle period."""
        self._last_input = self.clock.monotonic()

    def idle_for(self) -> float:
        return max(0.0, self.clock.monotonic() - self._last_input)

    def remaining(self) -> float:
        return max(0.0, self.idle_seconds - self.idle_for()) if self.enabled else float("inf")

    def due(self) -> bool:
        """True when the idle period has run out (and locking is enabled)."""
        return self.enabled and self.idle_for() >= self.idle_seconds
