"""Where the DICOMweb client gets its bearer token.

The login code (``workstation.auth``) supplies the real provider: it refreshes the access
token before expiry and keeps tokens in the OS keyring.  :class:`StaticTokenProvider`
serves scripts and tests that already hold a token.

A provider may also have ``renewal_problem() -> str``: why it cannot renew the token
right now ("" when it can), e.g. the auth API is unreachable.  A 401/403 then says so
instead of "log in again".
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class TokenProvider(Protocol):
    def access_token(self) -> str | None:
        """A currently valid access token, or None to call without one."""
        ...

    def token_rejected(self, token: str) -> None:
        """The server refused ``token`` (401, or 403 from Orthanc's filter): refresh it
        (or forget it) before the next call."""
        ...


class StaticTokenProvider:
    """A fixed token (or none); a 401 cannot be repaired."""

    def __init__(self, token: str | None = None) -> None:
        self._token = token or None

    def access_token(self) -> str | None:
        return self._token

    def token_rejected(self, token: str) -> None:
        return None

    def renewal_problem(self) -> str:
        return ""
