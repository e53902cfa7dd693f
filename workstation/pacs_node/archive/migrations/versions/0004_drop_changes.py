"""drop the ``changes`` table: nothing read it and nothing pruned it

Subscribers learn of changes from ``Archive.subscribe`` (in process, after each commit);
the table only grew by a row per study touched.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_changes_study_instance_uid"))
    op.drop_table("changes")


def downgrade() -> None:
    """The table as 0001 made it, empty (there is nothing to restore)."""
    uid_columns = ("study_instance_uid", "series_instance_uid")
    op.create_table(
        "changes",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("change_type", sa.String(32), nullable=False),
        *(sa.Column(name, sa.String(64), nullable=False) for name in uid_columns),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index(op.f("ix_changes_study_instance_uid"), "changes", ["study_instance_uid"])
