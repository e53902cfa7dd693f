"""``workstation move PEER STUDY_UID --to AET [--series UID] [--instance UID...] [--json]``:
ask PEER to send a study (series, instances) to the node AET by C-MOVE.

Exit codes: 0 all sub-operations succeeded, 1 some failed, 5 refused/unreachable.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from workstation.cli import _remote
from workstation.cli._acting import acts_for_person, add_actor_arguments
from workstation.cli.context import CliContext
from workstation.i18n import _

if TYPE_CHECKING:
    from workstation.auth.session import Session


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("move", help=_("have a DICOM peer send a study to a node (C-MOVE)"))
    _remote.add_peer_arguments(p)
    add_selection(p)
    p.add_argument(
        "--to", dest="destination", default=None, metavar="AET",
        help=_("destination AE title (default: this workstation's node)"),
    )  # fmt: skip
    add_actor_arguments(p)
    p.set_defaults(handler=run_move)


def add_selection(p: argparse.ArgumentParser) -> None:
    p.add_argument("study", metavar="STUDY_UID")
    p.add_argument("--series", default=None, metavar="UID")
    p.add_argument("--instance", dest="instances", action="append", default=[], metavar="UID")


@acts_for_person
def run_move(ctx: CliContext, args: argparse.Namespace, session: Session) -> int:
    from workstation.auth.audit import AuditAction

    destination = args.destination or ctx.settings.node.ae_title
    try:
        remote = _remote.remote_for(ctx, args, archive=False)
        if not hasattr(remote, "move"):
            raise ValueError(_("C-MOVE needs a DICOM peer, not {peer}.").format(peer=args.peer))
        result = _remote.audited_transfer(
            ctx, args, session, AuditAction.STUDY_RETRIEVE, [args.study],
            lambda progress, cancel: remote.move(
                destination, args.study, args.series, args.instances or None,
                progress=progress, cancel=cancel,
            ),
            via="move", destination=destination,
        )  # fmt: skip
    except _remote.network_errors() as exc:
        return _remote.fail(exc)
    return _remote.report_transfer(args, result, _("Moved"))
