"""The local audit log: append-only, hash-chained, forwarded to the central later.

Each event's ``hash`` is SHA-256 over the previous event's hash and the event's fields in
a canonical JSON form, so editing, removing or reordering any row breaks
:meth:`AuditLog.verify_chain`.  The database also refuses UPDATE and DELETE on the table
(triggers).  Events hold UIDs and user names, never patient names or IDs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import socket
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select

from workstation.auth.clock import Clock, SystemClock
from workstation.auth.db import AuthDatabase
from workstation.auth.errors import PermissionDenied
from workstation.auth.permissions import Permission, require
from workstation.auth.schema import audit_events
from workstation.events import Event
from workstation.i18n.labelled_enum import N_, LabelledStrEnum
from workstation.storage.row_records import record_from_row

if TYPE_CHECKING:
    from workstation.auth.session import Session

logger = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
MAX_DETAIL_CHARS = 4000


class AuditAction(LabelledStrEnum):
    """What an audit event records; the label is the action in words for the audit log
    window."""

    LOGIN = "login", N_("Log in")
    LOGIN_FAILED = "login_failed", N_("Failed login")
    LOGOUT = "logout", N_("Log out")
    LOCK = "lock", N_("Screen locked")
    UNLOCK = "unlock", N_("Screen unlocked")
    UNLOCK_FAILED = "unlock_failed", N_("Failed unlock")
    SESSION_EXPIRED = "session_expired", N_("Session expired")
    PERMISSION_DENIED = "permission_denied", N_("Refused: not permitted")
    STUDY_OPEN = "study_open", N_("Study opened")
    STUDY_IMPORT = "study_import", N_("Import")
    STUDY_RETRIEVE = "study_retrieve", N_("Retrieve")
    STUDY_EXPORT = "study_export", N_("Export")
    STUDY_SEND = "study_send", N_("Send")
    STUDY_DELETE = "study_delete", N_("Study deleted")
    REPORT_CREATE = "report_create", N_("Report created")
    REPORT_UPDATE = "report_update", N_("Report changed")
    REPORT_SIGN = "report_sign", N_("Report signed")
    REPORT_SEND = "report_send", N_("Report sent")
    REPORT_AMEND = "report_amend", N_("Report amended")
    REPORT_EXPORT = "report_export", N_("Report exported")
    REPORT_PRINT = "report_print", N_("Report printed")
    SIGNING_CA_INIT = "signing_ca_init", N_("Signing CA set up")
    SIGNING_ENROLL = "signing_enroll", N_("Signing certificate issued")
    SIGNING_REVOKE = "signing_revoke", N_("Signing certificate revoked")
    USER_CREATE = "user_create", N_("User created")
    USER_UPDATE = "user_update", N_("User changed")
    SETTINGS_CHANGE = "settings_change", N_("Settings changed")


class Outcome(LabelledStrEnum):
    SUCCESS = "success", N_("done")
    FAILURE = "failure", N_("failed")
    DENIED = "denied", N_("refused")


@dataclass(frozen=True)
class AuditEvent:
    seq: int
    event_id: str
    occurred_at: str
    actor: str
    role: str
    action: str
    outcome: str
    study_uid: str | None
    detail: Mapping[str, Any] = field(default_factory=dict)
    workstation: str = ""
    prev_hash: str = GENESIS_HASH
    hash: str = ""

    def as_json(self) -> dict[str, Any]:
        """The event as the central audit API (``POST /audit/events``) receives it; the
        central is idempotent by ``client_event_id``."""
        out: dict[str, Any] = {
            "client_event_id": self.event_id,
            "occurred_at": self.occurred_at,
            "actor": self.actor[:64],
            "action": f"workstation.{self.action}",
            "outcome": self.outcome,
            "workstation": self.workstation,
            "details": {
                **dict(self.detail),
                "role": self.role,
                "local_seq": self.seq,
                "local_hash": self.hash,
            },
        }
        if self.study_uid:
            out["study_instance_uid"] = self.study_uid
        return out


def event_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """SHA-256 of the previous hash and the event's fields (canonical JSON)."""
    canonical = json.dumps(
        [prev_hash, fields], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _hashed_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: row[k]
        for k in (
            "event_id",
            "occurred_at",
            "actor",
            "role",
            "action",
            "outcome",
            "study_uid",
            "detail",
            "workstation",
        )
    }


def _row_event(row: Mapping[str, Any]) -> AuditEvent:
    try:
        detail = json.loads(row["detail"])
    except ValueError:
        detail = {"unreadable": True}
    return record_from_row(AuditEvent, row, seq=int(row["seq"]), detail=detail)


class AuditLog:
    """Append and read the local audit log."""

    def __init__(
        self,
        db: AuthDatabase,
        *,
        clock: Clock | None = None,
        workstation: str | None = None,
    ) -> None:
        self.db = db
        self.clock = clock or SystemClock()
        self.workstation = (workstation or socket.gethostname())[:128]
        self.recorded = Event("audit log")

    def subscribe(self, listener: Callable[[AuditEvent], None]) -> None:
        """Call ``listener(event)`` after every append (from the appending thread)."""
        self.recorded.connect(listener)

    def context_details(self) -> dict[str, Any]:
        """Details every event of this log carries (none here; see ``ChannelAuditLog``)."""
        return {}

    def require(
        self,
        session: Session,
        permission: Permission,
        study_uid: str | None = None,
        **detail: Any,
    ) -> None:
        """:func:`~workstation.auth.permissions.require`, and a refusal is audited
        (``permission_denied``, outcome denied, with ``detail``) before it is raised:
        the one guard of every engine action."""
        try:
            require(session, permission)
        except PermissionDenied:
            self.record(
                AuditAction.PERMISSION_DENIED,
                session=session,
                outcome=Outcome.DENIED,
                study_uid=study_uid,
                permission=permission.value,
                **detail,
            )
            raise

    def record(
        self,
        action: AuditAction | str,
        *,
        session: Session | None = None,
        actor: str | None = None,
        role: str | None = None,
        outcome: Outcome | str = Outcome.SUCCESS,
        study_uid: str | None = None,
        **detail: Any,
    ) -> AuditEvent:
        """Append one event.  ``actor``/``role`` are who acted (default: the session's
        user); everything in ``detail`` is stored as the event's details, after the
        log's :meth:`context_details` (which ``detail`` overrides)."""
        detail = {**self.context_details(), **detail}
        detail_json = json.dumps(detail, sort_keys=True, default=str, ensure_ascii=False)
        if len(detail_json) > MAX_DETAIL_CHARS:
            detail_json = json.dumps({"truncated": detail_json[:MAX_DETAIL_CHARS]})
        stamp = datetime.fromtimestamp(self.clock.now(), UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        row: dict[str, Any] = {
            "event_id": str(uuid.uuid4()),
            "occurred_at": stamp,
            "actor": (actor or (session.username if session else "") or "-")[:128],
            "role": (role or (session.role.value if session else "") or "-")[:16],
            "action": str(action),
            "outcome": str(outcome),
            "study_uid": study_uid[:64] if study_uid else None,
            "detail": detail_json,
            "workstation": self.workstation,
        }
        with self.db.write(lock_table=audit_events.name) as conn:
            prev = conn.execute(
                select(audit_events.c.hash).order_by(audit_events.c.seq.desc()).limit(1)
            ).scalar()
            row["prev_hash"] = prev or GENESIS_HASH
            row["hash"] = event_hash(row["prev_hash"], _hashed_fields(row))
            inserted = conn.execute(insert(audit_events).values(**row)).inserted_primary_key
            assert inserted is not None
            seq = inserted[0]
        event = _row_event({**row, "seq": seq})
        logger.info("audit %s %s by %s (%s)", event.action, event.outcome, event.actor, event.seq)
        self.recorded.emit(event)
        return event

    # -- reading -----------------------------------------------------------------------
    def events(
        self,
        *,
        after_seq: int = 0,
        limit: int = 500,
        action: str | None = None,
        actor: str | None = None,
        study_uid: str | None = None,
        since: str | None = None,
        newest_first: bool = False,
    ) -> list[AuditEvent]:
        """Events after ``after_seq``; ``since`` is a UTC time in the stored form
        (``2024-01-31T00:00:00.000000Z``, or a prefix of it) to start at."""
        limit = max(1, min(limit, 10_000))
        q = select(audit_events).where(audit_events.c.seq > after_seq)
        if since:
            q = q.where(audit_events.c.occurred_at >= since)
        if action:
            q = q.where(audit_events.c.action == action)
        if actor:
            q = q.where(audit_events.c.actor == actor)
        if study_uid:
            q = q.where(audit_events.c.study_uid == study_uid)
        order = audit_events.c.seq.desc() if newest_first else audit_events.c.seq.asc()
        with self.db.read() as conn:
            rows = conn.execute(q.order_by(order).limit(limit)).mappings().all()
        return [_row_event(dict(r)) for r in rows]

    def count(self) -> int:
        with self.db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(audit_events)).scalar() or 0)

    def last_seq(self) -> int:
        with self.db.read() as conn:
            return int(conn.execute(select(func.max(audit_events.c.seq))).scalar() or 0)

    def verify_chain(self, batch: int = 5000) -> int | None:
        """Walk the whole log; the ``seq`` of the first broken event, or None when intact."""
        prev = GENESIS_HASH
        after = 0
        while True:
            with self.db.read() as conn:
                rows = (
                    conn.execute(
                        select(audit_events)
                        .where(audit_events.c.seq > after)
                        .order_by(audit_events.c.seq)
                        .limit(batch)
                    )
                    .mappings()
                    .all()
                )
            if not rows:
                return None
            for r in rows:
                if r["prev_hash"] != prev or event_hash(prev, _hashed_fields(dict(r))) != r["hash"]:
                    return int(r["seq"])
                prev = r["hash"]
                after = int(r["seq"])
