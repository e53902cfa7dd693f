"""Sign-in endpoints: login, refresh, logout, me, own password, MFA enrolment."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from klinika_auth import audit, mfa, passwords, throttle
from klinika_auth import sessions as login_sessions
from klinika_auth.api.common import body, client_ip, user_json
from klinika_auth.errors import ApiError
from klinika_auth.login import LoginOutcome, authenticate, check_password_charged
from klinika_auth.models import LoginSession, User, utcnow
from klinika_auth.rbac import authenticate as authenticate_bearer
from klinika_auth.rbac import bearer_token, current, require
from klinika_auth.services import db, services

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _token_response(user: User, issued: login_sessions.Issued) -> dict[str, Any]:
    svc = services()
    perms = user.role.permission_names
    access = svc.tokens.access_token(
        username=user.username,
        user_id=user.id,
        role=user.role.name,
        perms=perms,
        session_id=issued.session.id,
    )
    refresh_in = int((issued.refresh_expires_at - utcnow()).total_seconds())
    return {
        "access_token": access,
        "refresh_token": issued.refresh_token,
        "token_type": "Bearer",
        "expires_in": svc.settings.access_token_seconds,
        "refresh_expires_in": max(refresh_in, 0),
        "role": user.role.name,
        "permissions": perms,
        "user": user_json(user),
    }


@bp.post("/login")
def login() -> Any:
    data = body()
    outcome: LoginOutcome = authenticate(
        db(), services(), data["username"], data["password"], data.get("totp"), client_ip()
    )
    return _token_response(outcome.user, outcome.issued)


@bp.post("/refresh")
def refresh() -> Any:
    session = db()
    try:
        user, issued = login_sessions.rotate(
            session, body()["refresh_token"], services().settings, client_ip()
        )
    except ApiError:
        session.commit()  # keep a reuse revocation and its audit event
        raise
    response = _token_response(user, issued)
    session.commit()
    return response


@bp.post("/logout")
def logout() -> Any:
    """Revoke the session of the bearer token and/or of the refresh token given."""
    session = db()
    data = body(optional=True) or {}
    ended: list[str] = []
    actor = None
    if bearer_token() is not None:
        principal = authenticate_bearer()
        actor = principal.username
        live = session.get(LoginSession, principal.session_id)
        if live is not None:
            login_sessions.revoke(session, live, "logout")
            ended.append(live.id)
    elif "refresh_token" not in data:
        raise ApiError(
            400,
            "nothing_to_revoke",
            "Send the access token as 'Authorization: Bearer ...' or a refresh_token to sign out.",
        )
    if "refresh_token" in data:
        live = login_sessions.find_by_refresh(session, data["refresh_token"])
        if live is not None and (actor is None or live.id in ended or _same_user(live, actor)):
            login_sessions.revoke(session, live, "logout")
            ended.append(live.id)
            actor = actor or session.get(User, live.user_id).username  # type: ignore[union-attr]
    if ended:
        audit.append(
            session,
            action="auth.logout",
            actor=actor,
            source_ip=client_ip(),
            details={"sessions": sorted(set(ended))},
        )
    session.commit()
    return "", 204


def _same_user(live: LoginSession, username: str) -> bool:
    user = db().get(User, live.user_id)
    return user is not None and user.username == username


@bp.get("/me")
@require()
def me() -> Any:
    p = current()
    return {
        **user_json(p.user),
        "permissions": p.permissions,
        "session_id": p.session_id,
        "token_expires_at": p.claims["exp"],
    }


def _check_own_password(password: str, action: str) -> None:
    """The signed-in user's password, throttled and audited like a sign-in: a stolen access
    token is no password oracle.  A success resets the count of this name and address."""
    svc, session, user = services(), db(), current().user
    key, source, _attempt = check_password_charged(
        session, svc, name=user.username, user=user, password=password, ip=client_ip(),
        action=action, outcome="denied",
        wrong=ApiError(403, "invalid_credentials", "The current password is wrong."),
    )  # fmt: skip
    throttle.reset(session, key, source)


@bp.post("/password")
@require()
def change_password() -> Any:
    data = body()
    svc, session, p = services(), db(), current()
    user = p.user
    _check_own_password(data["current_password"], "auth.password_change")
    try:
        passwords.enforce_policy(
            data["new_password"], user.username, svc.settings.password_min_length
        )
    except ApiError as err:
        session.rollback()
        audit.append(
            session, action="auth.password_change", outcome="denied", actor=user.username,
            source_ip=client_ip(), details={"reason": err.code},
        )  # fmt: skip
        session.commit()
        raise
    user = session.get(User, user.id, populate_existing=True) or user
    user.password_hash = svc.hasher.hash(data["new_password"])
    user.password_changed_at = user.updated_at = utcnow()
    others = login_sessions.revoke_all(session, user.id, "password_changed", keep=p.session_id)
    audit.append(
        session,
        action="auth.password_changed",
        actor=user.username,
        source_ip=client_ip(),
        details={"other_sessions_revoked": others},
    )
    session.commit()
    return "", 204


@bp.post("/mfa/setup")
@require(allow_enrollment=True)
def mfa_setup() -> Any:
    """A new TOTP secret; the password is asked again (a stolen token must not be enough
    to take over the second factor)."""
    data = body()
    user = current().user
    if user.totp_enabled:
        raise ApiError(
            409, "mfa_already_enabled", "Two-factor sign-in is already on; an admin can reset it."
        )
    _check_own_password(data["password"], "auth.mfa_setup")
    session = db()
    user = session.get(User, user.id, populate_existing=True) or user
    user.totp_secret = mfa.new_secret()
    user.totp_last_step = None
    user.updated_at = utcnow()
    uri = mfa.provisioning_uri(user.totp_secret, user.username, services().settings.mfa_issuer_name)
    audit.append(session, action="auth.mfa_setup", actor=user.username, source_ip=client_ip())
    session.commit()
    return {"secret": user.totp_secret, "otpauth_uri": uri}


@bp.post("/mfa/confirm")
@require(allow_enrollment=True)
def mfa_confirm() -> Any:
    session, user = db(), current().user
    if user.totp_enabled:
        raise ApiError(409, "mfa_already_enabled", "Two-factor sign-in is already on.")
    if not user.totp_secret:
        raise ApiError(409, "mfa_not_set_up", "Call POST /auth/mfa/setup first.")
    if not mfa.check_code(user, body()["totp"]):
        raise ApiError(400, "invalid_totp", "The code is wrong; check the phone's clock and retry.")
    user.totp_enabled = True
    user.updated_at = utcnow()
    audit.append(session, action="auth.mfa_enabled", actor=user.username, source_ip=client_ip())
    session.commit()
    return {"mfa_enabled": True}
