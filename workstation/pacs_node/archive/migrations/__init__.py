"""Alembic migrations of the archive index (run programmatically on open)."""
