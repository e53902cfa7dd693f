"""``workstation node serve [--aet AET] [--port N] [--bind ADDR] [--no-sync]``: the DICOM
node as a headless service (for IT or a clinic server).

By default it accepts C-ECHO and C-STORE from any calling AE, and query/retrieve only
from the AE table (``[node] peers``).  When a central archive is configured it also
works the sync queue (outbox/inbox).  Stops on Ctrl+C or SIGTERM; associations in
flight are aborted, and every instance already acknowledged is durable.
"""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
import threading
from typing import Any

from workstation.cli import _remote, exit_codes
from workstation.cli._verbs import add_command, add_verb
from workstation.cli.context import CliContext
from workstation.i18n import _
from workstation.pacs_node.dimse.errors import NodeCannotListen


def register(sub: argparse._SubParsersAction) -> None:
    verbs = add_command(sub, "node", _("the built-in DICOM node"))
    s = add_verb(verbs, "serve", run_serve, _("run the DICOM node headless until stopped"))
    s.add_argument("--aet", default=None, help=_("our AE title (default: node.ae_title)"))
    s.add_argument("--port", type=port_number, default=None, help=_("port (default: node.port)"))
    s.add_argument(
        "--bind", default=None, help=_("address to listen on (default: node.bind_address)")
    )
    s.add_argument("--no-sync", action="store_true", help=_("do not work the sync queue"))
    _remote.add_token_argument(s)


def port_number(text: str) -> int:
    """argparse type: a TCP port, 1-65535."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(
            _("{value} is not a port number (1-65535)").format(value=text)
        )
    return port


def report_cannot_listen(exc: NodeCannotListen) -> int:
    """Print why the node cannot listen and what to do; the exit code."""
    print(_("The DICOM node cannot start: {reason}").format(reason=exc.reason), file=sys.stderr)
    print(exc.fix, file=sys.stderr)
    return exit_codes.CONFIG


def run_serve(ctx: CliContext, args: argparse.Namespace) -> int:
    from workstation.pacs_node.dimse.service import start_node_service

    changes: dict[str, Any] = {}
    if args.aet:
        changes["ae_title"] = args.aet
    if args.port is not None:
        changes["port"] = args.port
    if args.bind:
        changes["bind_address"] = args.bind
    settings = dataclasses.replace(
        ctx.settings, node=dataclasses.replace(ctx.settings.node, **changes)
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_a: stop.set())
    try:
        node = start_node_service(settings, ctx.archive)
    except NodeCannotListen as exc:
        return report_cannot_listen(exc)
    worker = None if args.no_sync else _start_sync(ctx, args)
    print(
        _("DICOM node {aet} listening on {addr}:{port}.").format(
            aet=settings.node.ae_title, addr=settings.node.bind_address, port=node.port
        )
    )
    if worker is not None:
        print(_("Working the sync queue."))
    print(_("Press Ctrl+C to stop."))
    sys.stdout.flush()
    stop.wait()
    if worker is not None:
        worker.stop()
    node.stop()
    ctx.close()
    print(_("Stopped."))
    return exit_codes.OK


def _start_sync(ctx: CliContext, args: argparse.Namespace) -> Any:
    central = ctx.settings.central
    if not (central.dicomweb_url or central.dimse_peer):
        return None
    from workstation.pacs_node.sync.queue import SyncQueue
    from workstation.pacs_node.sync.remotes import remote_resolver
    from workstation.pacs_node.sync.worker import SyncWorker

    tokens = _remote.token_provider(ctx, args)
    resolve = remote_resolver(ctx.settings, ctx.archive, tokens)
    worker = SyncWorker(SyncQueue(ctx.archive.engine), ctx.archive, resolve)
    from workstation.services.report_upstream import register_report_upstream

    register_report_upstream(worker, ctx.settings, tokens)
    return worker.start()
