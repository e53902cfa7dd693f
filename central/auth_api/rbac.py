"""The one place permissions are checked: the ``require`` decorator.

``require("users.manage")`` on a view: the request must carry a valid access token of an
enabled user whose session is not revoked, and the user's *current* role (read from the
database, so a role change or disable takes effect at once) must grant the permission.
``require()`` with no permission admits any signed-in user.  The permission is recorded on
the view (``view.required_permission``) so the OpenAPI test can compare it with the
document's ``x-permission``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import jwt
from flask import g, request
from sqlalchemy import select

from klinika_auth.errors import ApiError, unauthorized
from klinika_auth.models import LoginSession, User
from klinika_auth.permissions import PERMISSIONS
from klinika_auth.services import db, services
from klinika_auth.tokens import ENROLL_TYP

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Principal:
    user: User
    session_id: str | None
    claims: dict[str, Any]

    @property
    def username(self) -> str:
        return self.user.username

    @property
    def permissions(self) -> list[str]:
        return self.user.role.permission_names


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate(*, enrollment: bool = False) -> Principal:
    token = bearer_token()
    if token is None:
        raise unauthorized()
    claims = services().tokens.verify(token, enrollment=enrollment)
    user = db().get(User, claims["uid"])
    if user is None or user.username != claims["sub"]:
        raise unauthorized("The account of this token no longer exists.")
    if user.disabled:
        raise unauthorized("This account is disabled; ask an administrator.")
    sid = claims.get("sid")
    if not enrollment:
        session = db().scalar(select(LoginSession).where(LoginSession.id == str(sid)))
        if session is None or session.revoked_at is not None or session.user_id != user.id:
            raise unauthorized("This session has ended (signed out or revoked); sign in again.")
    return Principal(user=user, session_id=sid, claims=claims)


def require(permission: str | None = None, *, allow_enrollment: bool = False) -> Callable[[F], F]:
    if permission is not None and permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}; add it to klinika_auth.permissions")

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = _principal(allow_enrollment)
            g.principal = principal  # also names the actor when the refusal is audited
            if permission is not None and permission not in principal.permissions:
                raise ApiError(
                    403,
                    "forbidden",
                    f"Your role ({principal.user.role.name}) lacks the permission "
                    f"'{permission}'; ask an administrator.",
                    permission=permission,
                )
            return view(*args, **kwargs)

        wrapper.required_permission = permission  # type: ignore[attr-defined]
        wrapper.requires_auth = True  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def _principal(allow_enrollment: bool) -> Principal:
    if allow_enrollment:
        try:
            typ = jwt.get_unverified_header(bearer_token() or "").get("typ")
        except jwt.InvalidTokenError:
            typ = None
        if typ == ENROLL_TYP:
            return authenticate(enrollment=True)
    return authenticate()


def current() -> Principal:
    return g.principal
