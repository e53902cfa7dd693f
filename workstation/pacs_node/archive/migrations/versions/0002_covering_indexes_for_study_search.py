"""covering indexes for study search

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 01:35:12.226832
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("studies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_studies_patient_name_key_date"))
        batch_op.create_index(
            "ix_studies_description_key_date_time",
            ["study_description_key", "study_date", "study_time"],
            unique=False,
        )
        batch_op.create_index(
            "ix_studies_name_key_date_time",
            ["patient_name_key", "study_date", "study_time"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("studies", schema=None) as batch_op:
        batch_op.drop_index("ix_studies_name_key_date_time")
        batch_op.drop_index("ix_studies_description_key_date_time")
        batch_op.create_index(
            batch_op.f("ix_studies_patient_name_key_date"),
            ["patient_name_key", "study_date"],
            unique=False,
        )
