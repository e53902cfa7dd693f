"""The OS keyring, and only the OS keyring, holds secrets.

When no usable backend exists (headless machine: keyring's ``fail`` backend; the
``null`` backend; plaintext ``keyrings.alt`` backends, which we refuse) the store is
*unavailable*: callers keep tokens in memory only and the UI shows the online-only
banner.  There is no plaintext fallback.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import keyring
import keyring.errors

logger = logging.getLogger(__name__)

SERVICE = "klinika-workstation"

#: Backends that store nothing, fail everything, or write plain text to disk.
_REFUSED_MODULES = ("keyring.backends.fail", "keyring.backends.null", "keyrings.alt")


def _leaf_backends(backend: Any) -> list[Any]:
    inner = getattr(backend, "backends", None)
    if isinstance(inner, list | tuple):
        return [b for item in inner for b in _leaf_backends(item)]
    return [backend]


def backend_usable(backend: Any) -> bool:
    """True when ``backend`` is a real secret store we may put tokens in."""
    leaves = _leaf_backends(backend)
    if not leaves:
        return False
    return all(not type(b).__module__.startswith(_REFUSED_MODULES) for b in leaves)


def account_key(kind: str, *parts: str) -> str:
    """A keyring account name: ``kind:<sha256 of the parts>`` (no user names in clear)."""
    digest = hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:32]
    return f"{kind}:{digest}"


class SecretStore:
    """Get, set and delete secrets under one service name in the OS keyring."""

    def __init__(self, backend: Any | None = None, service: str = SERVICE) -> None:
        self._backend = backend if backend is not None else keyring.get_keyring()
        self.service = service
        self.available = backend_usable(self._backend)
        if not self.available:
            logger.info(
                "no usable OS keyring (%s): online-only mode, nothing is remembered",
                type(self._backend).__module__,
            )

    @property
    def backend_name(self) -> str:
        return f"{type(self._backend).__module__}.{type(self._backend).__name__}"

    def get(self, key: str) -> str | None:
        if not self.available:
            return None
        try:
            return self._backend.get_password(self.service, key)
        except keyring.errors.KeyringError:
            logger.exception("keyring read failed")
            return None

    def set(self, key: str, value: str) -> bool:
        """Store a secret; False (and nothing written anywhere) when unavailable."""
        if not self.available:
            return False
        try:
            self._backend.set_password(self.service, key, value)
        except keyring.errors.KeyringError:
            logger.exception("keyring write failed; the secret is kept in memory only")
            return False
        return True

    def delete(self, key: str) -> None:
        if not self.available:
            return
        try:
            self._backend.delete_password(self.service, key)
        except keyring.errors.PasswordDeleteError:
            pass
        except keyring.errors.KeyringError:
            logger.exception("keyring delete failed")
