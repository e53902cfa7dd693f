"""Login against the real central auth API over HTTP (the ``auth_api`` harness):
roles, refresh, logout, MFA, offline login after the central stops and its expiry,
online-only without a keyring, audit forwarding, user admin, and no secret on disk."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest

from tests.auth.conftest import MemoryKeyring
from workstation.auth.audit import AuditAction, AuditLog
from workstation.auth.audit_forwarder import AuditForwarder, central_poster
from workstation.auth.authenticator import Authenticator
from workstation.auth.central_client import CentralAuthClient
from workstation.auth.clock import ManualClock
from workstation.auth.errors import (
    CentralUnavailable,
    InvalidCredentials,
    MfaRequired,
    OfflineLoginUnavailable,
    PermissionDenied,
    SessionExpired,
)
from workstation.auth.keyring_store import SecretStore
from workstation.auth.permissions import Permission, Role
from workstation.auth.session import SessionMode
from workstation.auth.token_provider import SessionTokenProvider
from workstation.auth.user_admin import CentralUserAdmin

pytestmark = pytest.mark.network


def _auth(url: str, audit: AuditLog, store: SecretStore, clock: ManualClock, days: int = 7):
    client = CentralAuthClient(url, timeout=10)
    return Authenticator(
        audit=audit, store=store, central=client, clock=clock, offline_login_days=days
    )


@pytest.fixture
def central(
    auth_api: Any, audit: AuditLog, secret_store: SecretStore, clock: ManualClock
) -> Iterator[Authenticator]:
    auth = _auth(auth_api.url, audit, secret_store, clock)
    yield auth
    auth.close()


@pytest.mark.parametrize("role", ["admin", "doctor", "operator"])
def test_each_role_logs_in_with_its_permissions(
    auth_api: Any, central: Authenticator, role: str
) -> None:
    name, password = (
        (auth_api.admin_username, auth_api.admin_password)
        if role == "admin"
        else auth_api.user_for(role)
    )
    session = central.login(name, password)
    assert session.mode is SessionMode.CENTRAL and session.role is Role(role)
    assert session.tokens is not None and session.tokens.claims["role"] == role
    assert session.can(Permission.STUDY_VIEW)
    assert session.can(Permission.REPORT_WRITE) is (role in ("admin", "doctor"))
    assert session.can(Permission.STUDY_IMPORT) is (role in ("admin", "operator"))
    assert session.can(Permission.USERS_MANAGE) is (role == "admin")
    central.logout(session)


def test_refresh_logout_and_revocation(
    auth_api: Any, central: Authenticator, memory_keyring: MemoryKeyring, audit: AuditLog
) -> None:
    name, password = auth_api.user_for("doctor")
    session = central.login(name, password)
    first = session.tokens
    assert first is not None
    # tokens and the offline verifier sit in the keyring, nowhere else
    stored = "\n".join(memory_keyring.secrets.values())
    assert first.refresh_token in stored and password not in stored
    provider = SessionTokenProvider(central, session)
    assert provider.access_token() == first.access_token
    provider.token_rejected(first.access_token)  # a 401: refresh once
    second = session.tokens
    assert second is not None and second.refresh_token != first.refresh_token
    assert provider.access_token() == second.access_token
    central.logout(session)
    assert provider.access_token() is None
    assert not any(second.refresh_token in v for v in memory_keyring.secrets.values())
    with pytest.raises(InvalidCredentials):
        central.central.refresh(second.refresh_token)  # type: ignore[union-attr]
    with pytest.raises(SessionExpired):
        central.refresh_now(_revived(session, second))
    assert [e.action for e in audit.events()][-2:] == ["login", "logout"]


def _revived(session: Any, tokens: Any) -> Any:
    session.active = True
    session.replace_tokens(tokens)
    return session


def test_wrong_password_is_refused_and_audited(
    auth_api: Any, central: Authenticator, audit: AuditLog
) -> None:
    name, _password = auth_api.user_for("operator")
    with pytest.raises(InvalidCredentials):
        central.login(name, "not-the-password")
    event = audit.events(action=AuditAction.LOGIN_FAILED)[-1]
    assert event.actor == name and event.outcome == "failure"


def test_totp_is_asked_for_when_enabled(auth_api: Any, central: Authenticator) -> None:
    name, password = f"mfa-{secrets.token_hex(3)}", "Mfa-" + secrets.token_urlsafe(16)
    auth_api.create_user(name, password, "doctor")
    token = auth_api.login(name, password)["access_token"]
    secret = auth_api.request(
        "POST", "/auth/mfa/setup", token=token, json={"password": password}
    ).json()["secret"]
    totp = pyotp.TOTP(secret)
    confirmed = auth_api.request(
        "POST", "/auth/mfa/confirm", token=token, json={"totp": totp.now()}
    )
    assert confirmed.status_code == 200
    with pytest.raises(MfaRequired):
        central.login(name, password)
    with pytest.raises(InvalidCredentials):
        central.login(name, password, totp="000000" if totp.now() != "000000" else "111111")
    # the code of the next 30 s step: the one confirmed above cannot be replayed
    next_step = int(time.time() // 30) + 1
    session = central.login(name, password, totp=totp.generate_otp(next_step))
    assert session.role is Role.DOCTOR


def test_offline_login_after_the_central_stops_until_it_expires(
    auth_api_factory: Any, audit: AuditLog, secret_store: SecretStore, clock: ManualClock
) -> None:
    server = auth_api_factory(name="auth_api_offline")
    name, password = server.user_for("doctor")
    auth = _auth(server.url, audit, secret_store, clock, days=3)
    auth.logout(auth.login(name, password))
    server.stop()
    with pytest.raises(CentralUnavailable):
        auth.login(name, password, allow_offline=False)
    offline = auth.login(name, password)
    assert offline.mode is SessionMode.OFFLINE and offline.role is Role.DOCTOR
    assert offline.tokens is None and offline.can(Permission.REPORT_WRITE)
    with pytest.raises(InvalidCredentials):
        auth.login(name, "wrong-" + password)
    with pytest.raises(OfflineLoginUnavailable, match="central server"):
        auth.login("someone-else", password)  # never logged in here
    clock.advance(2.9 * 86400)
    assert auth.login(name, password).mode is SessionMode.OFFLINE
    clock.advance(0.2 * 86400)
    with pytest.raises(OfflineLoginUnavailable, match="expired"):
        auth.login(name, password)
    auth.close()


def test_without_keyring_online_only_and_no_offline_login(
    auth_api_factory: Any, audit: AuditLog, no_keyring_store: SecretStore, clock: ManualClock
) -> None:
    server = auth_api_factory(name="auth_api_nokeyring")
    name, password = server.user_for("operator")
    auth = _auth(server.url, audit, no_keyring_store, clock)
    assert auth.online_only
    session = auth.login(name, password)
    assert session.online_only and session.tokens is not None
    auth.logout(session)
    server.stop()
    with pytest.raises(OfflineLoginUnavailable, match="keyring"):
        auth.login(name, password)
    auth.close()


def test_audit_reaches_the_central_once(
    auth_api: Any, central: Authenticator, audit: AuditLog
) -> None:
    name, password = auth_api.user_for("operator")
    session = central.login(name, password)
    audit.record(AuditAction.STUDY_OPEN, session=session, study_uid="1.2.840.99.1")
    provider = SessionTokenProvider(central, session)
    assert central.central is not None
    fwd = AuditForwarder(
        audit, central_poster(central.central, provider.access_token), target=auth_api.url
    )
    sent = fwd.forward_pending()
    assert sent == audit.count() and fwd.pending() == 0
    ids = {e.event_id for e in audit.events()}
    # resending (a crash before the cursor moved) is harmless: the central dedupes
    post = central_poster(central.central, provider.access_token)
    post([e.as_json() for e in audit.events()])
    found = auth_api.request(
        "GET",
        "/audit/events",
        token=auth_api.admin_token(),
        params={"action": "workstation.study_open", "limit": 1000},
    ).json()["events"]
    mine = [e for e in found if e["client_event_id"] in ids]
    assert len(mine) == 1 and mine[0]["study_instance_uid"] == "1.2.840.99.1"
    central.logout(session)


def test_central_user_admin(auth_api: Any, central: Authenticator) -> None:
    admin = central.login(auth_api.admin_username, auth_api.admin_password)
    provider = SessionTokenProvider(central, admin)
    assert central.central is not None
    users = CentralUserAdmin(admin, central.central, provider.access_token)
    name = f"new-{secrets.token_hex(3)}"
    users.create_user(name, "Temp-" + secrets.token_urlsafe(16), Role.OPERATOR)
    users.set_role(name, Role.DOCTOR)
    users.set_disabled(name, True)
    listed = {u.username: u for u in users.list_users()}
    assert listed[name].role is Role.DOCTOR and listed[name].disabled
    op_name, op_password = auth_api.user_for("operator")
    operator = central.login(op_name, op_password)
    with pytest.raises(PermissionDenied):
        CentralUserAdmin(operator, central.central, lambda: operator.access_token).list_users()
    central.logout(operator)
    central.logout(admin)


def test_no_password_or_token_in_clear_on_disk(
    auth_api: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: ManualClock
) -> None:
    """A whole session (login, refresh, audit, logout) leaves no secret in any file under
    the data directory or the home directory."""
    from workstation.auth.db import AuthDatabase

    home, data = tmp_path / "home", tmp_path / "data"
    home.mkdir()
    data.mkdir()
    monkeypatch.setenv("HOME", str(home))
    db = AuthDatabase.open(f"sqlite:///{data / 'auth.sqlite3'}")
    log = AuditLog(db, clock=clock)
    auth = _auth(auth_api.url, log, SecretStore(MemoryKeyring()), clock)
    name, password = auth_api.user_for("doctor")
    with pytest.raises(InvalidCredentials):
        auth.login(name, password + "x")
    session = auth.login(name, password)
    secrets_seen = {password, password + "x"}
    tokens = session.tokens
    assert tokens is not None
    secrets_seen |= {tokens.access_token, tokens.refresh_token}
    tokens = auth.refresh_now(session)
    secrets_seen |= {tokens.access_token, tokens.refresh_token}
    auth.logout(session)
    auth.close()
    db.close()
    leaks = scan_for_secrets([home, data], secrets_seen)
    assert leaks == []
    assert any(p.is_file() for p in data.rglob("*"))  # the scan looked at real files


def scan_for_secrets(roots: list[Path], secrets_seen: set[str]) -> list[str]:
    needles = [s.encode() for s in secrets_seen if s]
    leaks = []
    for root in roots:
        for path in root.rglob("*"):
            if not path.is_file():
                continue
            blob = path.read_bytes()
            leaks += [f"{path}" for needle in needles if needle in blob]
    return leaks


def test_background_refresh_and_revocation_end_the_session(
    auth_api_factory: Any, audit: AuditLog, secret_store: SecretStore, clock: ManualClock
) -> None:
    """Short-lived tokens refresh by themselves; once an admin disables the user, the next
    refresh is refused and the session ends (listener called, audited)."""
    server = auth_api_factory(name="auth_api_short_tokens", access_token_seconds=12)
    name, password = server.user_for("doctor")
    auth = _auth(server.url, audit, secret_store, clock)
    ended: list[Any] = []
    auth.on_session_expired(ended.append)
    session = auth.login(name, password)
    first = session.access_token
    deadline = time.monotonic() + 30
    while session.access_token == first and time.monotonic() < deadline:
        time.sleep(0.2)
    assert session.access_token != first, "the token was not refreshed in the background"
    user_id = next(
        u["id"]
        for u in server.request("GET", "/admin/users", token=server.admin_token()).json()["users"]
        if u["username"] == name
    )
    disabled = server.request(
        "PATCH", f"/admin/users/{user_id}", token=server.admin_token(), json={"disabled": True}
    )
    assert disabled.status_code == 200
    deadline = time.monotonic() + 30
    while not ended and time.monotonic() < deadline:
        time.sleep(0.2)
    assert ended == [session] and session.tokens is None
    assert audit.events(action="session_expired")[-1].actor == name
    auth.close()
