"""Local accounts, the append-only hash-chained audit log, the forwarding cursor.

Revision ID: auth_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "auth_0001"
down_revision = None
branch_labels = None
depends_on = None

_Seq = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "auth_local_users",
        sa.Column("id", _Seq, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(128), nullable=False),
        sa.Column("username_key", sa.String(128), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("failed_attempts", sa.Integer, nullable=False),
        sa.Column("locked_until", sa.Float, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("password_changed_at", sa.Float, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "auth_audit_events",
        sa.Column("seq", _Seq, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("occurred_at", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("study_uid", sa.String(64), nullable=True),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("workstation", sa.String(128), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_auth_audit_events_action", "auth_audit_events", ["action"])
    op.create_index("ix_auth_audit_events_study_uid", "auth_audit_events", ["study_uid"])
    op.create_index("ix_auth_audit_events_occurred_at", "auth_audit_events", ["occurred_at"])
    op.create_table(
        "auth_audit_forward",
        sa.Column("target", sa.String(200), primary_key=True),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    _append_only_triggers()


def _append_only_triggers() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER auth_audit_events_no_{verb.lower()} "
                f"BEFORE {verb} ON auth_audit_events "
                "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION auth_audit_events_append_only() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'the audit log is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER auth_audit_events_append_only "
            "BEFORE UPDATE OR DELETE ON auth_audit_events "
            "FOR EACH ROW EXECUTE FUNCTION auth_audit_events_append_only()"
        )
        op.execute(
            "CREATE TRIGGER auth_audit_events_no_truncate "
            "BEFORE TRUNCATE ON auth_audit_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION auth_audit_events_append_only()"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS auth_audit_events_no_truncate ON auth_audit_events")
        op.execute("DROP TRIGGER IF EXISTS auth_audit_events_append_only ON auth_audit_events")
        op.execute("DROP FUNCTION IF EXISTS auth_audit_events_append_only()")
    op.drop_table("auth_audit_forward")
    op.drop_table("auth_audit_events")
    op.drop_table("auth_local_users")
