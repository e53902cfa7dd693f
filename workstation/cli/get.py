"""``workstation get PEER STUDY_UID [--series UID] [--instance UID...] [--json]``: bring
a study into the local archive by C-GET (or WADO-RS for ``central``), instance by
instance, each stored durably before it counts.

Exit codes: 0 all stored, 1 some failed, 5 refused/unreachable, 130 cancelled.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from workstation.cli import _remote
from workstation.cli._acting import acts_for_person, add_actor_arguments
from workstation.cli.context import CliContext
from workstation.cli.move import add_selection
from workstation.i18n import _

if TYPE_CHECKING:
    from workstation.auth.session import Session


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("get", help=_("retrieve a study into the local archive (C-GET / WADO-RS)"))
    _remote.add_peer_arguments(p)
    add_selection(p)
    add_actor_arguments(p)
    p.set_defaults(handler=run_get)


@acts_for_person
def run_get(ctx: CliContext, args: argparse.Namespace, session: Session) -> int:
    from workstation.auth.audit import AuditAction

    try:
        remote = _remote.remote_for(ctx, args)
        result = _remote.audited_transfer(
            ctx, args, session, AuditAction.STUDY_RETRIEVE, [args.study],
            lambda progress, cancel: remote.retrieve(
                args.study, args.series, args.instances or None, progress=progress, cancel=cancel
            ),
            via="get",
        )  # fmt: skip
    except _remote.network_errors() as exc:
        return _remote.fail(exc)
    return _remote.report_transfer(args, result, _("Retrieved"))
