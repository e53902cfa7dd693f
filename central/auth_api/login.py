"""Password (and TOTP) sign-in with lockout.

Failed attempts are counted per typed user name, for real and unknown names alike, so the
answers and their timing do not tell which names exist.  After ``lockout_threshold``
failures in a row the name is locked for ``lockout_base_seconds``, doubling with every
further failure up to ``lockout_max_seconds``; a success resets the count.

The argon2 check runs outside any database transaction, so on SQLite one slow hash does not
hold the write lock.  An unknown name is checked against a dummy hash (same cost).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from klinika_auth import audit, mfa
from klinika_auth import sessions as login_sessions
from klinika_auth.errors import ApiError
from klinika_auth.models import LoginThrottle, User, utcnow
from klinika_auth.services import Services

logger = logging.getLogger(__name__)

THROTTLE_FORGET = dt.timedelta(days=1)


@dataclass(frozen=True)
class LoginOutcome:
    user: User
    issued: login_sessions.Issued


def normalise_username(name: str) -> str:
    return name.strip().lower()


def _invalid() -> ApiError:
    return ApiError(401, "invalid_credentials", "Wrong user name or password.")


def _locked(until: dt.datetime, now: dt.datetime) -> ApiError:
    seconds = max(1, math.ceil((until - now).total_seconds()))
    err = ApiError(
        429,
        "account_locked",
        f"Too many failed sign-in attempts. Try again in {seconds} seconds.",
        retry_after=seconds,
    )
    err.headers["Retry-After"] = str(seconds)
    return err


def lock_seconds(failures: int, svc: Services) -> int:
    s = svc.settings
    if failures < s.lockout_threshold:
        return 0
    exponent = min(failures - s.lockout_threshold, 30)
    return min(s.lockout_base_seconds * 2**exponent, s.lockout_max_seconds)


def _record_failure(
    db: Session, svc: Services, name: str, user: User | None, reason: str, ip: str | None
) -> None:
    now = utcnow()
    for attempt in range(2):
        try:
            row = db.get(LoginThrottle, name, with_for_update=True)
            if row is None:
                row = LoginThrottle(username=name, failures=0)
                db.add(row)
            row.failures += 1
            row.last_failure_at = now
            seconds = lock_seconds(row.failures, svc)
            row.locked_until = now + dt.timedelta(seconds=seconds) if seconds else None
            db.execute(
                delete(LoginThrottle).where(
                    LoginThrottle.last_failure_at < now - THROTTLE_FORGET,
                    LoginThrottle.username != name,
                )
            )
            audit.append(
                db,
                action="auth.login",
                outcome="failure",
                actor=user.username if user else None,
                source_ip=ip,
                details={"reason": reason, "failures": row.failures},
            )
            db.commit()
            return
        except IntegrityError:  # a concurrent first failure for the same name
            db.rollback()
            if attempt:
                raise


def authenticate(
    db: Session, svc: Services, username: str, password: str, totp: str | None, ip: str | None
) -> LoginOutcome:
    name = normalise_username(username)
    now = utcnow()
    throttle = db.get(LoginThrottle, name)
    if throttle and throttle.locked_until and throttle.locked_until > now:
        db.commit()
        raise _locked(throttle.locked_until, now)
    user = db.scalar(select(User).where(User.username == name))
    stored = user.password_hash if user else None
    db.commit()  # end the read transaction before the slow hash

    if not svc.hasher.verify(stored, password):
        _record_failure(db, svc, name, user, "bad_password" if user else "unknown_user", ip)
        raise _invalid()
    assert user is not None
    user = db.get(User, user.id, with_for_update={"of": User}, populate_existing=True) or user
    if user.disabled:
        audit.append(
            db, action="auth.login", outcome="failure", actor=name, source_ip=ip,
            details={"reason": "disabled"},
        )  # fmt: skip
        db.commit()
        raise ApiError(403, "account_disabled", "This account is disabled; ask an administrator.")
    if user.totp_enabled:
        if not totp:
            db.commit()
            raise ApiError(
                401, "mfa_required", "Enter the 6-digit code from your authenticator app."
            )
        if not mfa.check_code(user, totp):
            db.commit()
            _record_failure(db, svc, name, user, "bad_totp", ip)
            raise ApiError(
                401, "invalid_totp", "The authenticator code is wrong or was already used."
            )
    elif svc.settings.require_mfa_for_admins and user.role.name == "admin":
        db.commit()
        raise ApiError(
            403,
            "mfa_enrollment_required",
            "Administrators must use two-factor sign-in. Enrol an authenticator app with the "
            "enrollment_token (POST /auth/mfa/setup, then /auth/mfa/confirm), then sign in again.",
            enrollment_token=svc.tokens.enrollment_token(username=user.username, user_id=user.id),
        )
    return _succeed(db, svc, user, password, ip)


def _succeed(db: Session, svc: Services, user: User, password: str, ip: str | None) -> LoginOutcome:
    now = utcnow()
    db.execute(delete(LoginThrottle).where(LoginThrottle.username == user.username))
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
