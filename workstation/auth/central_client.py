"""HTTP client of the central auth API: login, refresh, logout, me, and authorised calls
(admin and audit endpoints) for the rest of the workstation.

Every network failure becomes :class:`CentralUnavailable`; every answer is size-capped;
every token that comes back is verified against the JWKS before it is used.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import requests

from workstation.auth.errors import (
    AccountDisabled,
    AccountLocked,
    CentralError,
    CentralStorageFull,
    CentralUnavailable,
    InvalidCredentials,
    MfaEnrollmentRequired,
    MfaRequired,
)
from workstation.auth.session import TokenSet
from workstation.auth.tokens import MAX_JWKS_BYTES, TokenVerifier
from workstation.i18n import _

logger = logging.getLogger(__name__)

DEFAULT_ISSUER = "klinika-central"
DEFAULT_AUDIENCE = "klinika"
MAX_RESPONSE_BYTES = 8 * 1024 * 1024
#: Gateway answers mean "the auth API is down", like a refused connection.
_UNREACHABLE_STATUS = {502, 503, 504}
#: The central's database or disk is full: nothing was kept, try again later.
HTTP_INSUFFICIENT_STORAGE = 507


class CentralAuthClient:
    """Talks to one central auth API at ``base_url`` (no trailing slash needed)."""

    def __init__(
        self,
        base_url: str,
        *,
        verify_tls: bool = True,
        ca_bundle: str = "",
        timeout: float = 30.0,
        issuer: str = DEFAULT_ISSUER,
        audience: str = DEFAULT_AUDIENCE,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._http = requests.Session()
        self._http.verify = ca_bundle or verify_tls
        self._http.headers["Accept"] = "application/json"
        self.verifier = TokenVerifier(self._fetch_jwks, issuer=issuer, audience=audience)

    @classmethod
    def from_settings(cls, settings: Any) -> CentralAuthClient:
        c = settings.central
        return cls(
            c.auth_url,
            verify_tls=c.verify_tls,
            ca_bundle=c.ca_bundle,
            timeout=min(c.timeout_seconds, 30.0),
            issuer=getattr(c, "token_issuer", DEFAULT_ISSUER),
            audience=getattr(c, "token_audience", DEFAULT_AUDIENCE),
        )

    def close(self) -> None:
        self._http.close()

    # -- low level ---------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json: Any = None,
        params: dict[str, Any] | None = None,
        data: bytes | None = None,
        content_type: str = "",
    ) -> requests.Response:
        """One HTTP call; network trouble and 502-504 raise :class:`CentralUnavailable`,
        a full disk there (507) :class:`CentralStorageFull`.
        ``data`` with ``content_type`` sends raw bytes (e.g. an RFC 3161 query)."""
        url = f"{self.base_url}/{path.lstrip('/')}"
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            resp = self._http.request(
                method,
                url,
                json=json,
                data=data,
                params=params,
                headers=headers,
                timeout=self.timeout,
                stream=True,
                allow_redirects=False,
            )
            body = resp.raw.read(MAX_RESPONSE_BYTES + 1, decode_content=True)
        except requests.RequestException as exc:
            logger.warning("central %s %s unreachable: %s", method, path, type(exc).__name__)
            raise CentralUnavailable(self.base_url, type(exc).__name__) from exc
        if len(body) > MAX_RESPONSE_BYTES:
            raise CentralError(resp.status_code, "response too large")
        resp._content = body
        if resp.status_code in _UNREACHABLE_STATUS:
            raise CentralUnavailable(self.base_url, f"HTTP {resp.status_code}")
        if resp.status_code == HTTP_INSUFFICIENT_STORAGE:
            logger.warning("central %s %s: its disk is full (HTTP 507)", method, path)
            raise CentralStorageFull(self.base_url, resp.headers.get("Retry-After", ""))
        return resp

    def _fetch_jwks(self) -> dict[str, Any]:
        resp = self.request("GET", "/.well-known/jwks.json")
        if resp.status_code != 200 or len(resp.content) > MAX_JWKS_BYTES:
            raise CentralError(resp.status_code, "JWKS not available")
        data = resp.json()
        return data if isinstance(data, dict) else {}

    # -- auth endpoints ------------------------------------------------------------------
    def login(self, username: str, password: str, totp: str | None = None) -> TokenSet:
        body: dict[str, Any] = {"username": username, "password": password}
        if totp:
            body["totp"] = totp
        resp = self.request("POST", "/auth/login", json=body)
        if resp.status_code != 200:
            raise _login_error(resp)
        return self._token_set(resp)

    def refresh(self, refresh_token: str) -> TokenSet:
        resp = self.request("POST", "/auth/refresh", json={"refresh_token": refresh_token})
        if resp.status_code != 200:
            raise _login_error(resp)
        return self._token_set(resp, fallback_refresh=refresh_token)

    def logout(self, tokens: TokenSet) -> None:
        resp = self.request(
            "POST",
            "/auth/logout",
            token=tokens.access_token,
            json={"refresh_token": tokens.refresh_token},
        )
        if resp.status_code >= 400 and resp.status_code != 401:
            logger.warning("central logout answered HTTP %s", resp.status_code)

    def me(self, access_token: str) -> dict[str, Any]:
        resp = self.request("GET", "/auth/me", token=access_token)
        if resp.status_code != 200:
            raise _login_error(resp)
        data = resp.json()
        return data if isinstance(data, dict) else {}

    def _token_set(self, resp: requests.Response, fallback_refresh: str = "") -> TokenSet:
        try:
            data = resp.json()
            access = str(data["access_token"])
        except (ValueError, KeyError, TypeError) as exc:
            raise CentralError(resp.status_code, "malformed login answer") from exc
        claims = self.verifier.verify(access)
        refresh = str(data.get("refresh_token") or fallback_refresh)
        return TokenSet(
            access_token=access,
            refresh_token=refresh,
            expires_at=float(claims.get("exp", time.time() + 60)),
            claims=claims,
        )


def _error_code(resp: requests.Response) -> str:
    """The central's machine code (``{"error": code, "message": text}``), lower case."""
    try:
        data = resp.json()
    except ValueError:
        return ""
    return str(data.get("error") or "").lower() if isinstance(data, dict) else ""


def _login_error(resp: requests.Response) -> Exception:
    code = _error_code(resp)
    status = resp.status_code
    if code == "mfa_required":
        return MfaRequired()
    if code == "invalid_totp":
        return InvalidCredentials(_("The authenticator code is wrong or was already used."))
    if code == "mfa_enrollment_required":
        return MfaEnrollmentRequired()
    if code == "account_disabled":
        return AccountDisabled()
    if status == 429 or code == "account_locked":
        return AccountLocked(_retry_message(resp))
    if status in (400, 401, 403):
        return InvalidCredentials()
    return CentralError(status)


def _retry_message(resp: requests.Response) -> str:
    try:
        seconds = int(resp.headers.get("Retry-After", ""))
    except ValueError:
        return ""
    return _("Too many failed attempts. Try again in {seconds} seconds.").format(seconds=seconds)
