"""``workstation echo PEER [--json]``: C-ECHO (DIMSE peers) or a QIDO probe (central).

Exit codes: 0 the peer answered, 4 unknown peer, 5 no answer or refused.
"""

from __future__ import annotations

import argparse
import time

from workstation.cli import _remote, exit_codes
from workstation.cli.console import print_json
from workstation.cli.context import CliContext
from workstation.i18n import _


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("echo", help=_("check that a DICOM peer answers (C-ECHO)"))
    _remote.add_peer_arguments(p)
    p.set_defaults(handler=run_echo)


def run_echo(ctx: CliContext, args: argparse.Namespace) -> int:
    start = time.monotonic()
    try:
        remote = _remote.remote_for(ctx, args, archive=False)
        if hasattr(remote, "echo"):
            status = int(remote.echo())
        else:  # DICOMweb: a one-result study search proves reachability and access
            from workstation.pacs_node.remote import QueryLevel

            remote.find(QueryLevel.STUDY, {}, limit=1)
            status = 0
    except _remote.network_errors() as exc:
        return _remote.fail(exc)
    ms = (time.monotonic() - start) * 1000
    if args.json:
        print_json(
            {"peer": args.peer, "status": f"0x{status:04X}", "ok": status == 0, "ms": round(ms, 1)}
        )
    elif status == 0:
        print(_("{peer} answered in {ms:.0f} ms.").format(peer=args.peer, ms=ms))
    else:
        print(
            _("{peer} answered with status 0x{status:04X}.").format(peer=args.peer, status=status)
        )
    return exit_codes.OK if status == 0 else exit_codes.PEER_ERROR
