"""The keyring gate (no backend, null, plaintext → unavailable) and JWT verification
against a JWKS with real RSA keys."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from keyring.backends import fail, null

from workstation.auth.errors import TokenInvalid
from workstation.auth.keyring_store import SecretStore, account_key, backend_usable
from workstation.auth.tokens import TokenVerifier


def test_unusable_backends_are_refused(memory_keyring: Any) -> None:
    assert not backend_usable(fail.Keyring())
    assert not backend_usable(null.Keyring())

    class PlaintextKeyring(type(memory_keyring)):  # type: ignore[misc]
        pass

    PlaintextKeyring.__module__ = "keyrings.alt.file"
    assert not backend_usable(PlaintextKeyring())
    assert backend_usable(memory_keyring)


def test_unavailable_store_keeps_nothing(no_keyring_store: SecretStore) -> None:
    assert not no_keyring_store.available
    assert no_keyring_store.set("k", "secret") is False
    assert no_keyring_store.get("k") is None


def test_store_roundtrip_and_opaque_keys(secret_store: SecretStore, memory_keyring: Any) -> None:
    key = account_key("offline", "https://central", "alice")
    assert "alice" not in key
    assert secret_store.set(key, "v")
    assert secret_store.get(key) == "v"
    secret_store.delete(key)
    secret_store.delete(key)  # deleting twice is fine
    assert memory_keyring.secrets == {}


def _keypair(kid: str) -> tuple[Any, dict[str, Any]]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    jwk.update(kid=kid, use="sig", alg="RS256")
    return private, jwk


def _claims(**over: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "iss": "klinika-central",
        "aud": "klinika",
        "sub": "alice",
        "uid": "7",
        "role": "doctor",
        "perms": [],
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
    }
    base.update(over)
    return base


@pytest.fixture
def keys() -> dict[str, Any]:
    private, jwk = _keypair("k1")
    other, _ = _keypair("k1")
    return {"private": private, "other": other, "jwks": {"keys": [jwk]}}


def _verifier(keys: dict[str, Any]) -> TokenVerifier:
    return TokenVerifier(lambda: keys["jwks"], issuer="klinika-central", audience="klinika")


def test_good_token_is_accepted(keys: dict[str, Any]) -> None:
    token = jwt.encode(_claims(), keys["private"], algorithm="RS256", headers={"kid": "k1"})
    assert _verifier(keys).verify(token)["role"] == "doctor"


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"aud": "someone-else"}, "wrong audience"),
        ({"iss": "evil"}, "wrong issuer"),
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"nbf": int(time.time()) + 3600}, "not yet valid"),
    ],
)
def test_bad_claims_are_refused(keys: dict[str, Any], claims: dict[str, Any], reason: str) -> None:
    token = jwt.encode(_claims(**claims), keys["private"], algorithm="RS256", headers={"kid": "k1"})
    with pytest.raises(TokenInvalid, match=reason):
        _verifier(keys).verify(token)


def test_forged_tokens_are_refused(keys: dict[str, Any]) -> None:
    v = _verifier(keys)
    wrong_key = jwt.encode(_claims(), keys["other"], algorithm="RS256", headers={"kid": "k1"})
    with pytest.raises(TokenInvalid, match="signature"):
        v.verify(wrong_key)
    unsigned = jwt.encode(_claims(), None, algorithm="none", headers={"kid": "k1"})
    with pytest.raises(TokenInvalid, match="algorithm"):
        v.verify(unsigned)
    # HS256 "signed" with the public key: the classic algorithm-confusion forgery
    public_pem = (
        keys["private"]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    _header, payload, _sig = jwt.encode(_claims(), "x" * 32, algorithm="HS256").split(".")
    forged_header = (
        base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "kid": "k1"}).encode())
        .rstrip(b"=")
        .decode()
    )
    mac = hmac.new(public_pem, f"{forged_header}.{payload}".encode(), hashlib.sha256).digest()
    hs_forged = f"{forged_header}.{payload}." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    with pytest.raises(TokenInvalid, match="algorithm"):
        v.verify(hs_forged)
    no_kid = jwt.encode(_claims(), keys["private"], algorithm="RS256")
    with pytest.raises(TokenInvalid, match="key id"):
        v.verify(no_kid)
    unknown_kid = jwt.encode(_claims(), keys["private"], algorithm="RS256", headers={"kid": "zz"})
    with pytest.raises(TokenInvalid, match="unknown signing key"):
        v.verify(unknown_kid)
    with pytest.raises(TokenInvalid, match="malformed"):
        v.verify("not.a.token")
