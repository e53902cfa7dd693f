"""``workstation archive check|export``: maintenance of the local archive.

- ``archive check [--json] [--repair]``: index vs store vs hashes.  Exit 3 when damage is
  found (and not repaired), 0 when clean.
- ``archive export STUDY_UID --to DIR|FILE.zip [--dicomdir] [--anonymize]
  [--user NAME --password-stdin]``: through the services layer, permission-checked and
  audited (channel ``cli``).  Exit 4 when the study is not held or the destination's
  folder does not exist (no folders are made for a mistyped path).
- ``archive delete STUDY_UID --yes``: administrators only; audited.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workstation.cli import exit_codes
from workstation.cli._acting import acts_for_person
from workstation.cli._archive_verbs import needs_archive
from workstation.cli._verbs import add_command, add_verb
from workstation.cli.console import human_bytes, print_json
from workstation.cli.context import CliContext
from workstation.i18n import _

if TYPE_CHECKING:
    from workstation.auth.session import Session


def register(sub: argparse._SubParsersAction) -> None:
    verbs = add_command(sub, "archive", _("check or export the local archive"))
    c = add_verb(
        verbs, "check", run_check, _("verify the index against the stored files"),
        json_help=_("print the report as JSON"),
    )  # fmt: skip
    c.add_argument("--repair", action="store_true", help=_("fix what can be fixed"))
    c.add_argument(
        "--quick", action="store_true", help=_("sizes only, skip the SHA-256 of each file")
    )
    e = add_verb(
        verbs, "export", run_export, _("export one study to a folder or a ZIP"),
        json_help=_("print the result as JSON"), actor=True,
    )  # fmt: skip
    e.add_argument("study_uid", metavar="STUDY_UID")
    e.add_argument("--to", required=True, type=Path, metavar="DIR|FILE.zip", dest="to")
    e.add_argument("--dicomdir", action="store_true", help=_("write a DICOMDIR file set"))
    e.add_argument("--anonymize", action="store_true", help=_("de-identify (PS3.15 basic profile)"))
    d = add_verb(
        verbs, "delete", run_delete, _("delete one study from the local archive (admins)"),
        actor=True,
    )  # fmt: skip
    d.add_argument("study_uid", metavar="STUDY_UID")
    d.add_argument("--yes", action="store_true", help=_("really delete (required)"))


@needs_archive
def run_check(ctx: CliContext, args: argparse.Namespace) -> int:
    from workstation.pacs_node.archive.check import check_archive

    report = check_archive(ctx.archive, repair=args.repair, verify_hashes=not args.quick)
    if args.json:
        print_json(report.to_json())
    else:
        print(
            _("Checked {n} files ({size}).").format(
                n=report.files_checked, size=human_bytes(report.bytes_checked)
            )
        )
        for label, items in (
            (_("Missing files (instances lost; import them again)"), report.missing),
            (_("Damaged files (checksum differs)"), report.corrupt),
            (_("Files without index entry (interrupted writes)"), report.orphans),
            (_("Database errors"), report.database_errors),
        ):
            if items:
                print(f"{label}: {len(items)}")
                for item in items[:20]:
                    print(f"  {item}")
        if report.stale_temp:
            print(_("Leftover temporary files: {n}").format(n=report.stale_temp))
        if report.counters_wrong:
            print(_("Study/series counters out of date: {n}").format(n=report.counters_wrong))
        if not report.damaged:
            print(_("The archive is consistent."))
        elif report.repaired:
            print(_("Repaired. Run the check again to confirm."))
        else:
            print(_("Damage found. Run 'workstation archive check --repair' to fix it."))
    if report.damaged and not (report.repaired and not report.database_errors):
        return exit_codes.DAMAGED
    return exit_codes.OK


@needs_archive
@acts_for_person
def run_export(ctx: CliContext, args: argparse.Namespace, session: Session) -> int:
    from workstation.pacs_node.archive.errors import NotFoundError
    from workstation.services.errors import DestinationMissing

    actions = ctx.services.actions(session)
    try:
        job = actions.export_study(
            args.study_uid, args.to, dicomdir=args.dicomdir, anonymize=args.anonymize
        )
    except (NotFoundError, DestinationMissing) as exc:
        print(str(exc), file=sys.stderr)
        return exit_codes.NOT_FOUND
    done = ctx.services.wait(job)
    result: Any = done.result  # an ExportResult when the job succeeded
    if result is None:
        print(_("Export failed: {error}").format(error=done.error), file=sys.stderr)
        return exit_codes.PARTIAL
    if args.json:
        print_json(
            {
                "destination": str(result.destination),
                "files": result.files,
                "bytes": result.bytes,
                "study_instance_uid": result.study_instance_uid,
            }
        )
    else:
        print(
            _("Exported {n} files ({size}) to {dest}.").format(
                n=result.files, size=human_bytes(result.bytes), dest=result.destination
            )
        )
    return exit_codes.OK


@needs_archive
@acts_for_person
def run_delete(ctx: CliContext, args: argparse.Namespace, session: Session) -> int:
    from workstation.pacs_node.archive.errors import NotFoundError

    if not args.yes:
        print(_("Deleting cannot be undone: add --yes to delete the study."), file=sys.stderr)
        return exit_codes.USAGE
    try:
        count = ctx.services.actions(session).delete_study(args.study_uid)
    except NotFoundError as exc:
        print(str(exc), file=sys.stderr)
        return exit_codes.NOT_FOUND
    print(_("Deleted study {uid} ({n} instances).").format(uid=args.study_uid, n=count))
    return exit_codes.OK
