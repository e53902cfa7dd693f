"""Tables the auth engine keeps in the archive database (SQLAlchemy Core).

They live beside the archive's tables but are migrated by their own Alembic chain
(version table ``alembic_version_auth``, scripts in ``workstation/auth/migrations``), so
the auth and archive schemas evolve independently.  All names start with ``auth_``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

_SeqType = BigInteger().with_variant(Integer, "sqlite")

#: Standalone mode: local accounts (argon2id hashes).
local_users = Table(
    "auth_local_users",
    metadata,
    Column("id", _SeqType, primary_key=True, autoincrement=True),
    Column("username", String(128), nullable=False),
    #: Case-folded name: one account per name regardless of case.
    Column("username_key", String(128), nullable=False, unique=True),
    Column("password_hash", String(256), nullable=False),
    Column("role", String(16), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("failed_attempts", Integer, nullable=False, default=0),
    Column("locked_until", Float, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("password_changed_at", Float, nullable=False),
    sqlite_autoincrement=True,
)

#: The local audit log: append-only (triggers refuse UPDATE and DELETE), hash-chained.
audit_events = Table(
    "auth_audit_events",
    metadata,
    Column("seq", _SeqType, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("occurred_at", String(32), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("role", String(16), nullable=False),
    Column("action", String(64), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("study_uid", String(64), nullable=True),
    Column("detail", Text, nullable=False),
    Column("workstation", String(128), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_auth_audit_events_action", "action"),
    Index("ix_auth_audit_events_study_uid", "study_uid"),
    Index("ix_auth_audit_events_occurred_at", "occurred_at"),
    sqlite_autoincrement=True,
)

#: How far each forwarding target has confirmed the log (by ``seq``).
audit_forward = Table(
    "auth_audit_forward",
    metadata,
    Column("target", String(200), primary_key=True),
    Column("last_seq", BigInteger, nullable=False),
    Column("updated_at", Float, nullable=False),
)
