"""The command line's central login, kept in the OS keyring and nowhere else.

``workstation login`` stores the token pair under one keyring entry per central auth API
(``cli-session:<hash of the URL>``: user name, access and refresh token, expiry); the
network verbs read it through :class:`KeyringTokenProvider`, which refreshes an access
token about to expire (or one the server refused) and writes the new pair back.
``workstation logout`` ends the session at the central and deletes the entry.  Without a
usable keyring nothing is stored: use ``--token-stdin`` per command instead.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workstation.auth.errors import AuthError
from workstation.auth.keyring_store import SecretStore, account_key
from workstation.auth.session import TokenSet
from workstation.i18n import _

if TYPE_CHECKING:
    from workstation.auth.central_client import CentralAuthClient
    from workstation.config import Settings

logger = logging.getLogger(__name__)

#: An access token this close to expiry is refreshed before it is handed out.
EARLY_REFRESH_SECONDS = 30.0


@dataclass
class CliLogin:
    username: str
    access_token: str
    refresh_token: str
    expires_at: float

    def to_json(self) -> str:
        return json.dumps(self.__dict__)

    @classmethod
    def from_json(cls, text: str | None) -> CliLogin | None:
        if not text:
            return None
        try:
            data = json.loads(text)
            return cls(
                str(data["username"]), str(data["access_token"]), str(data["refresh_token"]),
                float(data["expires_at"]),
            )  # fmt: skip
        except (ValueError, KeyError, TypeError):
            return None

    def token_set(self) -> TokenSet:
        return TokenSet(self.access_token, self.refresh_token, self.expires_at)


def entry_key(auth_url: str) -> str:
    return account_key("cli-session", auth_url.rstrip("/"))


def load(store: SecretStore, auth_url: str) -> CliLogin | None:
    return CliLogin.from_json(store.get(entry_key(auth_url)))


def save(store: SecretStore, auth_url: str, username: str, tokens: TokenSet) -> bool:
    login = CliLogin(username, tokens.access_token, tokens.refresh_token, tokens.expires_at)
    return store.set(entry_key(auth_url), login.to_json())


def forget(store: SecretStore, auth_url: str) -> None:
    store.delete(entry_key(auth_url))


class KeyringTokenProvider:
    """``TokenProvider`` over the keyring entry ``workstation login`` wrote."""

    def __init__(self, store: SecretStore, client: CentralAuthClient) -> None:
        self.store = store
        self.client = client
        self.auth_url = client.base_url
        self._lock = threading.Lock()
        self._problem = ""

    def renewal_problem(self) -> str:
        """Why the token cannot be renewed now ("" when it can)."""
        return self._problem

    def access_token(self) -> str | None:
        with self._lock:
            login = load(self.store, self.auth_url)
            if login is None:
                return None
            if login.expires_at - time.time() < EARLY_REFRESH_SECONDS:
                login = self._refresh(login)
            return login.access_token if login else None

    __call__ = access_token

    def token_rejected(self, token: str) -> None:
        with self._lock:
            login = load(self.store, self.auth_url)
            if login is not None and login.access_token == token:
                self._refresh(login)

    def _refresh(self, login: CliLogin) -> CliLogin | None:
        from workstation.auth.errors import CentralUnavailable

        try:
            tokens = self.client.refresh(login.refresh_token)
        except AuthError as exc:
            logger.info("CLI token refresh failed: %s", type(exc).__name__)
            if isinstance(exc, CentralUnavailable):
                self._problem = _(
                    "The central server at {url} cannot be reached; you stay logged in, and "
                    "the login is renewed when it answers again."
                ).format(url=exc.url)
            else:
                forget(self.store, self.auth_url)  # the central ended it: log in again
            return None
        self._problem = ""
        save(self.store, self.auth_url, login.username, tokens)
        return load(self.store, self.auth_url)


def keyring_provider(settings: Settings, store: SecretStore | None = None) -> Any:
    """The provider for ``central.auth_url``'s CLI login, or None (no central, no keyring,
    not logged in)."""
    if not settings.central.auth_url:
        return None
    store = store or SecretStore()
    if not store.available or load(store, settings.central.auth_url) is None:
        return None
    from workstation.auth.central_client import CentralAuthClient

    return KeyringTokenProvider(store, CentralAuthClient.from_settings(settings))
