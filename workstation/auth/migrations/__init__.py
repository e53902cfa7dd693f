"""Alembic chain of the auth tables (version table ``alembic_version_auth``)."""
