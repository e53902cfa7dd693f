"""User administration (permission ``users.manage``); every change is audited."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from klinika_auth import passwords, throttle
from klinika_auth import sessions as login_sessions
from klinika_auth.api.common import audit_by_caller, body, user_json
from klinika_auth.errors import ApiError, not_found
from klinika_auth.login import normalise_username
from klinika_auth.models import IssuedCertificate, Report, Role, User, utcnow
from klinika_auth.rbac import current, require
from klinika_auth.services import db, services

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _role(session: Session, name: str) -> Role:
    role = session.scalar(select(Role).where(Role.name == name))
    if role is None:
        known = ", ".join(session.scalars(select(Role.name).order_by(Role.name)))
        raise ApiError(400, "unknown_role", f"There is no such role; use one of: {known}.")
    return role


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id, with_for_update={"of": User})
    if user is None:
        raise not_found("user")
    return user


def _audit(action: str, target: User, **details: Any) -> None:
    audit_by_caller(db(), action, {"user_id": target.id, "username": target.username, **details})


def _guard_last_admin(session: Session, user: User) -> None:
    """Refuse a change that would leave no enabled administrator."""
    if user.role.name != "admin" or user.disabled:
        return
    admins = session.scalar(
        select(func.count(User.id)).join(Role).where(Role.name == "admin", User.disabled.is_(False))
    )
    if (admins or 0) <= 1:
        raise ApiError(
            409, "last_admin", "This is the last enabled administrator; make another admin first."
        )


def create_user(session: Session, username: str, password: str, role_name: str) -> User:
    """Validate and add a user (shared with ``central-auth create-admin``; caller commits)."""
    name = normalise_username(username)
    if session.scalar(select(User.id).where(User.username == name)) is not None:
        raise ApiError(409, "username_taken", "That user name is already taken.")
    svc = services()
    passwords.enforce_policy(password, name, svc.settings.password_min_length)
    now = utcnow()
    user = User(
        username=name,
        password_hash=svc.hasher.hash(password),
        role=_role(session, role_name),
        disabled=False,
        totp_enabled=False,
        created_at=now,
        updated_at=now,
        password_changed_at=now,
    )
    session.add(user)
    session.flush()
    return user


@bp.get("/roles")
@require("users.manage")
def list_roles() -> Any:
    roles = db().scalars(select(Role).order_by(Role.name))
    return {
        "roles": [
            {"name": r.name, "description": r.description, "permissions": r.permission_names}
            for r in roles
        ]
    }


@bp.get("/users")
@require("users.manage")
def list_users() -> Any:
    users = db().scalars(select(User).order_by(User.username))
    return {"users": [user_json(u) for u in users]}


@bp.post("/users")
@require("users.manage")
def add_user() -> Any:
    data = body()
    session = db()
    user = create_user(session, data["username"], data["password"], data["role"])
    _audit("user.created", user, role=user.role.name)
    session.commit()
    return user_json(user), 201


@bp.get("/users/<id:user_id>")
@require("users.manage")
def get_user(user_id: int) -> Any:
    user = db().get(User, user_id)
    if user is None:
        raise not_found("user")
    return user_json(user)


@bp.patch("/users/<id:user_id>")
@require("users.manage")
def change_user(user_id: int) -> Any:
    data, session = body(), db()
    user = _user(session, user_id)
    changes: dict[str, Any] = {}
    if "role" in data and data["role"] != user.role.name:
        _guard_last_admin(session, user)
        changes["role"] = [user.role.name, data["role"]]
        user.role = _role(session, data["role"])
    if "disabled" in data and data["disabled"] != user.disabled:
        if data["disabled"]:
            if user.id == current().user.id:
                raise ApiError(409, "self_disable", "You cannot disable your own account.")
            _guard_last_admin(session, user)
        changes["disabled"] = data["disabled"]
        user.disabled = data["disabled"]
    if changes:
        user.updated_at = utcnow()
        revoked = login_sessions.revoke_all(session, user.id, "account_changed")
        _audit("user.updated", user, changes=changes, sessions_revoked=revoked)
        session.commit()
    return user_json(user)


@bp.delete("/users/<id:user_id>")
@require("users.manage")
def delete_user(user_id: int) -> Any:
    session = db()
    user = _user(session, user_id)
    if user.id == current().user.id:
        raise ApiError(409, "self_delete", "You cannot delete your own account.")
    _guard_last_admin(session, user)
    if session.scalar(select(Report.id).where(Report.author_id == user.id).limit(1)):
        raise ApiError(
            409,
            "user_has_reports",
            "This user authored reports, which must keep their author; disable the user instead.",
        )
    if session.scalar(
        select(IssuedCertificate.id).where(IssuedCertificate.user_id == user.id).limit(1)
    ):
        raise ApiError(
            409,
            "user_has_certificates",
            "The clinic CA issued this user certificates, which must keep their holder; "
            "disable the user instead.",
        )
    _audit("user.deleted", user)
    session.delete(user)
    session.commit()
    return "", 204


@bp.post("/users/<id:user_id>/password")
@require("users.manage")
def reset_password(user_id: int) -> Any:
    data, session, svc = body(), db(), services()
    user = _user(session, user_id)
    passwords.enforce_policy(data["new_password"], user.username, svc.settings.password_min_length)
    user.password_hash = svc.hasher.hash(data["new_password"])
    user.password_changed_at = user.updated_at = utcnow()
    revoked = login_sessions.revoke_all(session, user.id, "password_reset")
    _audit("user.password_reset", user, sessions_revoked=revoked)
    session.commit()
    return "", 204


@bp.post("/users/<id:user_id>/mfa-reset")
@require("users.manage")
def reset_mfa(user_id: int) -> Any:
    session = db()
    user = _user(session, user_id)
    user.totp_secret = None
    user.totp_enabled = False
    user.totp_last_step = None
    user.updated_at = utcnow()
    revoked = login_sessions.revoke_all(session, user.id, "mfa_reset")
    _audit("user.mfa_reset", user, sessions_revoked=revoked)
    session.commit()
    return user_json(user)


@bp.post("/users/<id:user_id>/unlock")
@require("users.manage")
def unlock_user(user_id: int) -> Any:
    """Lift the sign-in locks and counts of the user's name, from every address."""
    session = db()
    user = _user(session, user_id)
    cleared = throttle.unlock(session, user.username)
    _audit("user.unlocked", user, throttle_rows=cleared)
    session.commit()
    return user_json(user)
