"""The one SQLAlchemy engine factory: SQLite pragmas, ``BEGIN IMMEDIATE`` writers, PostgreSQL by URL.

SQLite runs in WAL mode with foreign keys on, a busy timeout, and the ``synchronous``
level the caller names (the archive passes ``archive.sqlite_synchronous``, default FULL:
in WAL mode each commit is fsynced, so an instance we acknowledged survives a power cut).

Write transactions on SQLite begin with ``BEGIN IMMEDIATE``; reads stay deferred.  A
deferred transaction that has read and then writes must upgrade its lock, and in WAL mode
that upgrade fails at once with "database is locked" (SQLITE_BUSY, no busy-timeout wait)
when another connection committed after the read - so two writers on one file (the index
writer, the sync queue, the viewer's tables, a second process) would lose writes at
random.  ``BEGIN IMMEDIATE`` takes the write lock first, waiting up to the busy timeout,
and a transaction holding it cannot lose it.  Every writer therefore runs on
:func:`write_engine` (``with write_engine(engine).begin() as conn: ...``); readers use
the engine itself (``engine.connect()``).  On PostgreSQL the option changes nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

SQLITE_BUSY_TIMEOUT_MS = 30_000
#: Execution option of write connections (see :func:`write_engine`).
WRITE_OPTION = "klinika_write"
_SYNCHRONOUS = {"OFF", "NORMAL", "FULL", "EXTRA"}


def make_engine(url: str, *, sqlite_synchronous: str = "FULL") -> Engine:
    """An engine for ``url`` with our SQLite pragmas applied to every connection."""
    if url.startswith("sqlite"):
        sync = sqlite_synchronous.upper()
        if sync not in _SYNCHRONOUS:
            raise ValueError(f"SQLite synchronous must be one of {sorted(_SYNCHRONOUS)}")
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            pool_size=8,
            max_overflow=8,
        )
        _install_sqlite_pragmas(engine, sync)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=8, max_overflow=8)


def write_engine(engine: Engine) -> Engine:
    """The same engine (same pool) for write transactions: ``BEGIN IMMEDIATE`` on SQLite."""
    if engine.get_execution_options().get(WRITE_OPTION):
        return engine
    return engine.execution_options(**{WRITE_OPTION: True})


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
        # Writers take the write lock up front (see the module docstring); readers do not
        # (WAL readers never block the writer nor each other).
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        # Straight to the driver: this runs for every transaction, reads included, and
        # SQLAlchemy's statement machinery would cost more than the BEGIN itself.
        conn.connection.driver_connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
