"""The viewer's tables in the archive database (migrated by ``viewer/migrations``)."""

from __future__ import annotations

import sqlalchemy as sa

VERSION_TABLE = "viewer_alembic_version"

metadata = sa.MetaData()

annotation_table = sa.Table(
    "viewer_annotations",
    metadata,
    sa.Column("annotation_id", sa.String(32), primary_key=True),
    sa.Column("study_instance_uid", sa.String(64), nullable=False, index=True),
    sa.Column("series_instance_uid", sa.String(64), nullable=False),
    sa.Column("sop_instance_uid", sa.String(64), nullable=False, index=True),
    sa.Column("frame_index", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    #: The annotation as JSON (points, text, computed results).
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

key_image_table = sa.Table(
    "viewer_key_images",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("study_instance_uid", sa.String(64), nullable=False, index=True),
    sa.Column("series_instance_uid", sa.String(64), nullable=False),
    sa.Column("sop_instance_uid", sa.String(64), nullable=False),
    sa.Column("frame_index", sa.Integer, nullable=False),
    sa.Column("marked_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("sop_instance_uid", "frame_index", name="uq_viewer_key_images_frame"),
)
