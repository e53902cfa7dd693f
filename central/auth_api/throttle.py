"""Sign-in throttling per (typed user name, source address).

Every password check (sign-in, own password change, MFA enrolment) is *charged* first:
one short transaction locks the throttle row (``SELECT ... FOR UPDATE`` on PostgreSQL;
on SQLite every write transaction is ``BEGIN IMMEDIATE``, which serialises), refuses
with 429 while the row is locked, else adds one to ``attempts`` and, at the threshold,
sets the lock.  Only then is the (slow, lock-free) argon2 check run.  So however many
guesses arrive in parallel, exactly ``lockout_threshold`` of them are evaluated before
the lock.  A wrong guess then adds one to ``failures`` under the same row lock, in the
transaction that writes its audit event, so the audited count never repeats or runs
backwards.  A success deletes the row (the count starts again).

Rows are per source address so that a stranger can lock a name only for themselves: the
owner signing in from elsewhere is not locked out.  Locks grow from
``lockout_base_seconds``, doubling per further failure, up to ``lockout_max_seconds``;
an administrator can lift them (``POST /admin/users/{id}/unlock``, ``central-auth unlock``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re

from sqlalchemy import delete, or_, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from klinika_auth import audit
from klinika_auth.errors import ApiError
from klinika_auth.models import LoginThrottle, utcnow
from klinika_auth.settings import Settings

FORGET_AFTER = dt.timedelta(days=1)
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
RETRIES = 3


def is_valid_username(name: str) -> bool:
    """Whether ``name`` (already normalised) can be a stored user name at all."""
    return USERNAME_RE.fullmatch(name) is not None


def throttle_key(name: str) -> str:
    """The row key of a typed name: itself when it could be a user name, else a digest
    (a name no user can have still gets counted, in a bounded, storable form)."""
    if is_valid_username(name):
        return name
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()
    return "#" + digest[:48]


def source_key(ip: str | None) -> str:
    return (ip or "-")[:64]


def lock_seconds(attempts: int, settings: Settings) -> int:
    if attempts < settings.lockout_threshold:
        return 0
    exponent = min(attempts - settings.lockout_threshold, 30)
    return int(min(settings.lockout_base_seconds * 2**exponent, settings.lockout_max_seconds))


def locked_error(until: dt.datetime, now: dt.datetime) -> ApiError:
    seconds = max(1, math.ceil((until - now).total_seconds()))
    err = ApiError(
        429,
        "account_locked",
        f"Too many failed sign-in attempts. Try again in {seconds} seconds.",
        retry_after=seconds,
    )
    err.headers["Retry-After"] = str(seconds)
    return err


def _row(db: Session, key: str, source: str) -> LoginThrottle | None:
    stmt = (
        select(LoginThrottle)
        .where(LoginThrottle.username == key, LoginThrottle.source == source)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return db.execute(stmt).scalar_one_or_none()


def _row_or_new(db: Session, key: str, source: str, now: dt.datetime) -> LoginThrottle:
    row = _row(db, key, source)
    if row is None:
        row = LoginThrottle(
            username=key, source=source, attempts=0, failures=0, last_failure_at=now
        )
        db.add(row)
        db.flush()  # a concurrent first attempt makes this raise IntegrityError
    return row


def charge(db: Session, settings: Settings, key: str, source: str) -> int:
    """Charge one attempt before a password is checked; its number, or 429 when locked.

    Commits.  The attempt that reaches the threshold sets the lock at once (so parallel
    attempts are refused); its failure, once checked, restarts the lock from then."""
    for retry in range(RETRIES):
        now = utcnow()
        try:
            row = _row_or_new(db, key, source, now)
            if row.locked_until is not None and row.locked_until > now:
                until = row.locked_until
                db.commit()
                raise locked_error(until, now)
            row.attempts += 1
            row.last_failure_at = now
            seconds = lock_seconds(row.attempts, settings)
            row.locked_until = now + dt.timedelta(seconds=seconds) if seconds else None
            number = row.attempts
            db.commit()
            return number
        except IntegrityError:  # a concurrent first attempt for the same row
            db.rollback()
            if retry == RETRIES - 1:
                raise
    raise AssertionError("unreachable")


def record_failure(
    db: Session,
    settings: Settings,
    key: str,
    source: str,
    *,
    attempt: int,
    action: str,
    outcome: str,
    actor: str | None,
    source_ip: str | None,
    reason: str,
) -> int:
    """Count a wrong guess and write its audit event (``reason``, the failure count and
    ``attempt`` in its details) in one transaction; the count."""
    for retry in range(RETRIES):
        now = utcnow()
        try:
            row = _row_or_new(db, key, source, now)
            row.failures += 1
            row.attempts = max(row.attempts, row.failures)
            row.last_failure_at = now
            seconds = lock_seconds(row.attempts, settings)
            if seconds:  # the lock runs from the failure, however long its check took
                until = now + dt.timedelta(seconds=seconds)
                row.locked_until = max(row.locked_until or until, until)
            details = {"reason": reason, "failures": row.failures, "attempt": attempt}
            audit.append(
                db, action=action, outcome=outcome, actor=actor, source_ip=source_ip,
                details=details,
            )  # fmt: skip
            failures = row.failures
            _forget_stale(db, now)
            db.commit()
            return failures
        except IntegrityError:
            db.rollback()
            if retry == RETRIES - 1:
                raise
    raise AssertionError("unreachable")


def _forget_stale(db: Session, now: dt.datetime) -> None:
    """Drop rows idle for a day; rows another transaction holds are skipped, never waited
    for (no lock cycles between concurrent sign-ins)."""
    stale = (
        select(LoginThrottle.username, LoginThrottle.source)
        .where(
            LoginThrottle.last_failure_at < now - FORGET_AFTER,
            or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < now),
        )
        .limit(100)
        .with_for_update(skip_locked=True)
    )
    db.execute(
        delete(LoginThrottle).where(tuple_(LoginThrottle.username, LoginThrottle.source).in_(stale))
    )


def refund(db: Session, settings: Settings, key: str, source: str) -> None:
    """Give back a charged attempt that checked no secret wrongly (e.g. the password was
    right but a TOTP code is still needed).  The caller commits."""
    row = _row(db, key, source)
    if row is None or row.attempts <= 0:
        return
    row.attempts -= 1
    if lock_seconds(row.attempts, settings) == 0:
        row.locked_until = None


def reset(db: Session, key: str, source: str) -> None:
    """A success: forget the counts of this name from this address (the caller commits)."""
    db.execute(
        delete(LoginThrottle).where(LoginThrottle.username == key, LoginThrottle.source == source)
    )


def unlock(db: Session, name: str) -> int:
    """Lift every lock and count of a user name (admin action); rows removed.  The caller
    commits."""
    result = db.execute(delete(LoginThrottle).where(LoginThrottle.username == throttle_key(name)))
    return int(getattr(result, "rowcount", 0) or 0)
