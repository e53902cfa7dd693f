"""Forged and stale tokens are refused by the real Orthanc, and a valid one is not."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

pytestmark = [pytest.mark.orthanc, pytest.mark.postgres, pytest.mark.network]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64json(value: object) -> str:
    return _b64(json.dumps(value).encode())


def _status(orthanc, token: str | None, path: str = "/studies") -> int:  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return requests.get(orthanc.http_url + path, headers=headers, timeout=30).status_code


def _forgeries(orthanc) -> dict[str, str]:  # type: ignore[no-untyped-def]
    issuer = orthanc.issuer
    now = int(time.time())
    good = issuer.token("operator")
    head, body, sig = good.split(".")
    claims = issuer.claims("operator")
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    hs_input = _b64json({"alg": "HS256", "typ": "JWT", "kid": issuer.kid}) + "." + body
    hs_sig = hmac.new(issuer.public_pem.encode(), hs_input.encode(), hashlib.sha256).digest()
    return {
        "alg none": _b64json({"alg": "none", "typ": "JWT", "kid": issuer.kid}) + "." + body + ".",
        "alg none (PyJWT)": jwt.encode(claims, None, algorithm="none"),
        "wrong key, same kid": jwt.encode(
            claims, stranger, algorithm="RS256", headers={"kid": issuer.kid}
        ),
        "HS256 signed with the public key": hs_input + "." + _b64(hs_sig),
        "edited payload (role admin)": head
        + "."
        + _b64json({**claims, "role": "admin"})
        + "."
        + sig,
        "expired": issuer.token("operator", iat=now - 900, nbf=now - 900, exp=now - 300),
        "not yet valid": issuer.token("operator", nbf=now + 600, exp=now + 900),
        "wrong audience": issuer.token("operator", aud="some-other-service"),
        "wrong issuer": issuer.token("operator", iss="https://attacker.example"),
        "no expiry": issuer.token("operator", exp=None),
        "unknown role": issuer.token("superuser"),
        "truncated signature": good[:-10],
        "garbage": "not-a-token",
    }


def test_forged_tokens_are_refused(orthanc) -> None:  # type: ignore[no-untyped-def]
    assert _status(orthanc, orthanc.token("operator")) == 200  # the control
    refused = {name: _status(orthanc, token) for name, token in _forgeries(orthanc).items()}
    assert refused == dict.fromkeys(refused, 403)


def test_other_credentials_are_refused(orthanc) -> None:  # type: ignore[no-untyped-def]
    url = orthanc.http_url + "/studies"
    token = orthanc.token("admin")
    for headers in (
        {},
        {"Authorization": "Basic " + base64.b64encode(b"orthanc:orthanc").decode()},
        {"Authorization": token},
        {"Authorization": f"Token {token}"},
        {"Cookie": f"token={token}"},
    ):
        assert requests.get(url, headers=headers, timeout=30).status_code == 403
    assert requests.get(url, params={"token": token}, timeout=30).status_code == 403


def test_denials_are_logged_without_the_token(orthanc) -> None:  # type: ignore[no-untyped-def]
    token = orthanc.token("doctor")
    r = requests.delete(
        orthanc.http_url + "/studies/0", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert r.status_code == 403
    deadline = time.monotonic() + 5
    while "role-not-allowed" not in orthanc.log_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    log = orthanc.log_text()
    assert "denied DELETE /studies/0: role-not-allowed (sub=harness-doctor role=doctor" in log
    assert token not in log
    assert token.split(".")[2] not in log
