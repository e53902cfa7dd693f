"""Verify the central's JWTs against its JWKS: RS256 only, issuer and audience checked.

Contract (see the common brief): header has ``kid``; claims ``iss``, ``aud``, ``sub``,
``uid``, ``role``, ``perms``, ``iat``, ``nbf``, ``exp``, ``jti``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

import jwt

from workstation.auth.errors import TokenInvalid

logger = logging.getLogger(__name__)

ALGORITHMS = ["RS256"]
REQUIRED_CLAIMS = ["iss", "aud", "sub", "role", "iat", "nbf", "exp"]
#: Never fetch the JWKS more often than this when an unknown ``kid`` shows up.
JWKS_REFETCH_SECONDS = 30.0
#: Tolerated clock difference between workstation and central.
LEEWAY_SECONDS = 30
MAX_JWKS_BYTES = 256 * 1024


@dataclass(eq=False)
class TokenVerifier:
    """Checks tokens with keys from ``fetch_jwks()`` (a callable returning the JWKS dict)."""

    fetch_jwks: Callable[[], dict[str, Any]]
    _: KW_ONLY
    issuer: str
    audience: str
    _keys: dict[str, Any] = field(default_factory=dict, init=False, repr=False)
    _fetched_at: float = field(default=-1e18, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def _refresh_keys(self, force: bool) -> None:
        now = time.monotonic()
        if not force and self._keys:
            return
        if force and now - self._fetched_at < JWKS_REFETCH_SECONDS:
            return
        data = self.fetch_jwks()
        keys: dict[str, Any] = {}
        for entry in data.get("keys", [])[:64]:
            if entry.get("kty") != "RSA" or entry.get("alg", "RS256") != "RS256":
                continue
            if entry.get("use", "sig") != "sig" or not entry.get("kid"):
                continue
            try:
                keys[str(entry["kid"])] = jwt.PyJWK.from_json(json.dumps(entry)).key
            except (jwt.PyJWKError, ValueError, KeyError):
                logger.warning("ignoring an unusable key in the JWKS (kid %s)", entry.get("kid"))
        self._keys = keys
        self._fetched_at = now

    def _key(self, kid: str) -> Any:
        with self._lock:
            self._refresh_keys(force=False)
            if kid not in self._keys:
                self._refresh_keys(force=True)
            key = self._keys.get(kid)
        if key is None:
            raise TokenInvalid("unknown signing key")
        return key

    def verify(self, token: str) -> dict[str, Any]:
        """The verified claims; :class:`TokenInvalid` with a short reason otherwise."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError as exc:
            raise TokenInvalid("malformed token") from exc
        if header.get("alg") not in ALGORITHMS:
            raise TokenInvalid(f"algorithm {header.get('alg')!r} not accepted")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TokenInvalid("no key id")
        key = self._key(kid)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=ALGORITHMS,
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenInvalid("expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise TokenInvalid("not yet valid") from exc
        except jwt.InvalidAudienceError as exc:
            raise TokenInvalid("wrong audience") from exc
        except jwt.InvalidIssuerError as exc:
            raise TokenInvalid("wrong issuer") from exc
        except jwt.InvalidSignatureError as exc:
            raise TokenInvalid("bad signature") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise TokenInvalid(f"claim {exc.claim} missing") from exc
        except jwt.InvalidTokenError as exc:
            raise TokenInvalid("invalid token") from exc
        return claims
