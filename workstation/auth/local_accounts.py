"""Standalone mode: local accounts with the three roles, in the archive database.

The first start has no accounts; :meth:`LocalAccounts.create_first_admin` makes the
administrator and works only while the table is empty.  Failed logins back off: after
``LOCK_AFTER`` misses in a row the account waits ``LOCK_SECONDS`` (doubling each time).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from workstation.auth.clock import Clock, SystemClock
from workstation.auth.db import AuthDatabase
from workstation.auth.errors import (
    AccountDisabled,
    AccountExists,
    AccountLocked,
    AuthError,
    InvalidCredentials,
    UnknownAccount,
    WeakPassword,
)
from workstation.auth.passwords import hash_password, password_problem, verify_password
from workstation.auth.permissions import Role
from workstation.auth.schema import local_users
from workstation.i18n import _

logger = logging.getLogger(__name__)

LOCK_AFTER = 5
LOCK_SECONDS = 60.0
MAX_LOCK_SECONDS = 3600.0


@dataclass(frozen=True)
class LocalUser:
    id: int
    username: str
    role: Role
    disabled: bool
    created_at: float
    password_hash: str = ""

    @property
    def user_id(self) -> str:
        return f"local:{self.id}"


def _key(username: str) -> str:
    return username.strip().casefold()


def _valid_name(username: str) -> str:
    name = username.strip()
    if not name or len(name) > 128 or any(ch.isspace() or not ch.isprintable() for ch in name):
        raise AuthError(_("A user name needs 1 to 128 visible characters and no spaces."))
    return name


class LocalAccounts:
    def __init__(self, db: AuthDatabase, clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or SystemClock()

    # -- queries -----------------------------------------------------------------------
    def count(self) -> int:
        with self.db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(local_users)).scalar() or 0)

    def needs_first_admin(self) -> bool:
        """True on the first start: no local account exists yet."""
        return self.count() == 0

    def get(self, username: str) -> LocalUser | None:
        row = self._row(username)
        return _user(row) if row else None

    def list_users(self) -> list[LocalUser]:
        with self.db.read() as conn:
            rows = conn.execute(select(local_users).order_by(local_users.c.username_key)).mappings()
            return [_user(r, with_hash=False) for r in rows]

    # -- changes (the caller checks permissions: see user_admin.LocalUserAdmin) ---------
    def create_user(self, username: str, password: str, role: Role) -> LocalUser:
        name = _valid_name(username)
        problem = password_problem(password, name)
        if problem:
            raise WeakPassword(problem)
        now = self.clock.now()
        try:
            with self.db.write() as conn:
                inserted = conn.execute(
                    insert(local_users).values(
                        username=name,
                        username_key=_key(name),
                        password_hash=hash_password(password),
                        role=Role(role).value,
                        disabled=False,
                        failed_attempts=0,
                        locked_until=None,
                        created_at=now,
                        password_changed_at=now,
                    )
                ).inserted_primary_key
                assert inserted is not None
                new_id = inserted[0]
        except IntegrityError as exc:
            raise AccountExists(name) from exc
        logger.info("local account %s created (role %s)", new_id, role)
        return LocalUser(int(new_id), name, Role(role), False, now)

    def create_first_admin(self, username: str, password: str) -> LocalUser:
        """Make the first administrator; refused once any account exists."""
        if not self.needs_first_admin():
            raise AuthError(_("The first administrator already exists. Log in instead."))
        return self.create_user(username, password, Role.ADMIN)

    def set_role(self, username: str, role: Role) -> None:
        self._update(username, role=Role(role).value)

    def set_disabled(self, username: str, disabled: bool) -> None:
        self._update(username, disabled=disabled)

    def set_password(self, username: str, password: str) -> None:
        user = self._require(username)
        problem = password_problem(password, user.username)
        if problem:
            raise WeakPassword(problem)
        self._update(
            username,
            password_hash=hash_password(password),
            password_changed_at=self.clock.now(),
            failed_attempts=0,
            locked_until=None,
        )

    def admin_count(self) -> int:
        with self.db.read() as conn:
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(local_users)
                    .where(local_users.c.role == Role.ADMIN.value)
                    .where(local_users.c.disabled.is_(False))
                ).scalar()
                or 0
            )

    # -- login -------------------------------------------------------------------------
    def authenticate(self, username: str, password: str) -> LocalUser:
        """The user when the password is right; raises InvalidCredentials, AccountLocked,
        AccountDisabled otherwise.  Unknown names cost the same hash time as known ones."""
        user_row = self._row(username)
        now = self.clock.now()
        if user_row is None:
            verify_password(_dummy_hash(), password)
            raise InvalidCredentials()
        if user_row["locked_until"] and user_row["locked_until"] > now:
            raise AccountLocked()
        if not verify_password(user_row["password_hash"], password):
            self._count_failure(user_row, now)
            raise InvalidCredentials()
        if user_row["disabled"]:
            raise AccountDisabled()
        if user_row["failed_attempts"] or user_row["locked_until"]:
            self._update(username, failed_attempts=0, locked_until=None)
        return _user(user_row)

    def _count_failure(self, row: dict, now: float) -> None:
        failures = int(row["failed_attempts"]) + 1
        locked_until = None
        if failures >= LOCK_AFTER:
            steps = failures - LOCK_AFTER
            locked_until = now + min(LOCK_SECONDS * (2**steps), MAX_LOCK_SECONDS)
        self._update(row["username"], failed_attempts=failures, locked_until=locked_until)

    # -- helpers -----------------------------------------------------------------------
    def _row(self, username: str) -> dict | None:
        with self.db.read() as conn:
            row = (
                conn.execute(
                    select(local_users).where(local_users.c.username_key == _key(username))
                )
                .mappings()
                .first()
            )
        return dict(row) if row else None

    def _require(self, username: str) -> LocalUser:
        user = self.get(username)
        if user is None:
            raise UnknownAccount(username)
        return user

    def _update(self, username: str, **values: object) -> None:
        with self.db.write() as conn:
            n = conn.execute(
                update(local_users)
                .where(local_users.c.username_key == _key(username))
                .values(**values)
            ).rowcount
        if not n:
            raise UnknownAccount(username)


def _user(row: object, with_hash: bool = True) -> LocalUser:
    r = dict(row)  # type: ignore[call-overload]
    return LocalUser(
        id=int(r["id"]),
        username=r["username"],
        role=Role(r["role"]),
        disabled=bool(r["disabled"]),
        created_at=float(r["created_at"]),
        password_hash=r["password_hash"] if with_hash else "",
    )


@functools.cache
def _dummy_hash() -> str:
    return hash_password("timing-equaliser-not-a-real-password")
