"""``SideStore``: a store of another package's own tables in the archive database.

The viewer's annotations and the reports live beside the archive's index, each with its
own Alembic lineage.  This base opens (or borrows) the engine, prepares the
``BEGIN IMMEDIATE`` writer and brings the subclass's schema up to date once.
"""

from __future__ import annotations

from typing import Any, Self

from sqlalchemy.engine import Engine


class SideStore:
    """Subclasses name their schema upgrade; safe to share between threads."""

    def __init__(self, engine: Engine, *, owns_engine: bool = False) -> None:
        from workstation.storage.engine import write_engine

        self._engine = engine
        # Writes take SQLite's write lock up front (BEGIN IMMEDIATE), as the archive's do:
        # a deferred transaction that reads first fails at once with "database is locked"
        # when another writer got in between.
        self._writer = write_engine(engine)
        self._owns_engine = owns_engine
        self.upgrade_schema(engine)

    @staticmethod
    def upgrade_schema(engine: Engine) -> None:
        """Bring this store's tables to their newest revision."""
        raise NotImplementedError

    @classmethod
    def open(cls, settings: Any) -> Self:
        """The store in the archive database named by ``settings``."""
        from workstation.storage.engine import make_engine

        engine = make_engine(
            settings.database_url, sqlite_synchronous=settings.archive.sqlite_synchronous
        )
        return cls(engine, owns_engine=True)

    def close(self) -> None:
        if self._owns_engine:
            self._engine.dispose()
