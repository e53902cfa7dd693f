"""How an audit event reads in the audit log window: local time, the action in words,
details as "Label: value" (the log stores UTC and JSON details; neither is for people)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from workstation.auth.audit import AuditAction, Outcome
from workstation.auth.permissions import Permission
from workstation.i18n import _

#: At most this many items of a list value are shown (the count is always given).
MAX_LIST_ITEMS = 5


def local_time(occurred_at: str, tz: Any = None) -> str:
    """``2026-12-07T03:04:05.123456Z`` (UTC) -> ``2026-12-07 05:04:05`` in local time."""
    try:
        stamp = datetime.strptime(occurred_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        return occurred_at[:19].replace("T", " ")
    return stamp.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def action_text(action: str) -> str:
    """The action in words (an action this version does not know: its name in words)."""
    try:
        return AuditAction(action).label
    except ValueError:
        return action.replace("_", " ").capitalize()


def outcome_text(outcome: str) -> str:
    try:
        return Outcome(outcome).label
    except ValueError:
        return outcome


def _labels() -> dict[str, str]:
    return {
        "permission": _("Not permitted to"),
        "node": _("Node"),
        "target": _("Target"),
        "reason": _("Reason"),
        "error": _("Error"),
        "files": _("Files"),
        "stored": _("Stored"),
        "duplicates": _("Already there"),
        "queued": _("Queued"),
        "completed": _("Completed"),
        "anonymized": _("Anonymized"),
        "dicomdir": _("DICOMDIR"),
        "keys": _("Settings"),
        "studies": _("Studies"),
        "instances": _("Images"),
        "sync_job": _("Sync job"),
        "username": _("User"),
        "role": _("Role"),
        "mode": _("Mode"),
    }


def _value_text(key: str, value: Any) -> str:
    if key == "permission":
        try:
            return Permission(value).action
        except ValueError:
            return str(value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list | tuple):
        shown = ", ".join(str(v) for v in value[:MAX_LIST_ITEMS])
        more = len(value) - MAX_LIST_ITEMS
        return f"{shown} (+{more})" if more > 0 else shown
    return str(value)


def detail_text(detail: Mapping[str, Any]) -> str:
    """``{"permission": "studies.delete", "files": 3}`` -> ``Not permitted to: delete
    studies; Files: 3`` (unknown keys are shown with their name in words)."""
    labels = _labels()
    parts = []
    for key, value in detail.items():
        name = labels.get(key) or key.replace("_", " ").capitalize()
        parts.append(f"{name}: {_value_text(key, value)}")
    return "; ".join(parts)
