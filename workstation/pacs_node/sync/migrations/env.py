"""Alembic environment of the sync queue's own tables (see ``sync/schema.py``)."""

from __future__ import annotations

from workstation.pacs_node.sync.schema import VERSION_TABLE, metadata
from workstation.storage.migrate import run_lineage_migrations

run_lineage_migrations(metadata, VERSION_TABLE)
