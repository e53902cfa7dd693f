"""Offline login: a slow-KDF verifier of the last good central login, in the keyring.

After each successful central login we keep, per user and per central, an argon2id hash
of the password with the user's role and the time of the login.  When the central cannot
be reached, the same password unlocks a session with that role for
``security.offline_login_days`` after that login; after that the user must log in
centrally once.  No keyring → no verifier, so no offline login (online-only mode).
TOTP cannot be checked offline; the verifier stands in for the full central login.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from workstation.auth.clock import Clock
from workstation.auth.errors import InvalidCredentials, OfflineLoginUnavailable
from workstation.auth.keyring_store import SecretStore, account_key
from workstation.auth.passwords import hash_password, verify_password
from workstation.auth.permissions import Role
from workstation.i18n import _

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1


@dataclass(frozen=True)
class OfflineVerifier:
    username: str
    user_id: str
    role: Role
    #: argon2id hash of the password.
    verifier: str
    #: Epoch seconds of the central login that produced it.
    verified_at: float

    def to_json(self) -> str:
        return json.dumps(
            {
                "v": FORMAT_VERSION,
                "username": self.username,
                "user_id": self.user_id,
                "role": self.role.value,
                "verifier": self.verifier,
                "verified_at": self.verified_at,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> OfflineVerifier | None:
        try:
            data = json.loads(text)
            if data.get("v") != FORMAT_VERSION:
                return None
            return cls(
                username=str(data["username"]),
                user_id=str(data["user_id"]),
                role=Role(data["role"]),
                verifier=str(data["verifier"]),
                verified_at=float(data["verified_at"]),
            )
        except (ValueError, KeyError, TypeError):
            return None


class OfflineCache:
    def __init__(self, store: SecretStore, central_url: str, clock: Clock, valid_days: int):
        self.store = store
        self.central_url = central_url
        self.clock = clock
        self.valid_days = valid_days

    def _key(self, username: str) -> str:
        return account_key("offline", self.central_url, username.strip().casefold())

    def remember(self, username: str, user_id: str, role: Role, password: str) -> str:
        """Keep a verifier of this good login (when the keyring allows); its hash."""
        verifier = hash_password(password)
        if self.store.available and self.valid_days > 0:
            entry = OfflineVerifier(username, user_id, role, verifier, self.clock.now())
            self.store.set(self._key(username), entry.to_json())
        return verifier

    def forget(self, username: str) -> None:
        self.store.delete(self._key(username))

    def lookup(self, username: str) -> OfflineVerifier | None:
        text = self.store.get(self._key(username))
        return OfflineVerifier.from_json(text) if text else None

    def check(self, username: str, password: str) -> OfflineVerifier:
        """The verifier when offline login is allowed for this password; raises otherwise."""
        if not self.store.available:
            raise OfflineLoginUnavailable(
                _(
                    "Offline login needs the system keyring, and none is available on this "
                    "computer. Log in when the central server can be reached."
                )
            )
        if self.valid_days <= 0:
            raise OfflineLoginUnavailable(_("This site does not allow offline login."))
        entry = self.lookup(username)
        if entry is None:
            raise OfflineLoginUnavailable(
                _(
                    "You have not logged in on this workstation while the central server was "
                    "reachable, so offline login is not possible yet."
                )
            )
        age_days = (self.clock.now() - entry.verified_at) / 86400.0
        if age_days > self.valid_days or age_days < -1:
            raise OfflineLoginUnavailable(
                _(
                    "Offline login has expired: your last central login was {days} days ago "
                    "and this site allows {limit}. Connect to the central server and log in."
                ).format(days=int(age_days), limit=self.valid_days)
            )
        if not verify_password(entry.verifier, password):
            raise InvalidCredentials()
        return entry
