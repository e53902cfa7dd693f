"""viewer: annotations and key images

Revision ID: viewer_0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "viewer_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "viewer_annotations",
        sa.Column("annotation_id", sa.String(32), primary_key=True),
        sa.Column("study_instance_uid", sa.String(64), nullable=False, index=True),
        sa.Column("series_instance_uid", sa.String(64), nullable=False),
        sa.Column("sop_instance_uid", sa.String(64), nullable=False, index=True),
        sa.Column("frame_index", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "viewer_key_images",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("study_instance_uid", sa.String(64), nullable=False, index=True),
        sa.Column("series_instance_uid", sa.String(64), nullable=False),
        sa.Column("sop_instance_uid", sa.String(64), nullable=False),
        sa.Column("frame_index", sa.Integer, nullable=False),
        sa.Column("marked_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("sop_instance_uid", "frame_index", name="uq_viewer_key_images_frame"),
    )


def downgrade() -> None:
    op.drop_table("viewer_key_images")
    op.drop_table("viewer_annotations")
