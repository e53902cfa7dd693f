"""SQLite/PostgreSQL plumbing shared by every store: one engine factory, cheap Alembic
lineage upgrades and the base of the stores that live beside the archive's index.

It sits below the engine packages (``pacs_node``, ``auth``, ``viewer``, ``reports``) so
that each can keep its own tables without importing another's; it imports nothing of
``workstation``.
"""
