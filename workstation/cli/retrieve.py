"""``workstation retrieve PEER STUDY_UID [--series UID] [--via auto|get|move|wado] [--json]``:
bring a study into the local archive the way the peer supports best.

``auto`` is WADO-RS for ``central`` and C-GET for DICOM peers.  ``move`` asks the peer to
C-MOVE to this workstation's AE title; if no node of ours is listening on
``node.port``, one is started for the duration (the peer must know our AE and port).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from workstation.cli import _remote
from workstation.cli._acting import acts_for_person, add_actor_arguments
from workstation.cli.context import CliContext
from workstation.cli.move import add_selection
from workstation.i18n import _

if TYPE_CHECKING:
    from workstation.auth.session import Session


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("retrieve", help=_("bring a study into the local archive"))
    p.add_argument("--via", default="auto", choices=["auto", "get", "move", "wado"])
    add_retrieve_arguments(p)
    p.set_defaults(handler=run_retrieve)


def add_retrieve_arguments(p: argparse.ArgumentParser) -> None:
    """PEER, the study selection and who acts: what ``retrieve`` and ``get`` take."""
    _remote.add_peer_arguments(p)
    add_selection(p)
    add_actor_arguments(p)


@acts_for_person
def run_retrieve(ctx: CliContext, args: argparse.Namespace, session: Session) -> int:
    from workstation.auth.audit import AuditAction

    try:
        remote = _remote.remote_for(ctx, args)
        if args.via == "move":
            work = _by_move(ctx, args, remote)
        else:
            if args.via == "get" and not hasattr(remote, "get"):
                raise ValueError(_("C-GET needs a DICOM peer."))
            if args.via == "wado" and hasattr(remote, "get"):
                raise ValueError(_("WADO-RS needs the central archive (DICOMweb)."))
            work = _by_retrieve(args, remote)
        result = _remote.audited_transfer(
            ctx, args, session, AuditAction.STUDY_RETRIEVE, [args.study], work,
            via=_channel(args.via, remote),
        )  # fmt: skip
    except _remote.network_errors() as exc:
        return _remote.fail(exc)
    return _remote.report_transfer(args, result, _("Retrieved"))


def _channel(via: str, remote: Any) -> str:
    """The protocol ``via`` stands for (``auto``: C-GET for a DICOM peer, else WADO-RS)."""
    if via != "auto":
        return via
    return "get" if hasattr(remote, "get") else "wado"


def _by_retrieve(args: argparse.Namespace, remote: Any) -> Any:
    def work(progress: Any, cancel: Any) -> Any:
        return remote.retrieve(
            args.study, args.series, args.instances or None, progress=progress, cancel=cancel
        )

    return work


def _by_move(ctx: CliContext, args: argparse.Namespace, remote: Any) -> Any:
    """The C-MOVE to this workstation's own node (started for the move when it is not
    running), as ``work(progress, cancel)``."""
    from workstation.pacs_node.dimse.service import start_node_service

    if not hasattr(remote, "move"):
        raise ValueError(_("C-MOVE needs a DICOM peer."))

    def work(progress: Any, cancel: Any) -> Any:
        node = None
        if not _listening(ctx.settings.node.port):
            node = start_node_service(ctx.settings, ctx.archive)
        try:
            return remote.move(
                ctx.settings.node.ae_title, args.study, args.series, args.instances or None,
                progress=progress, cancel=cancel,
            )  # fmt: skip
        finally:
            if node is not None:
                node.stop()

    return work


def _listening(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False
