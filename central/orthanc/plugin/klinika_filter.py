"""The token filter's decision for one HTTP request, without Orthanc.

``TokenFilter.check(method, uri, headers)`` reads the ``Authorization: Bearer`` token,
verifies it (klinika_jwt), takes the ``role`` claim and asks the rule table
(klinika_access). Any error denies. klinika_token_filter.py registers it with Orthanc;
the unit tests drive it directly.

RSA verification in pure Python costs about half a millisecond of GIL time, and a
workstation sends the same token with every request (hundreds for one study's
frames), so verified tokens are remembered (``VerifiedTokens``): by their exact text,
until the token expires or ``max_age_s`` passes, whichever comes first.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from klinika_access import ORTHANC_METHODS, RULES, Decision, Rule, decide
from klinika_jwt import Expectations, TokenError, verify_token
from klinika_keys import KeyRing

logger = logging.getLogger(__name__)

CONFIG_SECTION = "KlinikaTokenFilter"


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str
    subject: str | None = None
    role: str | None = None


def bearer_token(headers: dict[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (names lower-case)."""
    value = headers.get("authorization")
    if not isinstance(value, str):
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or " " in token.strip():
        return None
    return token.strip()


class VerifiedTokens:
    """A bounded LRU of verified tokens and their claims."""

    def __init__(
        self,
        max_entries: int = 4096,
        max_age_s: float = 300,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.max_entries = max_entries
        self.max_age_s = max_age_s
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str) -> dict[str, Any] | None:
        with self._lock:
            entry = self._entries.get(token)
            if entry is None:
                return None
            if self._clock() >= entry[0]:
                del self._entries[token]
                return None
            self._entries.move_to_end(token)
            return entry[1]

    def put(self, token: str, claims: dict[str, Any], leeway_s: float) -> None:
        deadline = min(self._clock() + self.max_age_s, float(claims["exp"]) + leeway_s)
        with self._lock:
            self._entries[token] = (deadline, claims)
            self._entries.move_to_end(token)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


class TokenFilter:
    def __init__(
        self,
        keys: KeyRing,
        expect: Expectations,
        rules: tuple[Rule, ...] = RULES,
        verified: VerifiedTokens | None = None,
    ):
        self.keys = keys
        self.expect = expect
        self.rules = rules
        self.verified = verified if verified is not None else VerifiedTokens()

    @classmethod
    def from_config(cls, config: dict[str, Any], **keyring_kwargs: Any) -> TokenFilter:
        """From Orthanc's whole configuration (its ``KlinikaTokenFilter`` section)."""
        section = config.get(CONFIG_SECTION)
        if not isinstance(section, dict):
            raise ValueError(f"configuration section {CONFIG_SECTION!r} missing")
        keys = KeyRing.from_config(section, **keyring_kwargs)
        if not keys.configured:
            raise ValueError(f"{CONFIG_SECTION}: set JwksUrl or PublicKeys")
        issuer, audience = section.get("Issuer"), section.get("Audience")
        if (
            not isinstance(issuer, str)
            or not issuer
            or not isinstance(audience, str)
            or not audience
        ):
            raise ValueError(f"{CONFIG_SECTION}: Issuer and Audience are required")
        expect = Expectations(
            issuer=issuer,
            audience=audience,
            leeway_seconds=int(section.get("LeewaySeconds", 30)),
            max_lifetime_seconds=int(section.get("MaxTokenLifetimeSeconds", 86400)),
        )
        verified = VerifiedTokens(
            max_entries=int(section.get("VerifiedTokenCacheSize", 4096)),
            max_age_s=float(section.get("VerifiedTokenCacheSeconds", 300)),
        )
        return cls(keys, expect, verified=verified)

    def check(self, method: int | str, uri: str, headers: dict[str, str]) -> Verdict:
        """Allow or deny one request; never raises."""
        try:
            return self._check(method, uri, headers)
        except Exception:  # a bug must deny the request, not crash it
            logger.exception("token filter error on %s", uri)
            return Verdict(False, "filter-error")

    def _check(self, method: int | str, uri: str, headers: dict[str, str]) -> Verdict:
        name = ORTHANC_METHODS.get(method, "") if isinstance(method, int) else method
        token = bearer_token(headers)
        if token is None:
            return Verdict(False, "no-token")
        claims = self.verified.get(token)
        if claims is None:
            try:
                claims = verify_token(token, self.keys.keys_for, self.expect)
            except TokenError as exc:
                return Verdict(False, exc.reason)
            self.verified.put(token, claims, self.expect.leeway_seconds)
        role = claims.get("role")
        decision: Decision = decide(name, uri, role if isinstance(role, str) else "", self.rules)
        return Verdict(decision.allowed, decision.reason, claims.get("sub"), role)
