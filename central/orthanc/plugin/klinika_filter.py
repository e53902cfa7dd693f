"""The token filter's decision for one HTTP request, without Orthanc.

``TokenFilter.check(method, uri, headers)`` reads the ``Authorization: Bearer`` token,
verifies it (klinika_jwt), takes the ``role`` claim and asks the rule table
(klinika_access). Any error denies. klinika_token_filter.py registers it with Orthanc;
the unit tests drive it directly.
"""

from __future__ import annotations

import logging
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


class TokenFilter:
    def __init__(self, keys: KeyRing, expect: Expectations, rules: tuple[Rule, ...] = RULES):
        self.keys = keys
        self.expect = expect
        self.rules = rules

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
        return cls(keys, expect)

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
        try:
            claims = verify_token(token, self.keys.keys_for, self.expect)
        except TokenError as exc:
            return Verdict(False, exc.reason)
        role = claims.get("role")
        decision: Decision = decide(name, uri, role if isinstance(role, str) else "", self.rules)
        return Verdict(decision.allowed, decision.reason, claims.get("sub"), role)
