"""``workstation import PATH... [--json] [--media]``: bring files, folders, DICOMDIR sets,
ZIPs and removable media into the local archive.

Permission-checked and audited through the services (``--user NAME --password-stdin``,
else the data directory's owner).  ``--media`` with no medium mounted says so.

Exit codes: 0 all stored or already there, 1 some inputs rejected, 4 a named path does
not exist or no media was found (nothing is imported), 7 not permitted, 130 cancelled
(Ctrl-C: the files in hand are finished, the rest is left alone, and the summary is
printed).
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from workstation.cli import exit_codes
from workstation.cli._acting import acts_for_person, add_actor_arguments
from workstation.cli._archive_verbs import needs_archive
from workstation.cli.console import ProgressBar, print_json
from workstation.cli.context import CliContext
from workstation.i18n import _, ngettext

if TYPE_CHECKING:
    from workstation.auth.session import Session


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import",
        help=_("import DICOM files, folders, DICOMDIR sets and ZIP archives"),
        description=_(
            "Import DICOM into the local archive. Every input ends as stored, already "
            "present, or rejected with a reason; rejected files are kept in quarantine."
        ),
    )
    p.add_argument("paths", nargs="*", type=Path, metavar="PATH", help=_("file, folder or ZIP"))
    p.add_argument("--media", action="store_true", help=_("also import every mounted CD/DVD/USB"))
    p.add_argument("--json", action="store_true", help=_("print the summary as JSON"))
    p.add_argument("--workers", type=int, default=16, help=_("reader threads (default 16)"))
    add_actor_arguments(p)
    p.set_defaults(handler=run_import)


@needs_archive
@acts_for_person
def run_import(ctx: CliContext, args: argparse.Namespace, session: Session) -> int:
    from workstation.auth.permissions import Permission
    from workstation.pacs_node.archive.importing import Importer, removable_media
    from workstation.pacs_node.archive.importing.media import no_media_message

    actions = ctx.services.actions(session)
    actions.guard(Permission.STUDY_IMPORT)
    paths = list(args.paths)
    if args.media:
        media = [m.path for m in removable_media()]
        if not media:
            print(no_media_message(), file=sys.stderr)
            if not paths:
                return exit_codes.NOT_FOUND
        paths += media
    if not paths:
        print(_("Nothing to import: name a file, folder or ZIP, or use --media."), file=sys.stderr)
        return exit_codes.USAGE
    missing = [p for p in paths if not p.exists()]
    if missing:
        for p in missing:
            print(_("No such file or folder: {path}").format(path=p), file=sys.stderr)
        return exit_codes.NOT_FOUND
    bar = ProgressBar(enabled=None if not args.json else False)
    cancel = threading.Event()
    importer = Importer(ctx.archive, workers=args.workers)
    outcome: dict[str, object] = {}
    finished = threading.Event()

    def work() -> None:
        try:
            outcome["summary"] = importer.run(
                paths,
                progress=lambda p: bar.update(
                    p.files_done, p.files_total, p.bytes_done, p.rate, p.eta_seconds
                ),
                cancel=cancel,
            )
        except BaseException as exc:  # noqa: BLE001 - re-raised on the main thread
            outcome["error"] = exc
        finally:
            finished.set()

    worker = threading.Thread(target=work, name="import-main", daemon=True)
    with _cancel_on_interrupt(cancel):
        worker.start()
        finished.wait()
    bar.finish()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    summary = outcome["summary"]
    audited = _record(actions, summary)
    ctx.close()
    if args.json:
        print_json(summary.to_json())  # type: ignore[attr-defined]
    else:
        _print_human(summary)
    if summary.cancelled:  # type: ignore[attr-defined]
        return exit_codes.CANCELLED
    failed = summary.rejected or not audited  # type: ignore[attr-defined]
    return exit_codes.PARTIAL if failed else exit_codes.OK


def _record(actions: object, summary: object) -> bool:
    """Audit the import; on a full disk say so in one line (the summary still prints)."""
    from workstation.pacs_node.archive.disk_full import is_disk_full

    try:
        actions.record_import(summary)  # type: ignore[attr-defined]
    except Exception as exc:
        if not is_disk_full(exc):
            raise
        print(
            _("The import could not be written to the audit log: the disk is full."),
            file=sys.stderr,
        )
        return False
    return True


@contextlib.contextmanager
def _cancel_on_interrupt(cancel: threading.Event) -> Iterator[None]:
    """Ctrl-C (SIGINT) sets ``cancel`` instead of raising KeyboardInterrupt, so the
    import finishes the files in hand and returns its summary (KeyboardInterrupt inside
    ``Thread.join`` could leave the import running behind a dead main thread)."""

    def on_sigint(_signum: int, _frame: object) -> None:
        if not cancel.is_set():
            print("\n" + _("Cancelling: finishing the files in progress..."), file=sys.stderr)
        cancel.set()

    try:
        previous = signal.signal(signal.SIGINT, on_sigint)
    except ValueError:  # not the main thread: no handler, cancel stays the caller's
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _print_human(summary) -> None:  # type: ignore[no-untyped-def]
    print(
        _("Stored: {stored}   already in the archive: {dup}   rejected: {rej}").format(
            stored=summary.stored, dup=summary.duplicates, rej=len(summary.rejected)
        )
    )
    print(
        ngettext("{n} study touched", "{n} studies touched", len(summary.study_uids)).format(
            n=len(summary.study_uids)
        )
        + _(" in {s:.1f} s.").format(s=summary.elapsed_seconds)
    )
    for note in summary.notes:
        print(_("Note: {note}").format(note=note))
    if summary.cancelled:
        print(_("The import was cancelled; files stored so far stay in the archive."))
    if summary.rejected:
        print(_("Rejected:"))
        for r in summary.rejected:
            line = f"  {r.origin}: {r.reason}"
            if r.quarantine_note:
                line += " [" + r.quarantine_note + f" {r.quarantine_path}]"
            elif r.quarantine_path:
                line += " " + _("[kept in quarantine: {path}]").format(path=r.quarantine_path)
            print(line)
    if summary.patient_conflicts:
        print(_("Patient identity conflicts (not merged; check them):"))
        for c in summary.patient_conflicts:
            print(
                "  "
                + _('Patient ID {pid}: "{old}" ({old_birth}) vs "{new}" ({new_birth})').format(
                    pid=c.patient_id,
                    old=c.existing_name,
                    old_birth=c.existing_birth_date or "-",
                    new=c.new_name,
                    new_birth=c.new_birth_date or "-",
                )
            )
