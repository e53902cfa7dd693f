"""Who is logged in, in what mode, and with which tokens (in memory only)."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from workstation.auth.permissions import Permission, Role, permissions_for
from workstation.i18n.labelled_enum import N_, LabelledStrEnum


class SessionMode(LabelledStrEnum):
    #: Logged in against the central auth API; tokens available.
    CENTRAL = "central", N_("Central")
    #: The central could not be reached; logged in with the cached verifier.
    OFFLINE = "offline", N_("Offline")
    #: No central configured: local accounts in the archive database.
    STANDALONE = "standalone", N_("Standalone")


@dataclass(frozen=True)
class TokenSet:
    """The central's answer to a login or refresh.  Never logged, never written to disk
    except through the keyring."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    #: Epoch seconds when the access token expires (from its verified ``exp``).
    expires_at: float
    claims: dict[str, Any] = field(default_factory=dict, repr=False)


class Session:
    """One login: user, role, permissions, mode and (central mode) the tokens.

    ``active`` turns false at logout; ``locked`` is true while the lock screen shows.
    Both are checked by :func:`workstation.auth.permissions.require`.
    """

    def __init__(
        self,
        *,
        username: str,
        user_id: str,
        role: Role,
        mode: SessionMode,
        keyring_available: bool,
        started_at: float,
        tokens: TokenSet | None = None,
        unlock_verifier: str = "",
    ) -> None:
        self.session_id = str(uuid.uuid4())
        self.username = username
        self.user_id = user_id
        self.role = role
        self.permissions: frozenset[Permission] = permissions_for(role)
        self.mode = mode
        self.keyring_available = keyring_available
        self.started_at = started_at
        self._tokens = tokens
        self._unlock_verifier = unlock_verifier
        self._lock = threading.Lock()
        self.active = True
        self.locked = False
        #: Why the central cannot renew this login right now ("" when it can).  The
        #: session stays open meanwhile (local work goes on); the next successful
        #: refresh clears it.  For the status bar.
        self.central_problem = ""

    def __repr__(self) -> str:
        return (
            f"Session(user={self.username!r}, role={self.role.value}, mode={self.mode.value}, "
            f"active={self.active}, locked={self.locked})"
        )

    # -- state -------------------------------------------------------------------------
    @property
    def online_only(self) -> bool:
        """Central login without a keyring: nothing survives the session, no offline login."""
        return self.mode is SessionMode.CENTRAL and not self.keyring_available

    def can(self, permission: Permission) -> bool:
        """For the UI: may this session do ``permission`` right now?"""
        return self.active and not self.locked and permission in self.permissions

    # -- tokens ------------------------------------------------------------------------
    @property
    def tokens(self) -> TokenSet | None:
        with self._lock:
            return self._tokens

    def replace_tokens(self, tokens: TokenSet | None) -> None:
        with self._lock:
            self._tokens = tokens

    @property
    def access_token(self) -> str | None:
        t = self.tokens
        return t.access_token if t else None

    @property
    def unlock_verifier(self) -> str:
        return self._unlock_verifier

    def end(self) -> None:
        """Forget the tokens and mark the session logged out."""
        with self._lock:
            self._tokens = None
            self._unlock_verifier = ""
            self.active = False
