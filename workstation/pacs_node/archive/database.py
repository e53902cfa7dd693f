"""The index database: engine set-up (SQLite pragmas, PostgreSQL by URL) and migrations.

SQLite (the default) runs in WAL mode with foreign keys on, a busy timeout, and the
``synchronous`` level from ``archive.sqlite_synchronous`` (default FULL: in WAL mode each
commit is fsynced, so an instance we acknowledged survives a power cut).  PostgreSQL is
used when ``archive.database_url`` names it (``postgresql+psycopg://...``).

The schema is owned by Alembic; :func:`upgrade_schema` runs on every open and brings any
older index to ``head``.  New revisions go in ``migrations/versions/`` beside this file.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from workstation.pacs_node.archive.errors import MigrationError

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
_SYNCHRONOUS = {"OFF", "NORMAL", "FULL", "EXTRA"}


def make_engine(url: str, *, sqlite_synchronous: str = "FULL") -> Engine:
    """An engine for ``url`` with our SQLite pragmas applied to every connection."""
    if url.startswith("sqlite"):
        sync = sqlite_synchronous.upper()
        if sync not in _SYNCHRONOUS:
            raise MigrationError(
                f"archive.sqlite_synchronous must be one of {sorted(_SYNCHRONOUS)}"
            )
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            pool_size=8,
            max_overflow=8,
        )
        _install_sqlite_pragmas(engine, sync)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=8, max_overflow=8)


def make_scratch_engine(url: str) -> Engine:
    """A pool-less engine for one-off work (migrations)."""
    return create_engine(url, poolclass=NullPool)


def _install_sqlite_pragmas(engine: Engine, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # The driver must not open transactions on its own; SQLAlchemy emits BEGIN.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.execute("PRAGMA cache_size=-32768")
        # Search keys are folded to upper case already; a case-sensitive LIKE is faster
        # and matches DICOM (attribute matching is case-sensitive except for names).
        cur.execute("PRAGMA case_sensitive_like=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE for writers would serialise readers too; plain BEGIN is enough because
        # all writes of one process go through one writer thread, and the busy timeout
        # covers other processes.
        conn.exec_driver_sql("BEGIN")


def upgrade_schema(engine: Engine) -> None:
    """Run Alembic migrations up to head on ``engine``'s database."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "workstation.pacs_node.archive:migrations")
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except Exception as exc:
        logger.error("archive schema migration failed: %s", type(exc).__name__)
        logger.debug("migration failure", exc_info=True)
        raise MigrationError(f"the archive index could not be migrated: {exc}") from exc


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
