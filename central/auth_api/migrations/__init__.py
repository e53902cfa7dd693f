"""Alembic migrations of the central auth database (run by ``central-auth`` at start)."""
