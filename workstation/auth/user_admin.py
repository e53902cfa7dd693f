"""Managing users: through the central admin API, or local accounts in standalone mode.

Both implementations check :data:`Permission.USERS_MANAGE` on every call and audit every
change; the admin screen talks only to the :class:`UserAdmin` protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from workstation.auth.audit import AuditAction, AuditLog
from workstation.auth.errors import AuthError
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
        self._audit(AuditAction.USER_CREATE, user.username, role=user.role.value)
        return UserInfo(user.username, user.role, False, False, user.user_id)

    @requires(Permission.USERS_MANAGE)
    def set_role(self, username: str, role: Role) -> None:
        self._keep_an_admin(username, demoting=Role(role) is not Role.ADMIN)
        self.accounts.set_role(username, role)
        self._audit(AuditAction.USER_UPDATE, username, role=Role(role).value)

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

    def _audit(self, action: AuditAction, target: str, **detail: object) -> None:
        self.audit.record(action, session=self.session, target=target, **detail)
