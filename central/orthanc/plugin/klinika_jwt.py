"""RS256 JSON Web Token verification with the Python standard library only.

This runs inside Orthanc on the system python3, where no third-party package is
importable, so the RSA arithmetic is done with Python integers:

- keys come from a PEM public key (SubjectPublicKeyInfo or PKCS#1) or a JWK (``n``, ``e``);
- RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 section 8.2.2): ``m = s^e mod n``, then the
  whole encoded message is rebuilt from the hash and compared in constant time (no
  parsing of the padding, so no Bleichenbacher-style leniency);
- only ``RS256`` is accepted (``none``, ``HS256`` - e.g. signed with the public key as a
  secret - and every other algorithm are refused before any key is touched);
- ``iss``, ``aud``, ``exp``, ``nbf``, ``iat`` and ``sub`` are required, times with a small
  leeway; the base64url segments must be canonical and the JSON free of duplicate keys.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass
from typing import Any

ALLOWED_ALGORITHMS = frozenset({"RS256"})
MIN_KEY_BITS = 2048
MAX_KEY_BITS = 8192
MAX_TOKEN_LENGTH = 8192
REQUIRED_CLAIMS = ("iss", "aud", "exp", "nbf", "iat", "sub")

# DER DigestInfo prefix for SHA-256 (RFC 8017 section 9.2, note 1).
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
RSA_ENCRYPTION_OID = bytes.fromhex("2a864886f70d010101")  # 1.2.840.113549.1.1.1

_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")


class TokenError(Exception):
    """A token was refused; ``reason`` is a short code safe to log (never the token)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class KeyFormatError(ValueError):
    """A public key (PEM, DER or JWK) could not be used."""


@dataclass(frozen=True)
class RsaPublicKey:
    n: int
    e: int
    kid: str | None = None

    def __post_init__(self) -> None:
        bits = self.n.bit_length()
        if not MIN_KEY_BITS <= bits <= MAX_KEY_BITS:
            raise KeyFormatError(
                f"RSA modulus of {bits} bits (need {MIN_KEY_BITS}..{MAX_KEY_BITS})"
            )
        if self.n % 2 == 0 or self.e < 3 or self.e % 2 == 0 or self.e >= self.n:
            raise KeyFormatError("RSA key with an impossible modulus or exponent")

    @property
    def size_bytes(self) -> int:
        return (self.n.bit_length() + 7) // 8


# --- base64url and JSON ---------------------------------------------------------------


def b64url_decode(segment: str) -> bytes:
    """Decode canonical unpadded base64url; anything else raises ``TokenError``."""
    if not _B64URL.match(segment) or len(segment) % 4 == 1:
        raise TokenError("bad-base64")
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as exc:
        raise TokenError("bad-base64") from exc
    if b64url_encode(raw) != segment:  # non-zero trailing bits: not the canonical form
        raise TokenError("bad-base64")
    return raw


def b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise TokenError("duplicate-json-key")
        out[k] = v
    return out


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError) as exc:
        raise TokenError("bad-json") from exc
    if not isinstance(value, dict):
        raise TokenError("bad-json")
    return value


# --- DER / PEM -----------------------------------------------------------------------


def _der_read(data: bytes, pos: int, tag: int) -> tuple[bytes, int]:
    """Read one DER TLV with the expected ``tag`` at ``pos``; return (value, next pos)."""
    if pos + 2 > len(data) or data[pos] != tag:
        raise KeyFormatError("unexpected DER structure")
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise KeyFormatError("bad DER length")
        length = int.from_bytes(data[pos : pos + count], "big")
        if length < 0x80 or data[pos] == 0:
            raise KeyFormatError("non-minimal DER length")
        pos += count
    if pos + length > len(data):
        raise KeyFormatError("truncated DER")
    return data[pos : pos + length], pos + length


def _der_uint(value: bytes) -> int:
    if not value or value[0] & 0x80 or (len(value) > 1 and value[0] == 0 and not value[1] & 0x80):
        raise KeyFormatError("bad DER integer")
    return int.from_bytes(value, "big")


def _rsa_from_pkcs1(der: bytes, kid: str | None) -> RsaPublicKey:
    seq, end = _der_read(der, 0, 0x30)
    if end != len(der):
        raise KeyFormatError("trailing bytes after RSAPublicKey")
    n_raw, pos = _der_read(seq, 0, 0x02)
    e_raw, pos = _der_read(seq, pos, 0x02)
    if pos != len(seq):
        raise KeyFormatError("trailing bytes in RSAPublicKey")
    return RsaPublicKey(_der_uint(n_raw), _der_uint(e_raw), kid)


def _rsa_from_spki(der: bytes, kid: str | None) -> RsaPublicKey:
    spki, end = _der_read(der, 0, 0x30)
    if end != len(der):
        raise KeyFormatError("trailing bytes after SubjectPublicKeyInfo")
    algo, pos = _der_read(spki, 0, 0x30)
    oid, apos = _der_read(algo, 0, 0x06)
    if oid != RSA_ENCRYPTION_OID:
        raise KeyFormatError("not an RSA public key")
    if apos != len(algo):
        params, apos = _der_read(algo, apos, 0x05)
        if params or apos != len(algo):
            raise KeyFormatError("bad rsaEncryption parameters")
    bits, pos = _der_read(spki, pos, 0x03)
    if pos != len(spki) or not bits or bits[0] != 0:
        raise KeyFormatError("bad subjectPublicKey")
    return _rsa_from_pkcs1(bits[1:], kid)


def load_pem_public_key(pem: str | bytes, kid: str | None = None) -> RsaPublicKey:
    """An RSA public key from ``-----BEGIN PUBLIC KEY-----`` or ``BEGIN RSA PUBLIC KEY``."""
    text = pem.decode("ascii") if isinstance(pem, bytes) else pem
    m = re.search(
        r"-----BEGIN (PUBLIC KEY|RSA PUBLIC KEY)-----([A-Za-z0-9+/=\s]+)-----END \1-----", text
    )
    if not m:
        raise KeyFormatError("no PEM public key block")
    try:
        der = base64.b64decode("".join(m.group(2).split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyFormatError("bad PEM base64") from exc
    if m.group(1) == "PUBLIC KEY":
        return _rsa_from_spki(der, kid)
    return _rsa_from_pkcs1(der, kid)


def key_from_jwk(jwk: dict[str, Any]) -> RsaPublicKey:
    """An RSA public key from a JWK; keys not meant for RS256 signatures are refused."""
    if jwk.get("kty") != "RSA":
        raise KeyFormatError("JWK is not an RSA key")
    if jwk.get("use", "sig") != "sig" or jwk.get("alg", "RS256") != "RS256":
        raise KeyFormatError("JWK is not an RS256 signing key")
    if "d" in jwk:
        raise KeyFormatError("JWK holds a private key")
    kid = jwk.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise KeyFormatError("JWK kid is not a string")
    n_b64, e_b64 = jwk.get("n"), jwk.get("e")
    if not isinstance(n_b64, str) or not isinstance(e_b64, str) or len(n_b64) > 2000:
        raise KeyFormatError("JWK without n and e")
    try:
        n = int.from_bytes(b64url_decode(n_b64), "big")
        e = int.from_bytes(b64url_decode(e_b64), "big")
    except TokenError as exc:
        raise KeyFormatError("JWK n or e is not base64url") from exc
    return RsaPublicKey(n, e, kid)


# --- signature -----------------------------------------------------------------------


def rs256_verify(key: RsaPublicKey, message: bytes, signature: bytes) -> bool:
    """RSASSA-PKCS1-v1_5 verification with SHA-256 (RFC 8017 8.2.2)."""
    k = key.size_bytes
    if len(signature) != k:
        return False
    s = int.from_bytes(signature, "big")
    if s >= key.n:
        return False
    encoded = pow(s, key.e, key.n).to_bytes(k, "big")
    t = SHA256_DIGEST_INFO + hashlib.sha256(message).digest()
    if k < len(t) + 11:
        return False
    expected = b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t
    return hmac.compare_digest(encoded, expected)


# --- tokens --------------------------------------------------------------------------


@dataclass(frozen=True)
class Expectations:
    """What every accepted token must say."""

    issuer: str
    audience: str
    leeway_seconds: int = 30
    max_lifetime_seconds: int = 86400


def split_token(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """(header, claims, signing input, signature) of a compact JWS; format checks only."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        raise TokenError("bad-format")
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenError("bad-format")
    header = _json_object(b64url_decode(parts[0]))
    claims = _json_object(b64url_decode(parts[1]))
    signature = b64url_decode(parts[2])
    return header, claims, (parts[0] + "." + parts[1]).encode("ascii"), signature


def check_header(header: dict[str, Any]) -> str | None:
    """Refuse every algorithm but RS256 and unknown critical extensions; return the kid."""
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in ALLOWED_ALGORITHMS:
        raise TokenError("algorithm-not-allowed")
    if "crit" in header or "jku" in header or "jwk" in header or "x5u" in header:
        raise TokenError("header-not-allowed")
    typ = header.get("typ", "JWT")
    if not isinstance(typ, str) or typ.lower() not in ("jwt", "at+jwt"):
        raise TokenError("bad-typ")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise TokenError("bad-kid")
    return kid


def _number(claims: dict[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenError(f"bad-{name}")
    return float(value)


def check_claims(claims: dict[str, Any], expect: Expectations, now: float) -> None:
    for name in REQUIRED_CLAIMS:
        if name not in claims:
            raise TokenError(f"missing-{name}")
    if claims["iss"] != expect.issuer:
        raise TokenError("wrong-issuer")
    aud = claims["aud"]
    audiences = aud if isinstance(aud, list) else [aud]
    if expect.audience not in [a for a in audiences if isinstance(a, str)]:
        raise TokenError("wrong-audience")
    exp, nbf, iat = (_number(claims, n) for n in ("exp", "nbf", "iat"))
    leeway = expect.leeway_seconds
    if now >= exp + leeway:
        raise TokenError("expired")
    if now + leeway < nbf:
        raise TokenError("not-yet-valid")
    if now + leeway < iat:
        raise TokenError("issued-in-future")
    if exp - iat > expect.max_lifetime_seconds:
        raise TokenError("lifetime-too-long")
    if not isinstance(claims["sub"], str) or not claims["sub"]:
        raise TokenError("bad-sub")


def verify_token(
    token: str,
    keys_for_kid: Any,
    expect: Expectations,
    now: float | None = None,
) -> dict[str, Any]:
    """Verify ``token`` and return its claims, or raise ``TokenError``.

    ``keys_for_kid(kid)`` returns the candidate ``RsaPublicKey`` list for a header
    ``kid`` (``None`` when the header has none), e.g. ``KeyRing.keys_for``.
    """
    header, claims, signing_input, signature = split_token(token)
    kid = check_header(header)
    candidates = keys_for_kid(kid)
    if not candidates:
        raise TokenError("unknown-key")
    if not any(rs256_verify(key, signing_input, signature) for key in candidates):
        raise TokenError("bad-signature")
    check_claims(claims, expect, time.time() if now is None else now)
    return claims
