"""``workstation send PEER [STUDY_UID...] [--file PATH...] [--json]``: send local studies
(or Part 10 files) now, by C-STORE or STOW-RS (``central``); the peer's answer decides
each instance's outcome.  To send when the link allows, use ``workstation sync queue``.

Permission-checked and audited through the services (``--user NAME --password-stdin``,
else the data directory's owner).

Exit codes: 0 all confirmed, 1 some failed, 4 study not in the archive, 5 peer error,
7 not permitted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from workstation.cli import _remote, exit_codes
from workstation.cli._acting import acts_for_person, add_actor_arguments
from workstation.cli.context import CliContext
from workstation.i18n import _

if TYPE_CHECKING:
    from workstation.auth.session import Session


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("send", help=_("send studies or files to a peer now (C-STORE / STOW-RS)"))
    _remote.add_peer_arguments(p)
    p.add_argument("studies", nargs="*", metavar="STUDY_UID")
    p.add_argument("--file", dest="files", action="append", default=[], type=Path, metavar="PATH")
    add_actor_arguments(p)
    p.set_defaults(handler=run_send)


@acts_for_person
def run_send(ctx: CliContext, args: argparse.Namespace, session: Session) -> int:
    from workstation.auth.audit import AuditAction
    from workstation.pacs_node.archive.errors import NotFoundError

    if not args.studies and not args.files:
        print(_("Nothing to send: name a study UID or use --file."), file=sys.stderr)
        return exit_codes.USAGE
    try:
        files = ctx.services.actions(session).study_files(args.studies) + list(args.files)
    except NotFoundError as exc:
        print(_("Error: {error}").format(error=exc), file=sys.stderr)
        return exit_codes.NOT_FOUND
    try:
        remote = _remote.remote_for(ctx, args)
        result = _remote.audited_transfer(
            ctx, args, session, AuditAction.STUDY_SEND, list(args.studies),
            lambda progress, cancel: remote.send(files, progress=progress, cancel=cancel),
            files=len(args.files),
        )  # fmt: skip
    except _remote.network_errors() as exc:
        return _remote.fail(exc)
    return _remote.report_transfer(args, result, _("Sent"))
