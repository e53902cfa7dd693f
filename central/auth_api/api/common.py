"""Helpers the blueprints share: the request body, the client address, JSON shapes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import request
from sqlalchemy.orm import Session

from klinika_auth import audit
from klinika_auth.audit import iso
from klinika_auth.errors import ApiError
from klinika_auth.models import Report, User
from klinika_auth.openapi import check_body
from klinika_auth.rbac import current
from klinika_auth.request_input import parse_json, raw_body


def body(optional: bool = False) -> dict[str, Any]:
    """The JSON body, checked against the operation's schema in the OpenAPI document."""
    raw = raw_body()
    if not raw:
        if optional:
            return {}
        raise ApiError(400, "bad_request", "Send a JSON body (Content-Type: application/json).")
    if not request.is_json:
        raise ApiError(
            400, "bad_request", "Send the body as JSON (Content-Type: application/json)."
        )
    data = parse_json(raw)
    check_body(data)
    return data


def client_ip() -> str | None:
    """The peer address (the first proxy hop is trusted per ``proxy_count``, see app),
    cut to the 64 characters the database keeps (a proxy passes on what it was sent)."""
    return request.remote_addr[:64] if request.remote_addr else None


def audit_by_caller(
    session: Session, action: str, details: dict[str, Any], outcome: str = "success"
) -> None:
    """Append an audit event of the signed-in caller (actor) from this request's client
    address; the caller's transaction commits it."""
    audit.append(
        session,
        action=action,
        outcome=outcome,
        actor=current().username,
        source_ip=client_ip(),
        details=details,
    )


def when(value: dt.datetime | None) -> str | None:
    return None if value is None else iso(value)


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "role": user.role.name,
        "disabled": user.disabled,
        "mfa_enabled": user.totp_enabled,
        "created_at": when(user.created_at),
        "updated_at": when(user.updated_at),
        "last_login_at": when(user.last_login_at),
    }


def report_json(report: Report) -> dict[str, Any]:
    return {
        "id": report.id,
        "study_instance_uid": report.study_instance_uid,
        "author": report.author.username,
        "status": report.status,
        "title": report.title,
        "sop_instance_uid": report.sop_instance_uid,
        "pdf_sha256": report.pdf_sha256,
        "version": report.version,
        "signer_fingerprint": report.signer_fingerprint,
        "predecessor_sop_instance_uid": report.predecessor_sop_instance_uid,
        "created_at": when(report.created_at),
        "updated_at": when(report.updated_at),
        "revisions": [
            {
                "status": r.status,
                "sop_instance_uid": r.sop_instance_uid,
                "pdf_sha256": r.pdf_sha256,
                "version": r.version,
                "signer_fingerprint": r.signer_fingerprint,
                "predecessor_sop_instance_uid": r.predecessor_sop_instance_uid,
                "changed_by": r.changed_by,
                "changed_at": when(r.changed_at),
                "note": r.note,
            }
            for r in report.revisions
        ],
    }


def parse_time(value: str, name: str) -> dt.datetime:
    """An ISO 8601 time with a zone (``Z`` or ``+hh:mm``), as UTC."""
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        if parsed.tzinfo is None:
            raise ApiError(
                400, "bad_request", f"{name} needs a time zone, e.g. a trailing Z for UTC."
            )
        return parsed.astimezone(dt.UTC)
    except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 moved past its end
        raise ApiError(
            400,
            "bad_request",
            f"{name} must be an ISO 8601 time between the years 1 and 9999, "
            "e.g. 2026-01-31T08:00:00Z.",
        ) from None
