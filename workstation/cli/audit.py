"""``workstation audit [--json] [--since ISO-DATE] [--action NAME]``: read the local audit log.

For administrators (``--user NAME --password-stdin``) or the data directory's owner.
Newest first.  ``--since`` takes an ISO 8601 date or date-time; without a zone it is
local time.  Exit 2 for an unreadable ``--since``, 7 when not permitted.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from workstation.cli import exit_codes
from workstation.cli._acting import acts_for_person, add_actor_arguments
from workstation.cli.console import print_json
from workstation.cli.context import CliContext
from workstation.i18n import _

if TYPE_CHECKING:
    from workstation.auth.audit import AuditEvent
    from workstation.auth.session import Session


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help=_("show the local audit log (administrators)"))
    p.add_argument("--json", action="store_true", help=_("print a JSON array of events"))
    p.add_argument(
        "--since",
        metavar="ISO-DATE",
        help=_("only events at or after this date or date-time (local time unless a zone)"),
    )
    p.add_argument("--action", metavar="NAME", help=_("only this action, e.g. study_export"))
    p.add_argument("--limit", type=int, default=1000, help=_("at most this many (default 1000)"))
    add_actor_arguments(p)
    p.set_defaults(handler=run_audit)


def since_utc(text: str) -> str:
    """An ISO 8601 date or date-time as the log's UTC form; ValueError when unreadable."""
    moment = datetime.fromisoformat(text.strip())
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def run_audit(ctx: CliContext, args: argparse.Namespace) -> int:
    since = None
    if args.since:
        try:
            since = since_utc(args.since)
        except ValueError:
            print(
                _("Cannot read the time {value!r}; use YYYY-MM-DD or YYYY-MM-DDTHH:MM.").format(
                    value=args.since
                ),
                file=sys.stderr,
            )
            return exit_codes.USAGE
    args.audit_since = since
    return _show(ctx, args)


@acts_for_person
def _show(ctx: CliContext, args: argparse.Namespace, session: Session) -> int:
    events = ctx.services.audit_reader(session).events(
        limit=args.limit, action=args.action or None, since=args.audit_since
    )
    if args.json:
        print_json([_event_json(e) for e in events])
        return exit_codes.OK
    if not events:
        print(_("No audit events."))
        return exit_codes.OK
    for e in events:
        when = datetime.fromisoformat(e.occurred_at).astimezone().strftime("%Y-%m-%d %H:%M:%S")
        detail = json.dumps(dict(e.detail), ensure_ascii=False, sort_keys=True)
        study = f" {e.study_uid}" if e.study_uid else ""
        print(f"{when}  {e.actor} ({e.role})  {e.action}  {e.outcome}{study}  {detail}")
    return exit_codes.OK


def _event_json(e: AuditEvent) -> dict[str, object]:
    return {
        "seq": e.seq,
        "occurred_at": e.occurred_at,
        "actor": e.actor,
        "role": e.role,
        "action": e.action,
        "outcome": e.outcome,
        "study_instance_uid": e.study_uid,
        "workstation": e.workstation,
        "channel": e.detail.get("channel", ""),
        "os_user": e.detail.get("os_user", ""),
        "account": e.detail.get("account"),
        "detail": dict(e.detail),
    }
