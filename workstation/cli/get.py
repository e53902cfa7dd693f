"""``workstation get PEER STUDY_UID [--series UID] [--instance UID...] [--json]``: bring
a study into the local archive by C-GET (or WADO-RS for ``central``), instance by
instance, each stored durably before it counts.

Exit codes: 0 all stored, 1 some failed, 5 refused/unreachable, 130 cancelled.
"""

from __future__ import annotations

import argparse

from workstation.cli import _remote
from workstation.cli.context import CliContext
from workstation.cli.move import add_selection
from workstation.i18n import _


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("get", help=_("retrieve a study into the local archive (C-GET / WADO-RS)"))
    _remote.add_peer_arguments(p)
    add_selection(p)
    p.set_defaults(handler=run_get)


def run_get(ctx: CliContext, args: argparse.Namespace) -> int:
    try:
        remote = _remote.remote_for(ctx, args)
        result, _interrupted = _remote.run_with_progress(
            args,
            lambda progress, cancel: remote.retrieve(
                args.study, args.series, args.instances or None, progress=progress, cancel=cancel
            ),
        )
    except _remote.network_errors() as exc:
        return _remote.fail(exc)
    return _remote.report_transfer(args, result, _("Retrieved"))
