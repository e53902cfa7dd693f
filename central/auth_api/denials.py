"""Audit events for refused requests (outcome ``denied``), with a flood guard.

Every 401 (a bad, expired or revoked token, no token), 403 and 429 the API answers is
audited, by the code that refuses when it knows more (sign-in, password change) and
otherwise by the app's error handler.  Unauthenticated clients can cause such events at
will, so each worker process writes at most ``denied_audit_per_minute`` of them per
(reason, source address, actor) key and minute; the next event written for that key
carries ``suppressed``: how many were left out meanwhile.  The database and the audit
chain stay bounded under a flood while every kind of refusal still shows up.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Hashable
from typing import Any

from klinika_auth import audit
from klinika_auth.services import db, services

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60.0
MAX_KEYS = 10_000


class FloodGuard:
    """Thread-safe per-key budget of events per window; counts what it suppresses."""

    def __init__(self, per_window: int, window: float = WINDOW_SECONDS) -> None:
        self.per_window = per_window
        self.window = window
        self._lock = threading.Lock()
        self._buckets: dict[Hashable, list[float]] = {}  # key -> [window start, used, dropped]

    def admit(self, key: Hashable, now: float | None = None) -> tuple[bool, int]:
        """(write it?, events suppressed for this key since the last one written)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None or now - bucket[0] >= self.window:
                if len(self._buckets) >= MAX_KEYS:
                    self._forget(now)
                dropped = int(bucket[2]) if bucket else 0
                self._buckets[key] = [now, 1, 0]
                return True, dropped
            if bucket[1] < self.per_window:
                bucket[1] += 1
                dropped, bucket[2] = int(bucket[2]), 0
                return True, dropped
            bucket[2] += 1
            return False, 0

    def _forget(self, now: float) -> None:
        stale = [k for k, b in self._buckets.items() if now - b[0] >= self.window and not b[2]]
        for key in stale:
            del self._buckets[key]
        if len(self._buckets) >= MAX_KEYS:  # a flood of distinct keys: start afresh
            self._buckets.clear()


_guards: dict[int, FloodGuard] = {}
_guards_lock = threading.Lock()


def _guard() -> FloodGuard:
    per_minute = services().settings.denied_audit_per_minute
    with _guards_lock:
        guard = _guards.get(per_minute)
        if guard is None:
            guard = _guards[per_minute] = FloodGuard(per_minute)
        return guard


def record(
    action: str,
    *,
    actor: str | None,
    ip: str | None,
    details: dict[str, Any],
    limit_key: Hashable,
) -> bool:
    """Write one ``denied`` event unless the flood guard holds it back; True if written.

    Uses the request's database session after rolling back whatever it had not committed
    (the refused action must leave nothing behind).  A failure to write is logged, never
    raised: it must not turn the refusal into a 500."""
    admitted, suppressed = _guard().admit((action, limit_key, ip, actor))
    if not admitted:
        return False
    session = db()
    try:
        session.rollback()
        if suppressed:
            details = {**details, "suppressed": suppressed}
        audit.append(
            session, action=action, outcome="denied", actor=actor, source_ip=ip, details=details
        )
        session.commit()
    except Exception:
        session.rollback()
        logger.exception("could not audit a refused request (%s)", action)
        return False
    return True
