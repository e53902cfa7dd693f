"""API errors: one exception type, answered as JSON ``{"error": code, "message": text}``.

``error`` is a stable machine code clients translate; ``message`` is English a person can
act on.  Extra keys (``problems``, ``retry_after``) carry details.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra
        self.headers: dict[str, str] = {}
        self.audited = False  # True when the raiser already wrote the audit event

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, **self.extra}


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"No {what} with that id exists.")


def unauthorized(
    message: str = "Sign in first: send 'Authorization: Bearer <access token>'.",
) -> ApiError:
    err = ApiError(401, "unauthorized", message)
    err.headers["WWW-Authenticate"] = 'Bearer realm="klinika"'
    return err
