"""Shared plumbing of the network verbs (echo, find, move, get, send, retrieve, sync).

A *peer* on the command line is an AE-table name or AE title, ``HOST:PORT:AET``, or
``central`` (the central archive: DICOMweb at ``central.dicomweb_url``).  Its bearer token
comes from ``workstation login`` (the OS keyring, refreshed as needed) or, for scripts,
one line on standard input with ``--token-stdin``; never from the command line or the
environment, where other users and logs could see it.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from workstation.cli import exit_codes
from workstation.cli.console import ProgressBar, print_json
from workstation.cli.context import CliContext
from workstation.i18n import _

T = TypeVar("T")


def add_peer_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("peer", metavar="PEER", help=_("AE-table name, HOST:PORT:AET, or 'central'"))
    add_common(p)


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help=_("print the result as JSON"))
    add_token_argument(p)


def add_token_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--token-stdin",
        action="store_true",
        help=_(
            "read the central archive's bearer token from standard input "
            "(default: the 'workstation login' session in the OS keyring)"
        ),
    )


def token_provider(ctx: CliContext, args: argparse.Namespace) -> Any:
    """Bearer tokens for the central archive: stdin with ``--token-stdin``, else the
    keyring login of ``workstation login``, else none."""
    from workstation.cli._keyring_tokens import keyring_provider
    from workstation.pacs_node.dicomweb.tokens import StaticTokenProvider

    if getattr(args, "token_stdin", False):
        return StaticTokenProvider(sys.stdin.readline().strip() or None)
    return keyring_provider(ctx.settings) or StaticTokenProvider()


def remote_for(ctx: CliContext, args: argparse.Namespace, *, archive: bool = True) -> Any:
    """The RemoteNode the PEER argument names (raises LookupError/UnknownPeerError)."""
    from workstation.pacs_node.sync.remotes import build_remote

    return build_remote(
        ctx.settings, ctx.archive if archive else None, args.peer, token_provider(ctx, args)
    )  # type: ignore[arg-type]


def network_errors() -> tuple[type[BaseException], ...]:
    from workstation.pacs_node.dicomweb.errors import DicomWebError
    from workstation.pacs_node.dimse.errors import DimseError

    return (DimseError, DicomWebError, LookupError, ValueError)


def fail(exc: BaseException) -> int:
    """Print an error a person can act on and return the matching exit code."""
    from workstation.pacs_node.dicomweb.errors import NotAuthorized
    from workstation.pacs_node.dimse.errors import UnknownPeerError

    if isinstance(exc, UnknownPeerError):
        print(
            _("Unknown peer {peer!r}: name one from the AE table or give HOST:PORT:AET.").format(
                peer=str(exc)
            ),
            file=sys.stderr,
        )
        return exit_codes.NOT_FOUND
    print(_("Error: {error}").format(error=exc), file=sys.stderr)
    if isinstance(exc, NotAuthorized):
        return exit_codes.FORBIDDEN
    if isinstance(exc, ValueError):
        return exit_codes.USAGE
    return exit_codes.PEER_ERROR


def run_with_progress(
    args: argparse.Namespace, work: Callable[[Any, Any], T]
) -> tuple[T | None, bool]:
    """Run ``work(progress, cancel)`` in a thread with a progress bar; Ctrl+C cancels.

    Returns (result, interrupted).  Exceptions of ``work`` are re-raised here.
    """
    from workstation.pacs_node.remote import CancelToken, Progress

    bar = ProgressBar(enabled=None if not getattr(args, "json", False) else False)
    cancel = CancelToken()
    box: dict[str, Any] = {}

    def progress(p: Progress) -> None:
        bar.update(p.done, p.total, p.bytes_done, p.rate, p.eta_s)

    def target() -> None:
        try:
            box["result"] = work(progress, cancel)
        except BaseException as exc:  # noqa: BLE001 - re-raised on the main thread
            box["error"] = exc

    thread = threading.Thread(target=target, name="cli-network")
    thread.start()
    interrupted = False
    try:
        while thread.is_alive():
            thread.join(0.2)
    except KeyboardInterrupt:
        interrupted = True
        cancel.cancel()
        print("\n" + _("Cancelling..."), file=sys.stderr)
        thread.join()
    bar.finish()
    if "error" in box:
        raise box["error"]
    return box.get("result"), interrupted


def audited_transfer(
    ctx: CliContext,
    args: argparse.Namespace,
    session: Any,
    action: Any,
    study_uids: list[str],
    work: Callable[[Any, Any], Any],
    **detail: Any,
) -> Any:
    """:func:`run_with_progress` through the services: permission-checked for
    ``session`` and audited as ``action`` (``STUDY_SEND``/``STUDY_RETRIEVE``)."""
    actions = ctx.services.actions(session)

    def run() -> Any:
        return run_with_progress(args, work)[0]

    return actions.transfer_now(action, study_uids, args.peer, run, **detail)


def report_transfer(args: argparse.Namespace, result: Any, verb: str) -> int:
    """Print a TransferResult; exit 0 all good, 1 some failed, 5 whole failure, 130 cancelled."""
    if args.json:
        print_json(result.as_dict())
    else:
        print(
            _("{verb}: {ok} done, {warn} with warnings, {failed} failed in {s:.1f} s.").format(
                verb=verb, ok=result.completed, warn=result.warning, failed=result.failed,
                s=result.seconds,
            )
        )  # fmt: skip
        for outcome in result.outcomes:
            if not outcome.ok:
                print(f"  {outcome.sop_instance_uid}: {outcome.reason}")
        if result.error:
            print(_("Error: {error}").format(error=result.error), file=sys.stderr)
        if result.cancelled:
            print(_("Cancelled; what was transferred so far stays."))
    if result.cancelled:
        return exit_codes.CANCELLED
    if result.error and not result.completed:
        return exit_codes.PEER_ERROR
    return exit_codes.OK if result.ok else exit_codes.PARTIAL


def dataset_json(ds: Any) -> dict[str, Any]:
    """A C-FIND/QIDO match as keyword -> text (lists for multi-valued attributes)."""
    out: dict[str, Any] = {}
    for elem in ds:
        if not elem.keyword or elem.VR == "SQ" or elem.keyword == "SpecificCharacterSet":
            continue
        value = elem.value
        if value is None or value == "":
            out[elem.keyword] = ""
        elif isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
            out[elem.keyword] = [str(v) for v in value]
        else:
            out[elem.keyword] = str(value)
    return out
