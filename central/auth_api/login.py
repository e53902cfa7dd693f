"""Password (and TOTP) sign-in with lockout (see ``throttle``).

Attempts are counted per typed user name and source address, for real and unknown names
alike, so the answers and their timing do not tell which names exist.  Each attempt is
charged before the password is checked, so parallel guesses cannot get more than
``lockout_threshold`` evaluations before the lock; a success resets the count.

The argon2 check runs outside any database transaction, so on SQLite one slow hash does not
hold the write lock.  An unknown name (or one no user can have) is checked against a dummy
hash (same cost).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from klinika_auth import audit, denials, mfa, throttle
from klinika_auth import sessions as login_sessions
from klinika_auth.errors import ApiError
from klinika_auth.models import User, utcnow
from klinika_auth.services import Services

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoginOutcome:
    user: User
    issued: login_sessions.Issued


def normalise_username(name: str) -> str:
    return name.strip().lower()


def _invalid() -> ApiError:
    return ApiError(401, "invalid_credentials", "Wrong user name or password.")


def find_user(db: Session, name: str) -> User | None:
    """The user of a normalised name; names no user can have are not looked up (on
    PostgreSQL a NUL or an over-long name would be a database error)."""
    if not throttle.is_valid_username(name):
        return None
    return db.scalar(select(User).where(User.username == name))


def check_password_charged(
    db: Session,
    svc: Services,
    *,
    name: str,
    user: User | None,
    password: str,
    ip: str | None,
    action: str,
    outcome: str,
    wrong: ApiError | None = None,
) -> tuple[str, str, int]:
    """Charge an attempt (429 while locked, audited), check ``password`` against the
    user's hash (a dummy one for ``None``), and on a wrong password count the failure,
    audit it and raise ``wrong`` (default 401 ``invalid_credentials``).  Returns the
    throttle row's key, source and the attempt number (for ``refund``/``reset``)."""
    key, source = throttle.throttle_key(name), throttle.source_key(ip)
    actor = user.username if user else None
    stored = user.password_hash if user else None
    db.commit()  # no read transaction stays open across the charge and the slow hash
    try:
        attempt = throttle.charge(db, svc.settings, key, source)
    except ApiError as locked:
        denials.record(
            action, actor=actor, ip=ip, details={"reason": "locked"}, limit_key=(key, source)
        )
        locked.audited = True
        raise
    if not svc.hasher.verify(stored, password):
        reason = "bad_password" if user else "unknown_user"
        throttle.record_failure(
            db,
            svc.settings,
            key,
            source,
            attempt=attempt,
            action=action,
            outcome=outcome,
            actor=actor,
            source_ip=ip,
            reason=reason,
        )
        refusal = wrong or _invalid()
        refusal.audited = True
        raise refusal
    return key, source, attempt


def authenticate(
    db: Session, svc: Services, username: str, password: str, totp: str | None, ip: str | None
) -> LoginOutcome:
    name = normalise_username(username)
    user = find_user(db, name)
    key, source, attempt = check_password_charged(
        db, svc, name=name, user=user, password=password, ip=ip,
        action="auth.login", outcome="failure",
    )  # fmt: skip
    assert user is not None
    user = db.get(User, user.id, with_for_update={"of": User}, populate_existing=True) or user
    if user.disabled:
        throttle.refund(db, svc.settings, key, source)
        audit.append(
            db, action="auth.login", outcome="denied", actor=name, source_ip=ip,
            details={"reason": "disabled"},
        )  # fmt: skip
        db.commit()
        err = ApiError(403, "account_disabled", "This account is disabled; ask an administrator.")
        err.audited = True
        raise err
    if user.totp_enabled:
        if not totp:
            throttle.refund(db, svc.settings, key, source)
            db.commit()
            raise ApiError(
                401, "mfa_required", "Enter the 6-digit code from your authenticator app."
            )
        if not mfa.check_code(user, totp):
            db.commit()
            throttle.record_failure(
                db,
                svc.settings,
                key,
                source,
                attempt=attempt,
                action="auth.login",
                outcome="failure",
                actor=user.username,
                source_ip=ip,
                reason="bad_totp",
            )
            err = ApiError(
                401, "invalid_totp", "The authenticator code is wrong or was already used."
            )
            err.audited = True
            raise err
    elif svc.settings.require_mfa_for_admins and user.role.name == "admin":
        throttle.refund(db, svc.settings, key, source)
        db.commit()
        raise ApiError(
            403,
            "mfa_enrollment_required",
            "Administrators must use two-factor sign-in. Enrol an authenticator app with the "
            "enrollment_token (POST /auth/mfa/setup, then /auth/mfa/confirm), then sign in again.",
            enrollment_token=svc.tokens.enrollment_token(username=user.username, user_id=user.id),
        )
    throttle.reset(db, key, source)
    return _succeed(db, svc, user, password, ip)


def _succeed(db: Session, svc: Services, user: User, password: str, ip: str | None) -> LoginOutcome:
    now = utcnow()
    if svc.hasher.needs_rehash(user.password_hash):
        user.password_hash = svc.hasher.hash(password)
    user.last_login_at = now
    issued = login_sessions.start(db, user, svc.settings, ip)
    audit.append(
        db,
        action="auth.login",
        actor=user.username,
        source_ip=ip,
        details={"session": issued.session.id, "mfa": user.totp_enabled},
    )
    db.commit()
    logger.info("user id %d signed in (session %s)", user.id, issued.session.id)
    return LoginOutcome(user=user, issued=issued)
