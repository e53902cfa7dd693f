"""Alembic environment of the viewer's own tables (annotations, key images).

A separate lineage in the archive's database: its own version table
(``viewer_alembic_version``), so archive and viewer migrations never share a head.
"""

from __future__ import annotations

from alembic import context

from workstation.viewer.store_schema import VERSION_TABLE, metadata

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
