"""Alembic environment of the sync queue's own tables (see ``sync/schema.py``)."""

from __future__ import annotations

from workstation.pacs_node.archive.migrate import run_lineage_migrations
from workstation.pacs_node.sync.schema import VERSION_TABLE, metadata

run_lineage_migrations(metadata, VERSION_TABLE)
