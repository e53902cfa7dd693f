"""Revision 0004 (after 0003): drop the ``changes`` table, which nothing read or pruned.

Subscribers learn of changes from ``Archive.subscribe`` (in process, after each commit);
the table only grew by a row per study touched.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


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
