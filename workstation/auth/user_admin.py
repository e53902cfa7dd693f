"""Managing users: through the central admin API, or local accounts in standalone mode.

Both implementations check :data:`Permission.USERS_MANAGE` on every call and audit every
change; the admin screen talks only to the :class:`UserAdmin` protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from workstation.auth.audit import AuditAction, AuditLog
from workstation.auth.central_client import CentralAuthClient
from workstation.auth.errors import AuthError, CentralError, UnknownAccount, WeakPassword
from workstation.auth.local_accounts import LocalAccounts
from workstation.auth.permissions import Permission, Role, requires
from workstation.auth.session import Session
from workstation.i18n import _


@dataclass(frozen=True)
class UserInfo:
    username: str
    role: Role
    disabled: bool = False
    mfa_enabled: bool = False
    user_id: str = ""


class UserAdmin(Protocol):
    session: Session

    def list_users(self) -> list[UserInfo]: ...
    def create_user(self, username: str, password: str, role: Role) -> UserInfo: ...
    def set_role(self, username: str, role: Role) -> None: ...
    def set_disabled(self, username: str, disabled: bool) -> None: ...
    def reset_password(self, username: str, password: str) -> None: ...


class LocalUserAdmin:
    """Standalone mode: local accounts in the archive database."""

    def __init__(self, session: Session, accounts: LocalAccounts, audit: AuditLog) -> None:
        self.session = session
        self.accounts = accounts
        self.audit = audit

    @requires(Permission.USERS_MANAGE)
    def list_users(self) -> list[UserInfo]:
        return [
            UserInfo(u.username, u.role, u.disabled, False, u.user_id)
            for u in self.accounts.list_users()
        ]

    @requires(Permission.USERS_MANAGE)
    def create_user(self, username: str, password: str, role: Role) -> UserInfo:
        user = self.accounts.create_user(username, password, role)
        self._audit(AuditAction.USER_CREATE, user.username, new_role=user.role.value)
        return UserInfo(user.username, user.role, False, False, user.user_id)

    @requires(Permission.USERS_MANAGE)
    def set_role(self, username: str, role: Role) -> None:
        self._keep_an_admin(username, demoting=Role(role) is not Role.ADMIN)
        self.accounts.set_role(username, role)
        self._audit(AuditAction.USER_UPDATE, username, new_role=Role(role).value)

    @requires(Permission.USERS_MANAGE)
    def set_disabled(self, username: str, disabled: bool) -> None:
        self._keep_an_admin(username, demoting=disabled)
        self.accounts.set_disabled(username, disabled)
        self._audit(AuditAction.USER_UPDATE, username, disabled=disabled)

    @requires(Permission.USERS_MANAGE)
    def reset_password(self, username: str, password: str) -> None:
        self.accounts.set_password(username, password)
        self._audit(AuditAction.USER_UPDATE, username, password_reset=True)

    def _keep_an_admin(self, username: str, demoting: bool) -> None:
        user = self.accounts.get(username)
        last_admin = (
            demoting
            and user is not None
            and user.role is Role.ADMIN
            and not user.disabled
            and self.accounts.admin_count() <= 1
        )
        if last_admin:
            raise AuthError(_("The last administrator cannot be demoted or disabled."))

    def _audit(self, action: AuditAction, target: str, **detail: Any) -> None:
        self.audit.record(action, session=self.session, target=target, **detail)


class CentralUserAdmin:
    """Central mode: the central admin API (``/admin/users``), with the session's token.

    The central enforces ``users.manage`` too; we check first so the refusal is the same
    everywhere and no request is made for nothing."""

    def __init__(
        self, session: Session, client: CentralAuthClient, token: Callable[[], str | None]
    ) -> None:
        self.session = session
        self.client = client
        self._token = token

    def _call(self, method: str, path: str, json: Any = None) -> Any:
        resp = self.client.request(method, path, token=self._token(), json=json)
        if resp.status_code >= 400:
            raise _admin_error(resp)
        return resp.json() if resp.content else None

    def _id(self, username: str) -> int:
        for user in self._call("GET", "/admin/users").get("users", []):
            if str(user.get("username", "")).casefold() == username.strip().casefold():
                return int(user["id"])
        raise UnknownAccount(username)

    @requires(Permission.USERS_MANAGE)
    def list_users(self) -> list[UserInfo]:
        return [_central_user(u) for u in self._call("GET", "/admin/users").get("users", [])]

    @requires(Permission.USERS_MANAGE)
    def create_user(self, username: str, password: str, role: Role) -> UserInfo:
        data = self._call(
            "POST",
            "/admin/users",
            {"username": username, "password": password, "role": Role(role).value},
        )
        return _central_user(data)

    @requires(Permission.USERS_MANAGE)
    def set_role(self, username: str, role: Role) -> None:
        self._call("PATCH", f"/admin/users/{self._id(username)}", {"role": Role(role).value})

    @requires(Permission.USERS_MANAGE)
    def set_disabled(self, username: str, disabled: bool) -> None:
        self._call("PATCH", f"/admin/users/{self._id(username)}", {"disabled": bool(disabled)})

    @requires(Permission.USERS_MANAGE)
    def reset_password(self, username: str, password: str) -> None:
        self._call(
            "POST", f"/admin/users/{self._id(username)}/password", {"new_password": password}
        )

    @requires(Permission.USERS_MANAGE)
    def reset_mfa(self, username: str) -> None:
        self._call("POST", f"/admin/users/{self._id(username)}/mfa-reset")


def _central_user(data: dict[str, Any]) -> UserInfo:
    return UserInfo(
        username=str(data.get("username", "")),
        role=Role(str(data.get("role", "operator"))),
        disabled=bool(data.get("disabled")),
        mfa_enabled=bool(data.get("mfa_enabled")),
        user_id=str(data.get("id", "")),
    )


_ADMIN_ERRORS = {
    "username_taken": lambda: _("That user name is already taken."),
    "last_admin": lambda: _("The last administrator cannot be demoted or disabled."),
    "self_disable": lambda: _("You cannot disable your own account."),
}


def _admin_error(resp: Any) -> AuthError:
    try:
        data = resp.json()
    except ValueError:
        data = {}
    code = str(data.get("error", "")) if isinstance(data, dict) else ""
    if code == "weak_password":
        problems = " ".join(str(p) for p in data.get("problems", []))
        return WeakPassword(
            _("The central server refused the password: {problems}").format(problems=problems)
        )
    if code in _ADMIN_ERRORS:
        return AuthError(_ADMIN_ERRORS[code]())
    if resp.status_code == 403:
        return AuthError(_("The central server refused: your account may not manage users."))
    server_text = str(data.get("message", "")) if isinstance(data, dict) else ""
    return CentralError(resp.status_code, server_text)
