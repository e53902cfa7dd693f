"""Start the workstation: the desktop app when it can run, else the headless engine."""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import signal
import sys
import threading

from workstation.cli import exit_codes
from workstation.cli._display import missing_display_reason
from workstation.cli.context import CliContext
from workstation.i18n import _

logger = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("start", help=_("start the workstation (the default command)"))
    p.add_argument("--headless", action="store_true", help=_("run the engine without a window"))
    p.set_defaults(handler=start)


def start(ctx: CliContext, args: argparse.Namespace) -> int:
    desktop = ctx.desktop
    headless = getattr(args, "headless", False)
    if desktop is not None and not headless and importlib.util.find_spec("PySide6") is not None:
        if reason := missing_display_reason(os.environ):
            print(reason, file=sys.stderr)
            return exit_codes.NO_DISPLAY
        return int(desktop(ctx.settings))
    return run_headless(ctx)


def run_headless(ctx: CliContext, stop: threading.Event | None = None) -> int:
    """Open the archive (and the DICOM node when it exists) and serve until stopped."""
    stop = stop or threading.Event()
    archive = ctx.archive
    counts = archive.counts()
    print(_("Klinika Workstation engine is running headless (no desktop window)."))
    print(_("Data directory: {path}").format(path=ctx.settings.home))
    print(
        _("Local archive: {patients} patients, {studies} studies, {instances} instances.").format(
            **counts
        )
    )
    from workstation.pacs_node.dimse.errors import NodeCannotListen

    try:
        node = _start_node(ctx)
    except NodeCannotListen as exc:
        from workstation.cli.node import report_cannot_listen

        ctx.close()
        return report_cannot_listen(exc)
    print(_("Press Ctrl+C to stop."))
    sys.stdout.flush()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_a: stop.set())
    stop.wait()
    if node is not None:
        node.stop()
    ctx.close()
    print(_("Stopped."))
    return exit_codes.OK


def _start_node(ctx: CliContext):  # type: ignore[no-untyped-def]
    from workstation.pacs_node.dimse.service import start_node_service

    node = start_node_service(ctx.settings, ctx.archive)
    print(
        _("DICOM node {aet} listening on port {port}.").format(
            aet=ctx.settings.node.ae_title, port=ctx.settings.node.port
        )
    )
    return node
