"""Logging in and out: central, offline and standalone, plus lock/unlock and token refresh.

::

    auth = Authenticator.from_settings(settings, db, audit)
    session = auth.login("alice", "s3cret", totp=None)   # raises MfaRequired -> ask, retry
    auth.lock(session); auth.unlock(session, "s3cret")
    auth.logout(session)

Central mode when ``central.auth_url`` is set; when the central cannot be reached the same
call falls back to the offline verifier (see :mod:`workstation.auth.offline`).  Standalone
mode (no central) uses :class:`~workstation.auth.local_accounts.LocalAccounts`.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from workstation.auth.audit import AuditAction, AuditLog, Outcome
from workstation.auth.central_client import CentralAuthClient
from workstation.auth.clock import Clock, SystemClock
from workstation.auth.errors import (
    AuthError,
    CentralStorageFull,
    CentralUnavailable,
    InvalidCredentials,
    MfaRequired,
    NotLoggedIn,
    SessionExpired,
    TokenInvalid,
)
from workstation.auth.keyring_store import SecretStore, account_key
from workstation.auth.local_accounts import LocalAccounts
from workstation.auth.offline import OfflineCache
from workstation.auth.passwords import verify_password
from workstation.auth.permissions import Role
from workstation.auth.session import Session, SessionMode, TokenSet
from workstation.auth.token_refresher import TokenRefresher
from workstation.events import Event
from workstation.i18n import _

logger = logging.getLogger(__name__)


class Authenticator:
    def __init__(
        self,
        *,
        audit: AuditLog,
        store: SecretStore,
        central: CentralAuthClient | None = None,
        local: LocalAccounts | None = None,
        clock: Clock | None = None,
        offline_login_days: int = 7,
    ) -> None:
        if central is None and local is None:
            raise ValueError("need a central client or local accounts")
        self.audit = audit
        self.store = store
        self.central = central
        self.local = local
        self.clock = clock or SystemClock()
        self.offline = (
            OfflineCache(store, central.base_url, self.clock, offline_login_days)
            if central
            else None
        )
        self._refreshers: dict[str, TokenRefresher] = {}
        self._refresh_lock = threading.Lock()
        self.session_expired = Event("session expiry")

    @classmethod
    def from_settings(
        cls,
        settings: Any,
        audit: AuditLog,
        *,
        store: SecretStore | None = None,
        clock: Clock | None = None,
    ) -> Authenticator:
        store = store or SecretStore()
        if settings.central.auth_url:
            return cls(
                audit=audit,
                store=store,
                central=CentralAuthClient.from_settings(settings),
                clock=clock,
                offline_login_days=settings.security.offline_login_days,
            )
        return cls(audit=audit, store=store, local=LocalAccounts(audit.db, clock), clock=clock)

    # -- facts for the login dialog ----------------------------------------------------
    @property
    def standalone(self) -> bool:
        return self.central is None

    @property
    def keyring_available(self) -> bool:
        return self.store.available

    @property
    def online_only(self) -> bool:
        """Central mode without a keyring: no offline login, nothing remembered."""
        return not self.standalone and not self.store.available

    def needs_first_admin(self) -> bool:
        return self.local is not None and self.local.needs_first_admin()

    def on_session_expired(self, listener: Callable[[Session], None]) -> None:
        self.session_expired.connect(listener)

    # -- login -------------------------------------------------------------------------
    def login(
        self,
        username: str,
        password: str,
        totp: str | None = None,
        *,
        allow_offline: bool = True,
    ) -> Session:
        """Log in; the session, or an :class:`AuthError` with a message for the user."""
        username = username.strip()
        try:
            if self.central is None:
                session = self._login_standalone(username, password)
            else:
                session = self._login_central(username, password, totp, allow_offline)
        except MfaRequired:
            raise
        except AuthError as exc:
            self.audit.record(
                AuditAction.LOGIN_FAILED,
                actor=username or "-",
                role="-",
                outcome=Outcome.FAILURE,
                reason=type(exc).__name__,
            )
            raise
        self.audit.record(AuditAction.LOGIN, session=session, mode=session.mode.value)
        return session

    def create_first_admin(self, username: str, password: str) -> Session:
        """Standalone first start: make the administrator and log them in."""
        if self.local is None:
            raise AuthError("local accounts exist only in standalone mode")
        user = self.local.create_first_admin(username, password)
        self.audit.record(
            AuditAction.USER_CREATE, actor=user.username, role=user.role.value, target=user.username
        )
        return self.login(username, password)

    def _login_standalone(self, username: str, password: str) -> Session:
        assert self.local is not None
        user = self.local.authenticate(username, password)
        return self._new_session(
            user.username, user.user_id, user.role, SessionMode.STANDALONE, user.password_hash
        )

    def _login_central(
        self, username: str, password: str, totp: str | None, allow_offline: bool
    ) -> Session:
        assert self.central is not None and self.offline is not None
        try:
            tokens = self.central.login(username, password, totp)
        except CentralUnavailable as exc:
            if not allow_offline:
                raise
            logger.warning("central unreachable: trying offline login")
            entry = self.offline.check(username, password)
            session = self._new_session(
                entry.username, entry.user_id, entry.role, SessionMode.OFFLINE, entry.verifier
            )
            if isinstance(exc, CentralStorageFull):  # reachable, but it keeps nothing now
                session.central_problem = str(exc)
            return session
        claims = tokens.claims
        role = _role_from_claims(claims)
        name = str(claims.get("sub") or username)
        user_id = str(claims.get("uid") or name)
        verifier = self.offline.remember(name, user_id, role, password)
        session = self._new_session(
            name, user_id, role, SessionMode.CENTRAL, verifier, tokens=tokens
        )
        self._save_tokens(session)
        self._start_refresher(session)
        return session

    def _new_session(
        self,
        username: str,
        user_id: str,
        role: Role,
        mode: SessionMode,
        unlock_verifier: str,
        *,
        tokens: TokenSet | None = None,
    ) -> Session:
        """A session starting now, on this machine's keyring."""
        return Session(
            username=username,
            user_id=user_id,
            role=role,
            mode=mode,
            keyring_available=self.store.available,
            started_at=self.clock.now(),
            tokens=tokens,
            unlock_verifier=unlock_verifier,
        )

    # -- tokens ------------------------------------------------------------------------
    def _token_key(self, session: Session) -> str:
        assert self.central is not None
        return account_key("tokens", self.central.base_url, session.username.casefold())

    def _save_tokens(self, session: Session) -> None:
        tokens = session.tokens
        if tokens is None:
            return
        self.store.set(
            self._token_key(session),
            json.dumps(
                {"refresh_token": tokens.refresh_token, "access_token": tokens.access_token}
            ),
        )

    def _start_refresher(self, session: Session) -> None:
        refresher = TokenRefresher(session, self.refresh_now, self._expired)
        self._refreshers[session.session_id] = refresher
        refresher.start()

    def refresh_now(self, session: Session) -> TokenSet:
        """Exchange the refresh token now; keeps the keyring copy current.

        One exchange at a time: the background refresher and a request's token provider
        may both want one, and a refresh token can be exchanged only once.
        """
        with self._refresh_lock:
            return self._refresh_locked(session)

    def _refresh_locked(self, session: Session) -> TokenSet:
        if self.central is None or session.tokens is None or not session.active:
            raise NotLoggedIn()
        try:
            tokens = self.central.refresh(session.tokens.refresh_token)
        except (InvalidCredentials, TokenInvalid) as exc:
            raise SessionExpired() from exc
        except CentralUnavailable as exc:
            session.central_problem = _renewal_problem(exc)
            raise
        session.central_problem = ""
        session.replace_tokens(tokens)
        self._save_tokens(session)
        return tokens

    def _expired(self, session: Session) -> None:
        if not session.active:
            return
        self.audit.record(AuditAction.SESSION_EXPIRED, session=session, outcome=Outcome.FAILURE)
        self._forget_tokens(session)
        session.replace_tokens(None)
        self.session_expired.emit(session)

    def _forget_tokens(self, session: Session) -> None:
        refresher = self._refreshers.pop(session.session_id, None)
        if refresher is not None:
            refresher.stop()
        if self.central is not None:
            self.store.delete(self._token_key(session))

    # -- logout, lock ------------------------------------------------------------------
    def logout(self, session: Session) -> None:
        if not session.active:
            return
        tokens = session.tokens
        self._forget_tokens(session)
        self.audit.record(AuditAction.LOGOUT, session=session)
        session.end()
        if self.central is not None and tokens is not None:
            try:
                self.central.logout(tokens)
            except AuthError as exc:
                logger.info("central logout not confirmed: %s", type(exc).__name__)

    def lock(self, session: Session, reason: str = "idle") -> None:
        if not session.active or session.locked:
            return
        session.locked = True
        self.audit.record(AuditAction.LOCK, session=session, reason=reason)

    def unlock(self, session: Session, password: str) -> None:
        """Unlock with the same user's password (checked locally, works offline)."""
        if not session.active:
            raise NotLoggedIn()
        if not verify_password(session.unlock_verifier, password):
            self.audit.record(AuditAction.UNLOCK_FAILED, session=session, outcome=Outcome.FAILURE)
            raise InvalidCredentials(_wrong_unlock_message())
        session.locked = False
        self.audit.record(AuditAction.UNLOCK, session=session)

    def close(self) -> None:
        for refresher in list(self._refreshers.values()):
            refresher.stop()
        self._refreshers.clear()
        if self.central is not None:
            self.central.close()


def _role_from_claims(claims: dict[str, Any]) -> Role:
    try:
        return Role(str(claims.get("role", "")))
    except ValueError as exc:
        raise TokenInvalid(f"unknown role {claims.get('role')!r}") from exc


def _wrong_unlock_message() -> str:
    from workstation.i18n import _

    return _("Wrong password. Only the user who locked the screen can unlock it.")


def _renewal_problem(exc: CentralUnavailable) -> str:
    """What the session shows while the central cannot renew its login."""
    if isinstance(exc, CentralStorageFull):
        return _(
            "The central server at {url} cannot store anything at the moment (its disk "
            "is full); you stay logged in, and the login is renewed when it can again."
        ).format(url=exc.url)
    return _(
        "The central server at {url} cannot be reached; you stay logged in, and "
        "the login is renewed when it answers again."
    ).format(url=exc.url)
