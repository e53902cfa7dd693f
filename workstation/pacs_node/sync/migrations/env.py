"""Alembic environment of the sync queue's own tables (see ``sync/schema.py``)."""

from __future__ import annotations

from alembic import context

from workstation.pacs_node.sync.schema import VERSION_TABLE, metadata

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
