"""The archive index database: its Alembic lineage and schema upgrades.

The engine comes from :func:`workstation.storage.engine.make_engine` (the one factory:
SQLite pragmas, ``BEGIN IMMEDIATE`` writers, PostgreSQL by URL); ``archive.database_url``
names PostgreSQL (``postgresql+psycopg://...``) when it is not the embedded SQLite file,
and ``archive.sqlite_synchronous`` sets SQLite's ``synchronous`` level.

The schema is owned by Alembic; :func:`upgrade_schema` brings an older index to ``head``
(and costs one small query when it is current).  New revisions go in
``migrations/versions/`` beside this file.
"""

from __future__ import annotations

import logging

from sqlalchemy.engine import Engine

from workstation.pacs_node.archive.errors import MigrationError

# The one engine factory (re-exported: the archive's callers open the index through here).
from workstation.storage.engine import make_engine, make_scratch_engine, write_engine

logger = logging.getLogger(__name__)

__all__ = [
    "ARCHIVE_SCRIPTS",
    "current_revision",
    "make_engine",
    "make_scratch_engine",
    "upgrade_schema",
    "write_engine",
]

ARCHIVE_SCRIPTS = "workstation.pacs_node.archive:migrations"


def upgrade_schema(engine: Engine) -> bool:
    """Bring the archive index to head (one small query when it is current already).

    Returns True when migrations ran.
    """
    from workstation.storage.migrate import ensure_schema

    try:
        return ensure_schema(engine, ARCHIVE_SCRIPTS)
    except Exception as exc:
        logger.error("archive schema migration failed: %s", type(exc).__name__)
        logger.debug("migration failure", exc_info=True)
        raise MigrationError(f"the archive index could not be migrated: {exc}") from exc


def current_revision(engine: Engine) -> str | None:
    from workstation.storage.migrate import current_revisions

    revisions = current_revisions(engine, "alembic_version")
    return next(iter(sorted(revisions))) if revisions else None
