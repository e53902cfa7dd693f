"""The append-only, hash-chained audit log.

Each event's ``hash`` is SHA-256 over a canonical JSON of its fields and the previous
event's hash; the single ``audit_head`` row holds the last ``seq`` and hash and is locked
(``SELECT ... FOR UPDATE``; on SQLite the write transaction serialises) while appending, so
sequence numbers have no gaps.  Editing, deleting or reordering any row breaks
``verify_chain``.  UPDATE and DELETE are also refused by database triggers.

Events are appended in the same transaction as the action they record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from klinika_auth.models import AuditEvent, AuditHead, utcnow

GENESIS_HASH = "0" * 64
MAX_DETAILS_BYTES = 8192


def iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_details(details: dict[str, Any] | None) -> str:
    return json.dumps(details or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(ev: AuditEvent) -> str:
    payload = {
        "seq": ev.seq,
        "prev_hash": ev.prev_hash,
        "client_event_id": ev.client_event_id,
        "recorded_at": iso(ev.recorded_at),
        "occurred_at": iso(ev.occurred_at),
        "actor": ev.actor,
        "submitted_by": ev.submitted_by,
        "action": ev.action,
        "outcome": ev.outcome,
        "source_ip": ev.source_ip,
        "workstation": ev.workstation,
        "study_instance_uid": ev.study_instance_uid,
        "details": ev.details,
    }
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def lock_head(db: Session) -> AuditHead:
    return db.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one()


def append(
    db: Session,
    *,
    action: str,
    outcome: str = "success",
    actor: str | None = None,
    submitted_by: str | None = None,
    source_ip: str | None = None,
    workstation: str | None = None,
    study_instance_uid: str | None = None,
    details: dict[str, Any] | None = None,
    occurred_at: dt.datetime | None = None,
    client_event_id: str | None = None,
    head: AuditHead | None = None,
) -> AuditEvent:
    """Add one event to the chain (the caller commits)."""
    head = head or lock_head(db)
    now = utcnow()
    ev = AuditEvent(
        seq=head.seq + 1,
        client_event_id=client_event_id,
        recorded_at=now,
        occurred_at=occurred_at or now,
        actor=actor,
        submitted_by=submitted_by if submitted_by is not None else actor,
        action=action,
        outcome=outcome,
        source_ip=source_ip,
        workstation=workstation,
        study_instance_uid=study_instance_uid,
        details=canonical_details(details),
        prev_hash=head.hash,
    )
    ev.hash = event_hash(ev)
    head.seq, head.hash = ev.seq, ev.hash
    db.add(ev)
    db.flush()
    return ev


@dataclass(frozen=True)
class BatchItem:
    client_event_id: str
    fields: dict[str, Any]


def append_batch(db: Session, items: Iterable[BatchItem]) -> list[tuple[str, str, int]]:
    """Append client events, skipping ids already recorded: ``[(id, status, seq)]``."""
    head = lock_head(db)
    results = []
    seen: dict[str, int] = {}
    for item in items:
        known = seen.get(item.client_event_id)
        if known is None:
            known = db.scalar(
                select(AuditEvent.seq).where(AuditEvent.client_event_id == item.client_event_id)
            )
        if known is not None:
            results.append((item.client_event_id, "duplicate", known))
            continue
        ev = append(db, client_event_id=item.client_event_id, head=head, **item.fields)
        seen[item.client_event_id] = ev.seq
        results.append((item.client_event_id, "recorded", ev.seq))
    return results


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "first_bad_seq": self.first_bad_seq,
            "problem": self.problem,
        }


def verify_chain(db: Session) -> ChainReport:
    """Recompute every hash in order; report the first event that does not fit."""
    head = db.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one()
    prev_hash, expected_seq, count = GENESIS_HASH, 1, 0

    def bad(seq: int, problem: str) -> ChainReport:
        return ChainReport(False, count, head.seq, head.hash, seq, problem)

    rows = db.execute(select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=500))
    for ev in rows.scalars():
        if ev.seq != expected_seq:
            return bad(expected_seq, f"event {expected_seq} is missing")
        if ev.prev_hash != prev_hash:
            return bad(ev.seq, "the link to the previous event is broken")
        if event_hash(ev) != ev.hash:
            return bad(ev.seq, "the event's contents do not match its hash (edited)")
        prev_hash, expected_seq, count = ev.hash, expected_seq + 1, count + 1
    if head.seq != count or head.hash != prev_hash:
        return bad(count + 1, "events at the end of the log are missing")
    return ChainReport(True, count, head.seq, head.hash)
