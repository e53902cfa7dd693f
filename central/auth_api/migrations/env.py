"""Alembic environment: always given a live connection by ``klinika_auth.db.migrate``."""

from __future__ import annotations

from alembic import context

from klinika_auth.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `central-auth migrate`, which supplies the database")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
