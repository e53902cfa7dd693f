"""The auth engine's database (local accounts, audit log), and its migrations.

Decision (documented in the README): with the default SQLite archive the auth tables
live in their own file beside it, ``auth.sqlite3`` in the data directory.  SQLite lets
one writer at a time into a file, and the archive's index writer (and the DICOM node
behind it) must never lose a write because a login or an audit event got there first:
a write transaction that read before another connection committed fails at once with
"database is locked" instead of waiting.  With a PostgreSQL archive (row locks, no such
failure) the tables live in the archive database.  Either way they are migrated by their
own Alembic chain whose version table is ``alembic_version_auth``.

Writes that must be serialised across processes (the audit hash chain) run in
:meth:`AuthDatabase.write`: ``BEGIN IMMEDIATE`` on SQLite, a table lock on PostgreSQL.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, text

from workstation.storage.engine import make_engine, write_engine
from workstation.storage.migrate import ensure_schema

logger = logging.getLogger(__name__)

VERSION_TABLE = "alembic_version_auth"
AUTH_SCRIPTS = "workstation.auth:migrations"


def auth_database_url(settings: Any) -> str:
    """``auth.sqlite3`` in the data directory beside a SQLite archive; the archive's own
    database when that is PostgreSQL (see the module docstring)."""
    url = str(settings.database_url)
    if url.startswith("sqlite"):
        return f"sqlite:///{settings.home / 'auth.sqlite3'}"
    return url


class AuthDatabase:
    """A SQLAlchemy engine on the archive database, with the auth tables migrated."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str, *, sqlite_synchronous: str = "FULL") -> AuthDatabase:
        db = cls(make_engine(url, sqlite_synchronous=sqlite_synchronous))
        db.migrate()
        return db

    @classmethod
    def from_settings(cls, settings: Any) -> AuthDatabase:
        return cls.open(
            auth_database_url(settings), sqlite_synchronous=settings.archive.sqlite_synchronous
        )

    def close(self) -> None:
        self.engine.dispose()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    # -- transactions ------------------------------------------------------------------
    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self, lock_table: str | None = None) -> Iterator[Connection]:
        """A write transaction; other writers wait.  ``lock_table``: PostgreSQL table to
        lock against concurrent writers (SQLite's BEGIN IMMEDIATE locks the database)."""
        with write_engine(self.engine).connect() as conn, conn.begin():
            if lock_table and self.dialect == "postgresql":
                conn.execute(text(f"LOCK TABLE {lock_table} IN SHARE ROW EXCLUSIVE MODE"))
            yield conn

    # -- migrations --------------------------------------------------------------------
    def migrate(self) -> None:
        """Bring the auth tables to the head revision (a no-op query when already there):
        the same lineage runner as the archive's (:mod:`workstation.storage.migrate`)."""
        ensure_schema(self.engine, AUTH_SCRIPTS, VERSION_TABLE)
