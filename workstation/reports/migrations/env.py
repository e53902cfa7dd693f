"""Alembic environment of the reports' table: its own lineage in the archive database
(version table ``reports_alembic_version``)."""

from __future__ import annotations

from workstation.reports.store_schema import VERSION_TABLE, metadata
from workstation.storage.migrate import run_lineage_migrations

run_lineage_migrations(metadata, VERSION_TABLE)
