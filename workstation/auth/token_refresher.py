"""Background refresh of a session's access token before it expires."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from workstation.auth.errors import AuthError, CentralUnavailable, SessionExpired
from workstation.auth.session import Session, TokenSet

logger = logging.getLogger(__name__)

#: Refresh when this share of the token's remaining lifetime is left...
REFRESH_AT_FRACTION = 0.2
#: ...but at least this many seconds before expiry.
MIN_MARGIN_SECONDS = 10.0
RETRY_SECONDS = (5.0, 15.0, 30.0, 60.0)


class TokenRefresher:
    """A daemon thread: sleeps until the access token is near expiry, refreshes it,
    retries with back-off while the central is unreachable, and reports an expired
    session (refresh refused) through ``on_expired``."""

    def __init__(
        self,
        session: Session,
        refresh: Callable[[Session], TokenSet],
        on_expired: Callable[[Session], None],
    ) -> None:
        self.session = session
        self._refresh = refresh
        self._on_expired = on_expired
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="token-refresh", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)

    def _delay(self) -> float:
        tokens = self.session.tokens
        if tokens is None:
            return -1
        left = tokens.expires_at - time.time()
        margin = max(MIN_MARGIN_SECONDS, left * REFRESH_AT_FRACTION)
        return max(0.0, left - margin)

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set() and self.session.active:
            delay = self._delay()
            if delay < 0:
                return
            if failures:
                delay = RETRY_SECONDS[min(failures, len(RETRY_SECONDS)) - 1]
            if self._stop.wait(delay):
                return
            try:
                self._refresh(self.session)
                failures = 0
            except CentralUnavailable:
                failures += 1
                logger.info("token refresh deferred: central unreachable (try %d)", failures)
            except SessionExpired:
                self._on_expired(self.session)
                return
            except AuthError:
                logger.exception("token refresh failed")
                failures += 1
