"""``workstation send PEER [STUDY_UID...] [--file PATH...] [--json]``: send local studies
(or Part 10 files) now, by C-STORE or STOW-RS (``central``); the peer's answer decides
each instance's outcome.  To send when the link allows, use ``workstation sync queue``.

Exit codes: 0 all confirmed, 1 some failed, 4 study not in the archive, 5 peer error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workstation.cli import _remote, exit_codes
from workstation.cli.context import CliContext
from workstation.i18n import _


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("send", help=_("send studies or files to a peer now (C-STORE / STOW-RS)"))
    _remote.add_peer_arguments(p)
    p.add_argument("studies", nargs="*", metavar="STUDY_UID")
    p.add_argument("--file", dest="files", action="append", default=[], type=Path, metavar="PATH")
    p.set_defaults(handler=run_send)


def study_files(ctx: CliContext, study_uids: list[str]) -> list[Path]:
    """Stored files of these local studies (raises LookupError for an unknown one)."""
    files: list[Path] = []
    for uid in study_uids:
        records = ctx.archive.study_instances(uid)
        if not records:
            raise LookupError(_("Study {uid} is not in the local archive.").format(uid=uid))
        files += [r.path for r in records]
    return files


def run_send(ctx: CliContext, args: argparse.Namespace) -> int:
    if not args.studies and not args.files:
        print(_("Nothing to send: name a study UID or use --file."), file=sys.stderr)
        return exit_codes.USAGE
    try:
        files = study_files(ctx, args.studies) + list(args.files)
    except LookupError as exc:
        print(_("Error: {error}").format(error=exc), file=sys.stderr)
        return exit_codes.NOT_FOUND
    try:
        remote = _remote.remote_for(ctx, args)
        result, _interrupted = _remote.run_with_progress(
            args, lambda progress, cancel: remote.send(files, progress=progress, cancel=cancel)
        )
    except _remote.network_errors() as exc:
        return _remote.fail(exc)
    return _remote.report_transfer(args, result, _("Sent"))
