"""Alembic environment of the auth tables; run through ``workstation.auth.db.migrate``."""

from __future__ import annotations

from alembic import context

from workstation.auth.schema import metadata

VERSION_TABLE = "alembic_version_auth"

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    include_name=lambda name, type_, _parent: type_ != "table" or str(name).startswith("auth_"),
)
with context.begin_transaction():
    context.run_migrations()
