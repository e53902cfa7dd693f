"""The plugin's stdlib RS256 verification against tokens and keys made by PyJWT/cryptography."""

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
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from hypothesis import given, settings
from hypothesis import strategies as st
from klinika_jwt import (
    Expectations,
    KeyFormatError,
    RsaPublicKey,
    TokenError,
    b64url_encode,
    key_from_jwk,
    load_pem_public_key,
    rs256_verify,
    verify_token,
)

EXPECT = Expectations(issuer="klinika-central", audience="klinika", leeway_seconds=30)


@pytest.fixture(scope="module")
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key: rsa.RSAPrivateKey, fmt: serialization.PublicFormat) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, fmt)


@pytest.fixture(scope="module")
def public_key(private_key: rsa.RSAPrivateKey) -> RsaPublicKey:
    return load_pem_public_key(
        _pem(private_key, serialization.PublicFormat.SubjectPublicKeyInfo), kid="k1"
    )


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": "klinika-central",
        "aud": "klinika",
        "sub": "dr.house",
        "uid": 7,
        "role": "doctor",
        "perms": ["studies:read"],
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": "j1",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _token(key: rsa.RSAPrivateKey, kid: str = "k1", **overrides: Any) -> str:
    return jwt.encode(_claims(**overrides), key, algorithm="RS256", headers={"kid": kid})


def _verify(token: str, key: RsaPublicKey, **kw: Any) -> dict[str, Any]:
    return verify_token(token, lambda kid: [key] if kid in (key.kid, None) else [], EXPECT, **kw)


def _reason(token: str, key: RsaPublicKey) -> str:
    with pytest.raises(TokenError) as err:
        _verify(token, key)
    return err.value.reason


def _segments(token: str) -> list[str]:
    return token.split(".")


def _reencode(part: dict[str, Any]) -> str:
    return b64url_encode(json.dumps(part).encode())


# --- keys ----------------------------------------------------------------------------


def test_pem_pkcs1_and_jwk_give_the_same_key(private_key: rsa.RSAPrivateKey) -> None:
    numbers = private_key.public_key().public_numbers()
    spki = load_pem_public_key(_pem(private_key, serialization.PublicFormat.SubjectPublicKeyInfo))
    pkcs1 = load_pem_public_key(_pem(private_key, serialization.PublicFormat.PKCS1))
    jwk = key_from_jwk(json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key())))
    assert (spki.n, spki.e) == (pkcs1.n, pkcs1.e) == (jwk.n, jwk.e) == (numbers.n, numbers.e)
    assert spki.size_bytes == 256


def test_unusable_keys_are_refused() -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(KeyFormatError, match="1024 bits"):
        load_pem_public_key(_pem(small, serialization.PublicFormat.SubjectPublicKeyInfo))
    with pytest.raises(KeyFormatError):
        load_pem_public_key("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----")
    ec_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(KeyFormatError, match="not an RSA"):
        load_pem_public_key(ec_pem)
    good = {"kty": "RSA", "n": b64url_encode(b"\xc1" * 256), "e": "AQAB"}
    assert key_from_jwk(good).e == 65537
    for bad in (
        {**good, "kty": "oct"},
        {**good, "use": "enc"},
        {**good, "alg": "RS512"},
        {**good, "d": "AQAB"},
        {**good, "e": "AQAB=="},
        {"kty": "RSA", "e": "AQAB"},
    ):
        with pytest.raises(KeyFormatError):
            key_from_jwk(bad)


# --- signature -----------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(message=st.binary(max_size=300), flip=st.integers(min_value=0, max_value=255))
def test_signature_check_agrees_with_cryptography(
    private_key: rsa.RSAPrivateKey, public_key: RsaPublicKey, message: bytes, flip: int
) -> None:
    signature = private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    assert rs256_verify(public_key, message, signature)
    tampered = bytearray(signature)
    tampered[flip] ^= 0x01
    assert not rs256_verify(public_key, message, bytes(tampered))
    assert not rs256_verify(public_key, message + b"x", signature)
    assert not rs256_verify(public_key, message, signature[1:])


def test_sha512_signature_is_not_an_rs256_signature(
    private_key: rsa.RSAPrivateKey, public_key: RsaPublicKey
) -> None:
    signature = private_key.sign(b"msg", padding.PKCS1v15(), hashes.SHA512())
    assert not rs256_verify(public_key, b"msg", signature)


# --- tokens --------------------------------------------------------------------------


def test_valid_token_yields_its_claims(
    private_key: rsa.RSAPrivateKey, public_key: RsaPublicKey
) -> None:
    claims = _verify(_token(private_key), public_key)
    assert (claims["sub"], claims["role"], claims["perms"]) == (
        "dr.house",
        "doctor",
        ["studies:read"],
    )
    aud_list = _verify(_token(private_key, aud=["other", "klinika"]), public_key)
    assert aud_list["aud"] == ["other", "klinika"]


def test_alg_none_is_refused(private_key: rsa.RSAPrivateKey, public_key: RsaPublicKey) -> None:
    token = jwt.encode(_claims(), None, algorithm="none")
    assert _reason(token, public_key) == "algorithm-not-allowed"
    _head, body, _sig = _segments(_token(private_key))
    unsigned = _reencode({"alg": "none", "kid": "k1"}) + "." + body + "."
    assert _reason(unsigned, public_key) == "algorithm-not-allowed"


def test_hs256_signed_with_the_public_key_is_refused(
    private_key: rsa.RSAPrivateKey, public_key: RsaPublicKey
) -> None:
    pem = _pem(private_key, serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = _reencode({"alg": "HS256", "typ": "JWT", "kid": "k1"}) + "."
    signing_input += _reencode(_claims())
    mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    assert _reason(signing_input + "." + b64url_encode(mac), public_key) == "algorithm-not-allowed"


def test_wrong_key_and_unknown_kid_are_refused(
    other_key: rsa.RSAPrivateKey, public_key: RsaPublicKey
) -> None:
    assert _reason(_token(other_key), public_key) == "bad-signature"
    assert _reason(_token(other_key, kid="k2"), public_key) == "unknown-key"


def test_edited_payload_is_refused(
    private_key: rsa.RSAPrivateKey, public_key: RsaPublicKey
) -> None:
    head, _body, sig = _segments(_token(private_key))
    forged = head + "." + _reencode(_claims(role="admin")) + "." + sig
    assert _reason(forged, public_key) == "bad-signature"


@pytest.mark.parametrize(
    ("make_overrides", "reason"),
    [
        (lambda now: {"exp": now - 120}, "expired"),
        (lambda now: {"nbf": now + 600, "exp": now + 900}, "not-yet-valid"),
        (lambda now: {"iat": now + 600, "exp": now + 900}, "issued-in-future"),
        (lambda now: {"aud": "someone-else"}, "wrong-audience"),
        (lambda now: {"aud": ["a", "b"]}, "wrong-audience"),
        (lambda now: {"iss": "https://evil.example"}, "wrong-issuer"),
        (lambda now: {"exp": None}, "missing-exp"),
        (lambda now: {"nbf": None}, "missing-nbf"),
        (lambda now: {"iat": None}, "missing-iat"),
        (lambda now: {"iss": None}, "missing-iss"),
        (lambda now: {"aud": None}, "missing-aud"),
        (lambda now: {"sub": None}, "missing-sub"),
        (lambda now: {"sub": ""}, "bad-sub"),
        (lambda now: {"exp": True}, "bad-exp"),
        (lambda now: {"exp": "9999999999"}, "bad-exp"),
        (lambda now: {"exp": now + 10 * 86400}, "lifetime-too-long"),
    ],
)
def test_claim_checks(
    private_key: rsa.RSAPrivateKey,
    public_key: RsaPublicKey,
    make_overrides: Callable[[int], dict[str, Any]],
    reason: str,
) -> None:
    # Times from the moment the test runs, not from collection: a long suite would
    # otherwise let a "not yet valid" time pass before the test runs.
    overrides = make_overrides(int(time.time()))
    assert _reason(_token(private_key, **overrides), public_key) == reason


def test_leeway_accepts_small_clock_skew(
    private_key: rsa.RSAPrivateKey, public_key: RsaPublicKey
) -> None:
    now = int(time.time())
    assert _verify(_token(private_key, exp=now - 5, iat=now - 300, nbf=now - 300), public_key)
    assert _verify(_token(private_key, nbf=now + 10, iat=now + 10), public_key)


def test_malformed_tokens_are_refused(
    private_key: rsa.RSAPrivateKey, public_key: RsaPublicKey
) -> None:
    token = _token(private_key)
    head, body, sig = _segments(token)
    dup_body = b64url_encode(b'{"sub":"a","sub":"b"}')
    cases = {
        "": "bad-format",
        token + ".x": "bad-format",
        head + "." + body: "bad-format",
        head + "==." + body + "." + sig: "bad-base64",
        head + "." + body + "." + sig + "=": "bad-base64",
        "+" + head[1:] + "." + body + "." + sig: "bad-base64",
        head + "." + dup_body + "." + sig: "duplicate-json-key",
        head + "." + b64url_encode(b"[1]") + "." + sig: "bad-json",
        head + "." + b64url_encode(b"\xff") + "." + sig: "bad-json",
        "a" * 9000: "bad-format",
    }
    for bad, reason in cases.items():
        assert _reason(bad, public_key) == reason, bad[:40]
    # Non-canonical base64url: same bytes, different trailing bits.
    last = sig[-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    twin = alphabet[alphabet.index(last) ^ 1]
    if base64.urlsafe_b64decode(sig[:-1] + twin + "=" * (-len(sig) % 4)) == (
        base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
    ):
        assert _reason(head + "." + body + "." + sig[:-1] + twin, public_key) == "bad-base64"


def test_critical_and_key_bearing_headers_are_refused(
    private_key: rsa.RSAPrivateKey, public_key: RsaPublicKey
) -> None:
    for extra in ({"crit": ["exp"]}, {"jku": "http://x"}, {"jwk": {"kty": "RSA"}}, {"typ": "JWE"}):
        token = jwt.encode(
            _claims(), private_key, algorithm="RS256", headers={"kid": "k1", **extra}
        )
        with pytest.raises(TokenError):
            _verify(token, public_key)


@settings(max_examples=200, deadline=None)
@given(garbage=st.text(max_size=400) | st.binary(max_size=400).map(lambda b: b.hex()))
def test_garbage_never_escapes_as_another_error(public_key: RsaPublicKey, garbage: str) -> None:
    with pytest.raises(TokenError):
        _verify(garbage, public_key)


@settings(max_examples=100, deadline=None)
@given(parts=st.lists(st.binary(max_size=80), min_size=3, max_size=3))
def test_well_formed_segments_of_garbage_are_refused(
    public_key: RsaPublicKey, parts: list[bytes]
) -> None:
    with pytest.raises(TokenError):
        _verify(".".join(b64url_encode(p) for p in parts), public_key)
