"""The keys the token filter trusts: configured PEM keys and the auth API's JWKS.

JWKS keys are cached for ``cache_seconds``. A token naming an unknown ``kid`` triggers
a fetch (the auth API rotated its key), but at most once per ``min_refresh_seconds``
so forged ``kid`` values cannot make Orthanc hammer the auth API. A failed fetch keeps
the keys already known. Standard library only (runs inside Orthanc).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any

from klinika_jwt import KeyFormatError, RsaPublicKey, key_from_jwk, load_pem_public_key

logger = logging.getLogger(__name__)

MAX_JWKS_BYTES = 256 * 1024
MAX_JWKS_KEYS = 32


def fetch_jwks(url: str, timeout: float) -> dict[str, Any]:
    """GET a JWKS document (JSON, at most ``MAX_JWKS_BYTES``)."""
    if not url.startswith(("https://", "http://")):
        raise ValueError("JWKS URL must be http(s)")
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body = response.read(MAX_JWKS_BYTES + 1)
    if len(body) > MAX_JWKS_BYTES:
        raise ValueError("JWKS document too large")
    doc = json.loads(body.decode("utf-8"))
    if not isinstance(doc, dict):
        raise ValueError("JWKS document is not an object")
    return doc


def keys_from_jwks(doc: dict[str, Any]) -> list[RsaPublicKey]:
    """The usable RS256 keys of a JWKS document; other keys are skipped."""
    raw = doc.get("keys")
    if not isinstance(raw, list):
        raise ValueError("JWKS document without a keys list")
    keys = []
    for jwk in raw[:MAX_JWKS_KEYS]:
        if not isinstance(jwk, dict):
            continue
        try:
            keys.append(key_from_jwk(jwk))
        except KeyFormatError as exc:
            logger.info("skipping JWKS key %r: %s", jwk.get("kid"), exc)
    return keys


class KeyRing:
    """Candidate verification keys for a token header's ``kid``."""

    def __init__(
        self,
        static_keys: list[RsaPublicKey] | None = None,
        jwks_url: str | None = None,
        *,
        cache_seconds: float = 300,
        min_refresh_seconds: float = 10,
        timeout_seconds: float = 3,
        fetch: Callable[[str, float], dict[str, Any]] = fetch_jwks,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.static_keys = list(static_keys or [])
        self.jwks_url = jwks_url or None
        self.cache_seconds = cache_seconds
        self.min_refresh_seconds = min_refresh_seconds
        self.timeout_seconds = timeout_seconds
        self._fetch = fetch
        self._clock = clock
        self._jwks_keys: list[RsaPublicKey] = []
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._lock = threading.Lock()
        self.fetch_count = 0

    @classmethod
    def from_config(cls, section: dict[str, Any], **kwargs: Any) -> KeyRing:
        """From the ``KlinikaTokenFilter`` configuration section."""
        static = []
        for entry in section.get("PublicKeys") or []:
            if isinstance(entry, str):
                entry = {"pem": entry}
            static.append(load_pem_public_key(entry["pem"], entry.get("kid")))
        return cls(
            static,
            section.get("JwksUrl") or None,
            cache_seconds=float(section.get("JwksCacheSeconds", 300)),
            min_refresh_seconds=float(section.get("JwksMinRefreshSeconds", 10)),
            timeout_seconds=float(section.get("JwksTimeoutSeconds", 3)),
            **kwargs,
        )

    @property
    def configured(self) -> bool:
        return bool(self.static_keys or self.jwks_url)

    def keys_for(self, kid: str | None) -> list[RsaPublicKey]:
        """Keys whose kid matches; configured keys without a kid match every token."""
        found = self._matching(kid)
        if self.jwks_url and (self._stale() or (kid is not None and not found)):
            self._refresh(force=not self._stale())
            found = self._matching(kid)
        return found

    def _matching(self, kid: str | None) -> list[RsaPublicKey]:
        if kid is None:  # a token without kid: every configured PEM key may have signed it
            return list(self.static_keys)
        static = [k for k in self.static_keys if k.kid is None or k.kid == kid]
        return static + [k for k in self._jwks_keys if k.kid == kid]

    def _stale(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at > self.cache_seconds

    def _refresh(self, force: bool) -> None:
        with self._lock:
            now = self._clock()
            if (
                self._attempted_at is not None
                and now - self._attempted_at < self.min_refresh_seconds
            ):
                return
            if not force and not self._stale():
                return  # another thread refreshed while this one waited
            self._attempted_at = now
            self.fetch_count += 1
            try:
                keys = keys_from_jwks(self._fetch(self.jwks_url or "", self.timeout_seconds))
            except Exception as exc:  # noqa: BLE001 - any failure keeps the old keys
                logger.warning("JWKS fetch from %s failed: %s", self.jwks_url, exc)
                return
            self._jwks_keys = keys
            self._fetched_at = self._clock()
