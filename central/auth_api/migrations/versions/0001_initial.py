"""Initial schema: users, roles and permissions (seeded), sessions, refresh tokens,
login throttle, hash-chained audit log (append-only by trigger), report registry.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64

# Frozen copy of the seed RBAC as of this revision (klinika_auth.permissions is the live
# catalog; a test checks the two agree).  Later changes go in new revisions.
PERMISSIONS = {
    "users.manage": "create, change, disable and delete users; reset passwords and MFA",
    "audit.read": "query the audit log and verify its hash chain",
    "audit.write": "submit audit events (workstations, also buffered offline)",
    "settings.manage": "change site settings and nodes",
    "studies.read": "search, view and download studies",
    "studies.upload": "store studies in the central archive (STOW-RS, REST upload)",
    "studies.send": "send studies to other DICOM nodes",
    "studies.delete": "delete studies from the central archive",
    "import": "import studies from media and folders",
    "reports.read": "read the report registry",
    "reports.write": "create and edit draft reports; upload report documents",
    "reports.sign": "finalise (sign) and amend reports",
    "measurements.write": "add measurements and annotations",
}
ROLES = {
    "admin": ("full access, user management, audit", sorted(PERMISSIONS)),
    "doctor": (
        "reads studies, measures, writes and signs reports",
        [
            "audit.write",
            "measurements.write",
            "reports.read",
            "reports.sign",
            "reports.write",
            "studies.read",
        ],
    ),
    "operator": (
        "uploads, imports, sends and views studies; no reports",
        ["audit.write", "import", "reports.read", "studies.read", "studies.send", "studies.upload"],
    ),
}


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _schema() -> None:
    op.create_table(
        "permissions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("description", sa.String(200), nullable=False),
    )
    op.create_table(
        "roles",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(32), nullable=False, unique=True),
        sa.Column("description", sa.String(200), nullable=False),
    )
    op.create_table(
        "role_permissions",
        sa.Column(
            "role_id", sa.Integer, sa.ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "permission_id",
            sa.Integer,
            sa.ForeignKey("permissions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role_id", sa.Integer, sa.ForeignKey("roles.id"), nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("totp_secret", sa.String(64)),
        sa.Column("totp_enabled", sa.Boolean, nullable=False),
        sa.Column("totp_last_step", sa.BigInteger),
        _ts("created_at"),
        _ts("updated_at"),
        _ts("last_login_at", True),
        _ts("password_changed_at"),
    )
    op.create_table(
        "login_throttle",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        _ts("locked_until", True),
        _ts("last_failure_at"),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        _ts("created_at"),
        _ts("expires_at"),
        _ts("revoked_at", True),
        sa.Column("revoked_reason", sa.String(64)),
        sa.Column("source_ip", sa.String(64)),
    )
    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "session_id",
            sa.String(36),
            sa.ForeignKey("sessions.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        _ts("issued_at"),
        _ts("expires_at"),
        _ts("rotated_at", True),
    )
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("client_event_id", sa.String(80), unique=True),
        _ts("recorded_at"),
        _ts("occurred_at"),
        sa.Column("actor", sa.String(64)),
        sa.Column("submitted_by", sa.String(64)),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("source_ip", sa.String(64)),
        sa.Column("workstation", sa.String(128)),
        sa.Column("study_instance_uid", sa.String(64)),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    for col in ("recorded_at", "occurred_at", "actor", "action", "study_instance_uid"):
        op.create_index(f"ix_audit_events_{col}", "audit_events", [col])
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("study_instance_uid", sa.String(64), nullable=False, index=True),
        sa.Column("author_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("sop_instance_uid", sa.String(64)),
        sa.Column("pdf_sha256", sa.String(64)),
        _ts("created_at"),
        _ts("updated_at"),
    )
    op.create_table(
        "report_revisions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "report_id",
            sa.Integer,
            sa.ForeignKey("reports.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("sop_instance_uid", sa.String(64)),
        sa.Column("pdf_sha256", sa.String(64)),
        sa.Column("changed_by", sa.String(64), nullable=False),
        _ts("changed_at"),
        sa.Column("note", sa.String(500), nullable=False),
    )


def _append_only_triggers() -> None:
    """UPDATE and DELETE on audit_events are refused by the database itself."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'audit_events is append-only';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
        )
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events "
            "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
        )


def _seed() -> None:
    perms = sa.table("permissions", sa.column("id"), sa.column("name"), sa.column("description"))
    roles = sa.table("roles", sa.column("id"), sa.column("name"), sa.column("description"))
    links = sa.table("role_permissions", sa.column("role_id"), sa.column("permission_id"))
    perm_ids = {name: i for i, name in enumerate(sorted(PERMISSIONS), start=1)}
    op.bulk_insert(
        perms, [{"id": i, "name": n, "description": PERMISSIONS[n]} for n, i in perm_ids.items()]
    )
    op.bulk_insert(
        roles,
        [{"id": i, "name": n, "description": d} for i, (n, (d, _p)) in enumerate(ROLES.items(), 1)],
    )
    op.bulk_insert(
        links,
        [
            {"role_id": role_id, "permission_id": perm_ids[p]}
            for role_id, (_n, (_d, names)) in enumerate(ROLES.items(), 1)
            for p in names
        ],
    )
    head = sa.table("audit_head", sa.column("id"), sa.column("seq"), sa.column("hash"))
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS_HASH}])
    if op.get_bind().dialect.name == "postgresql":  # explicit ids: move the sequences on
        for table in ("permissions", "roles"):
            op.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )


def upgrade() -> None:
    _schema()
    _append_only_triggers()
    _seed()


def downgrade() -> None:
    raise RuntimeError("the initial schema cannot be downgraded; restore a backup instead")
