"""incomplete instances: instances.incomplete (why) and studies.num_incomplete

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 03:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("incomplete", sa.String(length=200), server_default="", nullable=False)
        )
    with op.batch_alter_table("studies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("num_incomplete", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("studies", schema=None) as batch_op:
        batch_op.drop_column("num_incomplete")
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.drop_column("incomplete")
