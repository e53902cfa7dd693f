"""Forged and defective tokens are refused by the API.

A control token, signed here with the server's real key and genuine claims, is accepted:
so each refusal below is due to the one defect that token carries.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

pytestmark = pytest.mark.network


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def raw_token(
    header: dict[str, Any], claims: dict[str, Any], sign: Callable[[bytes], bytes]
) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(sign(signing_input.encode()))}"


@pytest.fixture(scope="module")
def genuine(central) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A real login: its header, claims and token, and the server's private key."""
    user, password = central.new_user("operator")
    token = central.login_ok(user["username"], password)["access_token"]
    with open(central.server.signing_key_path, "rb") as fh:
        private_pem = fh.read()
    return {
        "token": token,
        "header": jwt.get_unverified_header(token),
        "claims": jwt.decode(token, options={"verify_signature": False}),
        "private_pem": private_pem,
    }


def _with(genuine: dict[str, Any], **changes: Any) -> str:
    claims = {**genuine["claims"], **changes}
    claims = {k: v for k, v in claims.items() if v is not None}
    header = {k: v for k, v in genuine["header"].items() if k != "alg"}
    return jwt.encode(claims, genuine["private_pem"], algorithm="RS256", headers=header)


def _refused(central, token: str) -> str:  # type: ignore[no-untyped-def]
    response = central.get("/auth/me", token=token)
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    return response.json()["message"]


def test_control_token_signed_with_the_real_key_is_accepted(central, genuine) -> None:  # type: ignore[no-untyped-def]
    fresh = _with(genuine, jti="control-token", iat=int(time.time()))
    assert central.get("/auth/me", token=fresh).status_code == 200


def test_alg_none(central, genuine) -> None:  # type: ignore[no-untyped-def]
    header = {**genuine["header"], "alg": "none"}
    token = raw_token(header, {**genuine["claims"], "role": "admin"}, lambda _m: b"")
    assert "algorithm" in _refused(central, token)
    assert "algorithm" in _refused(central, token.rsplit(".", 1)[0] + ".")


def test_wrong_key_with_the_right_kid(central, genuine) -> None:  # type: ignore[no-untyped-def]
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    header = {k: v for k, v in genuine["header"].items() if k != "alg"}
    token = jwt.encode(genuine["claims"], other, algorithm="RS256", headers=header)
    assert "invalid" in _refused(central, token).lower()


def test_unknown_kid(central, genuine) -> None:  # type: ignore[no-untyped-def]
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    header = {**genuine["header"], "kid": "attacker-key"}
    header.pop("alg")
    token = jwt.encode(genuine["claims"], other, algorithm="RS256", headers=header)
    assert "unknown key" in _refused(central, token)


def test_hs256_signed_with_the_public_key(central, genuine) -> None:  # type: ignore[no-untyped-def]
    """The classic confusion attack: HMAC keyed with the published public key."""
    public_pem = central.server.public_key_pem.encode()
    header = {**genuine["header"], "alg": "HS256"}
    claims = {**genuine["claims"], "role": "admin", "perms": ["users.manage"]}
    token = raw_token(header, claims, lambda m: hmac.new(public_pem, m, hashlib.sha256).digest())
    assert "algorithm" in _refused(central, token)


def test_edited_payload(central, genuine) -> None:  # type: ignore[no-untyped-def]
    head, _payload, signature = genuine["token"].split(".")
    claims = {**genuine["claims"], "role": "admin", "perms": ["users.manage", "audit.read"]}
    token = f"{head}.{b64(json.dumps(claims).encode())}.{signature}"
    assert "invalid" in _refused(central, token).lower()
    assert central.get("/admin/users", token=token).status_code == 401


def test_expired(central, genuine) -> None:  # type: ignore[no-untyped-def]
    now = int(time.time())
    token = _with(genuine, iat=now - 3600, nbf=now - 3600, exp=now - 600)
    assert "expired" in _refused(central, token)


def test_not_yet_valid(central, genuine) -> None:  # type: ignore[no-untyped-def]
    now = int(time.time())
    token = _with(genuine, iat=now, nbf=now + 600, exp=now + 1200)
    assert "not valid yet" in _refused(central, token)


def test_wrong_audience(central, genuine) -> None:  # type: ignore[no-untyped-def]
    assert "aud" in _refused(central, _with(genuine, aud="another-service")).lower()
    # The MFA enrolment audience is not an access audience either.
    assert _refused(central, _with(genuine, aud="klinika:mfa-enroll"))


def test_wrong_issuer(central, genuine) -> None:  # type: ignore[no-untyped-def]
    assert "issuer" in _refused(central, _with(genuine, iss="https://evil.example")).lower()


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat", "iss", "aud"])
def test_missing_required_claim(central, genuine, claim: str) -> None:  # type: ignore[no-untyped-def]
    assert claim in _refused(central, _with(genuine, **{claim: None}))


def test_garbage_and_missing_tokens(central) -> None:  # type: ignore[no-untyped-def]
    assert "malformed" in _refused(central, "not.a.jwt")
    bare = central.get("/auth/me")
    assert bare.status_code == 401 and "Bearer" in bare.json()["message"]
    basic = central.get("/auth/me", headers={"Authorization": "Basic YWRtaW46YWRtaW4="})
    assert basic.status_code == 401
