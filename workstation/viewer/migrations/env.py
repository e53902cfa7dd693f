"""Alembic environment of the viewer's own tables (annotations, key images).

A separate lineage in the archive's database: its own version table
(``viewer_alembic_version``), so archive and viewer migrations never share a head.
"""

from __future__ import annotations

from workstation.storage.migrate import run_lineage_migrations
from workstation.viewer.store_schema import VERSION_TABLE, metadata

run_lineage_migrations(metadata, VERSION_TABLE)
