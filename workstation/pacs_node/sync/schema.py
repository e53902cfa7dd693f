"""Tables of the sync queue (outbox and inbox), in the archive's database.

Their own Alembic lineage (``sync/migrations``, version table ``sync_alembic_version``),
so the archive's migrations and ours never share a head.

``sync_jobs``: one row per job (send a study upstream, fetch one, ...), with its state,
attempt count, next attempt time, last error and progress counters.  A running job
holds a *lease* (``lease_owner``, ``lease_until``) that its worker renews; a job whose
lease ran out (its process died, even by kill -9) is queued again.

``sync_items``: one row per instance of a job, marked ``sent`` only once the receiving
side confirmed it, so a retry sends exactly what is not yet confirmed.
"""

from __future__ import annotations

import sqlalchemy as sa

VERSION_TABLE = "sync_alembic_version"

metadata = sa.MetaData()

jobs = sa.Table(
    "sync_jobs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("direction", sa.String(8), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("target", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False, index=True),
    sa.Column("description", sa.String(200), nullable=False, server_default=""),
    sa.Column("study_instance_uid", sa.String(64), nullable=False, server_default=""),
    sa.Column("payload", sa.Text, nullable=False, server_default="{}"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("max_attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.DateTime, nullable=False),
    sa.Column("last_error", sa.Text, nullable=False, server_default=""),
    sa.Column("total", sa.Integer, nullable=False, server_default="0"),
    sa.Column("done", sa.Integer, nullable=False, server_default="0"),
    sa.Column("failed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("lease_owner", sa.String(64), nullable=False, server_default=""),
    sa.Column("lease_until", sa.DateTime, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

items = sa.Table(
    "sync_items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "job_id", sa.Integer, sa.ForeignKey("sync_jobs.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("sop_instance_uid", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text, nullable=False, server_default=""),
    sa.UniqueConstraint("job_id", "sop_instance_uid", name="uq_sync_items_job_sop"),
    sa.Index("ix_sync_items_job_state", "job_id", "state"),
)
