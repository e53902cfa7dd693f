"""The audit API: workstations submit events (also batches buffered offline, idempotent by
``client_event_id``); administrators query the log and verify its hash chain.

A submitted event is recorded with the token's subject as ``actor`` and the server's time
as ``occurred_at``: a client cannot write events in someone else's name or backdate them.
Its claims are kept in ``details`` (see ``_batch_item``)."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, request
from sqlalchemy import select

from klinika_auth import audit
from klinika_auth.api.common import body, client_ip, parse_time
from klinika_auth.audit import iso
from klinika_auth.errors import ApiError
from klinika_auth.models import AuditEvent
from klinika_auth.rbac import current, require
from klinika_auth.request_input import query_int
from klinika_auth.services import db, services

bp = Blueprint("audit", __name__, url_prefix="/audit")

MAX_PAGE = 1000


def event_json(ev: AuditEvent) -> dict[str, Any]:
    return {**audit.hashed_fields(ev), "details": json.loads(ev.details), "hash": ev.hash}


def _batch_item(index: int, raw: dict[str, Any], submitter: str, ip: str | None) -> audit.BatchItem:
    """One submitted event as stored: the actor is the token's subject and ``occurred_at``
    the server's time of receipt; what the client claimed for either, when it differs,
    is kept in ``details`` (``claimed_actor``, ``claimed_occurred_at``) for the reader."""
    details = dict(raw.get("details") or {})
    claimed_actor = raw.get("actor")
    if claimed_actor and claimed_actor != submitter:
        details["claimed_actor"] = claimed_actor
    details["claimed_occurred_at"] = iso(parse_time(raw["occurred_at"], "occurred_at"))
    if len(audit.canonical_details(details).encode()) > audit.MAX_DETAILS_BYTES:
        raise ApiError(
            413,
            "details_too_large",
            f"Event {index + 1} of the batch: details exceed {audit.MAX_DETAILS_BYTES} bytes.",
        )
    fields = {
        "action": raw["action"],
        "outcome": raw.get("outcome", "success"),
        "actor": submitter,
        "submitted_by": submitter,
        "source_ip": ip,
        "workstation": raw.get("workstation"),
        "study_instance_uid": raw.get("study_instance_uid"),
        "details": details,
    }
    return audit.BatchItem(client_event_id=raw["client_event_id"], fields=fields)


@bp.post("/events")
@require("audit.write")
def submit_events() -> Any:
    events = body()["events"]
    limit = services().settings.max_audit_batch
    if len(events) > limit:
        raise ApiError(413, "batch_too_large", f"Send at most {limit} events per request.")
    submitter, ip = current().username, client_ip()
    items = [_batch_item(i, raw, submitter, ip) for i, raw in enumerate(events)]
    session = db()
    results = audit.append_batch(session, items)
    session.commit()
    recorded = sum(1 for _id, status, _seq in results if status == "recorded")
    return {
        "recorded": recorded,
        "duplicates": len(results) - recorded,
        "results": [
            {"client_event_id": cid, "status": status, "seq": seq} for cid, status, seq in results
        ],
    }


@bp.get("/events")
@require("audit.read")
def query_events() -> Any:
    args = request.args
    stmt = select(AuditEvent)
    for column in ("actor", "action", "outcome", "workstation"):
        if args.get(column):
            stmt = stmt.where(getattr(AuditEvent, column) == args[column])
    if args.get("study"):
        stmt = stmt.where(AuditEvent.study_instance_uid == args["study"])
    if args.get("since"):
        stmt = stmt.where(AuditEvent.occurred_at >= parse_time(args["since"], "since"))
    if args.get("until"):
        stmt = stmt.where(AuditEvent.occurred_at < parse_time(args["until"], "until"))
    after = query_int("after_seq", 0)
    limit = query_int("limit", 100, minimum=1, maximum=MAX_PAGE)
    stmt = stmt.where(AuditEvent.seq > after).order_by(AuditEvent.seq).limit(limit)
    events = list(db().scalars(stmt))
    more = len(events) == limit
    return {
        "events": [event_json(e) for e in events],
        "next_after_seq": events[-1].seq if more else None,
    }


@bp.get("/verify")
@require("audit.read")
def verify() -> Any:
    return audit.verify_chain(db()).as_dict()
