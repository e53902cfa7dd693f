"""The reports' tables in the archive database (migrated by ``reports/migrations``)."""

from __future__ import annotations

import sqlalchemy as sa

VERSION_TABLE = "reports_alembic_version"

metadata = sa.MetaData()

report_table = sa.Table(
    "reports",
    metadata,
    sa.Column("report_id", sa.String(32), primary_key=True),
    sa.Column("study_instance_uid", sa.String(64), nullable=False, index=True),
    sa.Column("template_id", sa.String(64), nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("author", sa.String(128), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("predecessor_id", sa.String(32), sa.ForeignKey("reports.report_id"), nullable=True),
    sa.Column("amendment_reason", sa.Text, nullable=False),
    #: Sections and structured fields as JSON.
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("signed_at", sa.DateTime, nullable=True),
    sa.Column("signed_by", sa.String(128), nullable=False),
    sa.Column("pdf_sha256", sa.String(64), nullable=False),
    #: The signed PDF of this version (final and superseded versions).
    sa.Column("pdf", sa.LargeBinary, nullable=True),
)
