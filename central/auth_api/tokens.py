"""Access JWTs (RS256, short-lived) and opaque refresh tokens (stored as SHA-256 hashes).

Access token claims follow the Klinika JWT contract: ``iss``, ``aud``, ``sub`` (user name),
``uid``, ``role``, ``perms``, ``iat``, ``nbf``, ``exp``, ``jti``, plus ``sid`` (the login
session, so the API can refuse tokens of a session that was logged out).  Header:
``alg=RS256``, ``typ=at+jwt``, ``kid``.  Verification accepts RS256 only, requires every
time claim, and checks issuer and audience.

An MFA enrolment token (``typ=mfa-enroll+jwt``, audience ``<aud>:mfa-enroll``) lets an
admin who must use MFA but has none yet reach the enrolment endpoints, and nothing else.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from klinika_auth.errors import unauthorized
from klinika_auth.keys import KeySet

ALGORITHMS = ["RS256"]
ACCESS_TYP = "at+jwt"
ENROLL_TYP = "mfa-enroll+jwt"
ENROLL_SECONDS = 600
REQUIRED_CLAIMS = ["iss", "aud", "exp", "nbf", "iat", "sub", "uid", "jti"]


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class TokenIssuer:
    keyset: KeySet
    issuer: str
    audience: str
    access_seconds: int
    leeway_seconds: int

    @property
    def enroll_audience(self) -> str:
        return f"{self.audience}:mfa-enroll"

    def _sign(self, claims: dict[str, Any], typ: str) -> str:
        headers = {"kid": self.keyset.kid, "typ": typ}
        return jwt.encode(claims, self.keyset.private_key, algorithm="RS256", headers=headers)

    def _base(self, sub: str, uid: int, aud: str, lifetime: int) -> dict[str, Any]:
        now = int(time.time())
        return {
            "iss": self.issuer,
            "aud": aud,
            "sub": sub,
            "uid": uid,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "jti": uuid.uuid4().hex,
        }

    def access_token(
        self, *, username: str, user_id: int, role: str, perms: list[str], session_id: str
    ) -> str:
        claims = self._base(username, user_id, self.audience, self.access_seconds)
        claims.update({"role": role, "perms": perms, "sid": session_id})
        return self._sign(claims, ACCESS_TYP)

    def enrollment_token(self, *, username: str, user_id: int) -> str:
        claims = self._base(username, user_id, self.enroll_audience, ENROLL_SECONDS)
        return self._sign(claims, ENROLL_TYP)

    def verify(self, token: str, *, enrollment: bool = False) -> dict[str, Any]:
        """Claims of a valid token, or an ``ApiError`` 401 saying what is wrong."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise unauthorized("The access token is malformed; sign in again.") from None
        if header.get("alg") not in ALGORITHMS:
            raise unauthorized("The access token uses a refused algorithm; sign in again.")
        key = self.keyset.public_key(str(header.get("kid")))
        if key is None:
            raise unauthorized("The access token was signed by an unknown key; sign in again.")
        expected_typ = ENROLL_TYP if enrollment else ACCESS_TYP
        if header.get("typ") != expected_typ:
            raise unauthorized("This token cannot be used here; sign in again.")
        try:
            return jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=self.enroll_audience if enrollment else self.audience,
                issuer=self.issuer,
                leeway=self.leeway_seconds,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            raise unauthorized(
                "The access token has expired; refresh it or sign in again."
            ) from None
        except jwt.ImmatureSignatureError:
            raise unauthorized("The access token is not valid yet; check the clock.") from None
        except jwt.MissingRequiredClaimError as exc:
            raise unauthorized(
                f"The access token lacks the '{exc.claim}' claim; sign in again."
            ) from None
        except jwt.InvalidAudienceError:
            raise unauthorized("The access token is for another audience (aud).") from None
        except jwt.InvalidIssuerError:
            raise unauthorized("The access token has the wrong issuer; sign in again.") from None
        except jwt.InvalidTokenError:
            raise unauthorized("The access token is invalid; sign in again.") from None
