"""The RSA signing key (made on first start, file mode 0600) and the public JWKS.

``kid`` is the RFC 7638 JWK thumbprint of the public key.  Rotating (``central-auth
rotate-key``) moves the current key's public half to ``retired/`` beside it with the time
of retirement (``<kid>.json``; the file's mtime for older copies).  A retired key stays in
the JWKS and verifies tokens only for a grace period (the access token lifetime plus the
clock leeway), i.e. until every token it signed has expired; after that it is ignored.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass, field
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
    """The current signing key plus the retired public keys, each accepted until a time."""

    private_key: rsa.RSAPrivateKey
    kid: str
    retired: dict[str, tuple[rsa.RSAPublicKey, float]] = field(default_factory=dict)

    def public_key(self, kid: str, now: float | None = None) -> rsa.RSAPublicKey | None:
        """The key that may verify a token with this ``kid`` now, if any."""
        if kid == self.kid:
            return self.private_key.public_key()
        key, until = self.retired.get(kid, (None, 0.0))
        return key if key is not None and (time.time() if now is None else now) < until else None

    @property
    def public_keys(self) -> dict[str, rsa.RSAPublicKey]:
        """Every key accepted now, current first."""
        now = time.time()
        keys = {self.kid: self.private_key.public_key()}
        keys.update({kid: key for kid, (key, until) in self.retired.items() if now < until})
        return keys

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
    """Retire the current key (its public half stays published for the grace period) and
    make a new one."""
    if path.exists():
        old = load_keyset(path, retired_dir, grace_seconds=0)
        retired_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        (retired_dir / f"{old.kid}.pem").write_text(old.public_pem)
        path.unlink()
        ensure_signing_key(path)
        # Retired from now on: the new key exists (restart the API so every worker uses it).
        (retired_dir / f"{old.kid}.json").write_text(json.dumps({"retired_at": time.time()}))
    ensure_signing_key(path)
    return load_keyset(path, retired_dir, grace_seconds=0).kid


def _retired_at(pem: Path) -> float:
    try:
        return float(json.loads(pem.with_suffix(".json").read_text())["retired_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return pem.stat().st_mtime  # retired before the time was recorded


def load_keyset(path: Path, retired_dir: Path, *, grace_seconds: float) -> KeySet:
    """The signing key and the retired keys, each accepted ``grace_seconds`` after its
    retirement (the access token lifetime plus leeway: tokens it signed have expired)."""
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
    retired: dict[str, tuple[rsa.RSAPublicKey, float]] = {}
    if retired_dir.is_dir():
        for pem in sorted(retired_dir.glob("*.pem")):
            old = serialization.load_pem_public_key(pem.read_bytes())
            if isinstance(old, rsa.RSAPublicKey):
                old_kid = public_jwk(old)["kid"]
                if old_kid != kid:
                    retired[old_kid] = (old, _retired_at(pem) + grace_seconds)
    return KeySet(private_key=key, kid=kid, retired=retired)
