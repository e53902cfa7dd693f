"""Report documents: version, signer certificate fingerprint and predecessor per report
and per revision (the workstation's outbox publishes each signed version).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("reports", "report_revisions"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("version", sa.Integer, nullable=True))
            batch.add_column(sa.Column("signer_fingerprint", sa.String(64), nullable=True))
            batch.add_column(
                sa.Column("predecessor_sop_instance_uid", sa.String(64), nullable=True)
            )
    op.create_index(
        "ix_report_revisions_sop_instance_uid", "report_revisions", ["sop_instance_uid"]
    )


def downgrade() -> None:
    raise RuntimeError("restore a backup instead of downgrading")
