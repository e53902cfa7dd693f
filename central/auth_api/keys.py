"""The RSA signing key (made on first start, file mode 0600) and the public JWKS.

``kid`` is the RFC 7638 JWK thumbprint of the public key.  Rotating (``central-auth
rotate-key``) moves the current key's public half to ``retired/`` beside it, where it stays
in the JWKS so tokens signed before the rotation still verify until they expire.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

logger = logging.getLogger(__name__)

KEY_BITS = 3072


def _b64u_uint(n: int) -> str:
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def public_jwk(public_key: rsa.RSAPublicKey) -> dict[str, str]:
    numbers = public_key.public_numbers()
    core = {"e": _b64u_uint(numbers.e), "kty": "RSA", "n": _b64u_uint(numbers.n)}
    canonical = json.dumps(core, separators=(",", ":"), sort_keys=True).encode()
    kid = base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()
    return {**core, "kid": kid, "use": "sig", "alg": "RS256"}


@dataclass(frozen=True)
class KeySet:
    """The current signing key plus every public key still accepted."""

    private_key: rsa.RSAPrivateKey
    kid: str
    public_keys: dict[str, rsa.RSAPublicKey]

    @property
    def private_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def public_pem(self) -> str:
        return (
            self.private_key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode("ascii")
        )

    def jwks(self) -> dict[str, Any]:
        return {"keys": [public_jwk(k) for k in self.public_keys.values()]}


def _write_private(path: Path, key: rsa.RSAPrivateKey) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def ensure_signing_key(path: Path) -> bool:
    """Create the signing key when missing; return True when one was made."""
    if path.exists():
        return False
    _write_private(path, rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS))
    logger.info("made a new RSA-%d signing key at %s", KEY_BITS, path)
    return True


def rotate_signing_key(path: Path, retired_dir: Path) -> str:
    """Retire the current key (its public half stays published) and make a new one."""
    if path.exists():
        old = load_keyset(path, retired_dir)
        retired_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        (retired_dir / f"{old.kid}.pem").write_text(old.public_pem)
        path.unlink()
    ensure_signing_key(path)
    return load_keyset(path, retired_dir).kid


def load_keyset(path: Path, retired_dir: Path) -> KeySet:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"signing key {path} is missing; start `central-auth serve` once to make one"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"signing key {path} is not an RSA private key")
    mode = path.stat().st_mode & 0o077
    if mode:
        logger.warning("signing key %s is readable by others (mode %o); chmod 600 it", path, mode)
    kid = public_jwk(key.public_key())["kid"]
    public: dict[str, rsa.RSAPublicKey] = {kid: key.public_key()}
    if retired_dir.is_dir():
        for pem in sorted(retired_dir.glob("*.pem")):
            old = serialization.load_pem_public_key(pem.read_bytes())
            if isinstance(old, rsa.RSAPublicKey):
                public[public_jwk(old)["kid"]] = old
    return KeySet(private_key=key, kid=kid, public_keys=public)
