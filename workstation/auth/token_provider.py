"""Bearer tokens for the DICOMweb client (and any other central call) from the session."""

from __future__ import annotations

import logging
import threading
import time

from workstation.auth.authenticator import Authenticator
from workstation.auth.errors import AuthError
from workstation.auth.session import Session

logger = logging.getLogger(__name__)

#: A token this close to expiry is refreshed before it is handed out.
EARLY_REFRESH_SECONDS = 30.0


class SessionTokenProvider:
    """Implements ``workstation.pacs_node.dicomweb.tokens.TokenProvider``.

    ``access_token()`` gives the current access token (refreshing one about to expire),
    or None when the session has none (offline, standalone, logged out).  The node keeps
    working while the screen is locked, so a locked session still hands out its token.
    ``token_rejected(token)`` is for a 401: refresh once (unless already refreshed) so the
    caller's retry carries a new token."""

    def __init__(self, authenticator: Authenticator, session: Session) -> None:
        self.authenticator = authenticator
        self.session = session
        self._lock = threading.Lock()

    def access_token(self) -> str | None:
        s = self.session
        if not s.active:
            return None
        tokens = s.tokens
        if tokens is None:
            return None
        if tokens.expires_at - time.time() < EARLY_REFRESH_SECONDS:
            with self._lock:
                tokens = s.tokens
                if tokens is not None and tokens.expires_at - time.time() < EARLY_REFRESH_SECONDS:
                    self._refresh()
        return s.access_token

    __call__ = access_token

    def renewal_problem(self) -> str:
        """Why the token cannot be renewed now ("" when it can)."""
        return self.session.central_problem

    def token_rejected(self, token: str) -> None:
        with self._lock:
            if self.session.access_token == token:
                self._refresh()

    def _refresh(self) -> None:
        try:
            self.authenticator.refresh_now(self.session)
        except AuthError as exc:
            logger.info("token refresh for a request failed: %s", type(exc).__name__)
