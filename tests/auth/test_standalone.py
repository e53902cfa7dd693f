"""Standalone mode: local accounts in the archive database, first admin, lockout,
user management guarded by the role."""

from __future__ import annotations

import pytest

from workstation.auth.audit import AuditAction, AuditLog
from workstation.auth.authenticator import Authenticator
from workstation.auth.clock import ManualClock
from workstation.auth.errors import (
    AccountDisabled,
    AccountExists,
    AccountLocked,
    AuthError,
    InvalidCredentials,
    PermissionDenied,
    WeakPassword,
)
from workstation.auth.keyring_store import SecretStore
from workstation.auth.local_accounts import LOCK_AFTER, LOCK_SECONDS, LocalAccounts
from workstation.auth.permissions import Permission, Role
from workstation.auth.session import SessionMode
from workstation.auth.user_admin import LocalUserAdmin


@pytest.fixture
def auth(audit: AuditLog, secret_store: SecretStore, clock: ManualClock) -> Authenticator:
    return Authenticator(
        audit=audit, store=secret_store, local=LocalAccounts(audit.db, clock), clock=clock
    )


def test_first_start_asks_for_the_admin_once(auth: Authenticator, audit: AuditLog) -> None:
    assert auth.standalone and auth.needs_first_admin()
    session = auth.create_first_admin("Chief", "correct horse 1")
    assert session.role is Role.ADMIN and session.mode is SessionMode.STANDALONE
    assert not auth.needs_first_admin()
    with pytest.raises(AuthError):
        auth.create_first_admin("mallory", "another pass 2")
    actions = [e.action for e in audit.events()]
    assert actions == [AuditAction.USER_CREATE, AuditAction.LOGIN]


def test_login_roles_and_failures(auth: Authenticator, audit: AuditLog) -> None:
    admin = auth.create_first_admin("chief", "correct horse 1")
    users = LocalUserAdmin(admin, auth.local, audit)  # type: ignore[arg-type]
    users.create_user("olga", "operator pass 1", Role.OPERATOR)
    users.create_user("dmitri", "doctor pass 1", Role.DOCTOR)
    with pytest.raises(AccountExists):
        users.create_user("OLGA", "whatever pass 1", Role.DOCTOR)
    with pytest.raises(WeakPassword):
        users.create_user("weak", "short", Role.DOCTOR)

    op = auth.login("Olga", "operator pass 1")
    assert op.role is Role.OPERATOR and op.can(Permission.STUDY_IMPORT)
    assert not op.can(Permission.REPORT_WRITE)
    doc = auth.login("dmitri", "doctor pass 1")
    assert doc.can(Permission.REPORT_WRITE) and not doc.can(Permission.STUDY_DELETE)

    with pytest.raises(InvalidCredentials):
        auth.login("dmitri", "wrong")
    with pytest.raises(InvalidCredentials):
        auth.login("nobody", "wrong")
    failed = audit.events(action=AuditAction.LOGIN_FAILED)
    assert [e.actor for e in failed] == ["dmitri", "nobody"]
    assert all(e.outcome == "failure" for e in failed)

    # an operator cannot manage users, in the engine, whatever the UI shows
    with pytest.raises(PermissionDenied):
        LocalUserAdmin(op, auth.local, audit).create_user(  # type: ignore[arg-type]
            "eve", "sneaky pass 1", Role.ADMIN
        )
    assert [u.username for u in users.list_users()] == ["chief", "dmitri", "olga"]

    users.set_disabled("olga", True)
    with pytest.raises(AccountDisabled):
        auth.login("olga", "operator pass 1")
    with pytest.raises(AuthError):
        users.set_role("chief", Role.DOCTOR)  # the last admin stays an admin
    users.reset_password("dmitri", "new doctor pass 2")
    assert auth.login("dmitri", "new doctor pass 2").role is Role.DOCTOR


def test_repeated_failures_back_off(auth: Authenticator, clock: ManualClock) -> None:
    auth.create_first_admin("chief", "correct horse 1")
    for _ in range(LOCK_AFTER):
        with pytest.raises(InvalidCredentials):
            auth.login("chief", "nope")
    with pytest.raises(AccountLocked):
        auth.login("chief", "correct horse 1")
    clock.advance(LOCK_SECONDS + 1)
    assert auth.login("chief", "correct horse 1").role is Role.ADMIN


def test_lock_and_unlock(auth: Authenticator, audit: AuditLog) -> None:
    session = auth.create_first_admin("chief", "correct horse 1")
    auth.lock(session)
    assert session.locked and not session.can(Permission.STUDY_VIEW)
    with pytest.raises(InvalidCredentials):
        auth.unlock(session, "guess")
    auth.unlock(session, "correct horse 1")
    assert not session.locked and session.can(Permission.STUDY_VIEW)
    auth.logout(session)
    assert not session.active
    actions = [e.action for e in audit.events()][-5:]
    assert actions == ["login", "lock", "unlock_failed", "unlock", "logout"]
