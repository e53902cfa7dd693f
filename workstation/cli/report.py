"""``workstation report new|templates|sign|export|list|verify``: reports on the command line.

Who acts: ``--user NAME --password-stdin`` (the password on stdin's first line), else
the OS user who owns the data directory (see :mod:`workstation.cli._acting`).

* ``new STUDY_UID [--template NAME] [--lang L] [--text-file FILE] [--json]`` prints the new report's id; FILE is UTF-8 with
  ``## Section`` headings; without ``--template`` the free-text template.
* ``templates [--json]`` lists the templates (shipped and the site's).
* ``sign REPORT_ID``: where no keyring holds the signing key's passphrase, that on the second.
* ``export REPORT_ID --to FILE.pdf`` (the signed PDF when final, else a draft preview);
  ``list [--study UID] [--json]``.
* ``verify FILE.pdf [--ca ca.pem] [--json]``: exit 0 when intact and trusted, else 1
  with the reason.

Exit codes: 0 done; 1 verification failed; 4 no such report/study/file; 6 set-up
problem (no CA, no key); 7 wrong password, not permitted, or signing refused.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from workstation.cli import exit_codes
from workstation.cli._acting import acts_for_person, next_secret
from workstation.cli._verbs import add_command, add_verb
from workstation.cli.console import print_json
from workstation.cli.context import CliContext
from workstation.i18n import _

if TYPE_CHECKING:
    from workstation.auth.session import Session
    from workstation.reports.model import Report
    from workstation.services.report_actions import ReportActions


def register(sub: argparse._SubParsersAction) -> None:
    verbs = add_command(sub, "report", _("write, sign, export and verify reports"), metavar="VERB")

    as_json = _("print the result as JSON")

    new = add_verb(
        verbs, "new", run_new, _("start a report for a study"), json_help=as_json, actor=True
    )
    new.add_argument("study", metavar="STUDY_UID")
    new.add_argument("--template", default=None, metavar="NAME", help=_("template id"))
    new.add_argument("--lang", default=None, choices=("en", "ru", "es", "fr", "de"))
    new.add_argument("--text-file", type=Path, default=None, metavar="FILE")

    add_verb(verbs, "templates", run_templates, _("list report templates"), json_help=as_json)

    sign = add_verb(
        verbs, "sign", run_sign, _("sign a report (it becomes final)"),
        json_help=as_json, actor=True,
    )  # fmt: skip
    sign.add_argument("report_id", metavar="REPORT_ID")

    export = add_verb(verbs, "export", run_export, _("write a report's PDF"), actor=True)
    export.add_argument("report_id", metavar="REPORT_ID")
    export.add_argument("--to", required=True, type=Path, metavar="FILE.pdf")

    ls = add_verb(verbs, "list", run_list, _("list reports"), json_help=as_json, actor=True)
    ls.add_argument("--study", default=None, metavar="UID")

    verify = add_verb(
        verbs, "verify", run_verify, _("verify a signed report PDF"), json_help=as_json
    )
    verify.add_argument("file", type=Path, metavar="FILE.pdf")
    verify.add_argument("--ca", type=Path, default=None, metavar="ca.pem")


def _fail(exc: BaseException) -> int:
    from workstation.auth.errors import AuthError
    from workstation.reports.errors import ReportNotFound, SigningRefused, SigningSetupError

    print(_("Error: {error}").format(error=exc), file=sys.stderr)
    if isinstance(exc, AuthError | SigningRefused):
        return exit_codes.FORBIDDEN
    if isinstance(exc, ReportNotFound | LookupError | FileNotFoundError):
        return exit_codes.NOT_FOUND
    if isinstance(exc, SigningSetupError):
        return exit_codes.CONFIG
    return exit_codes.PARTIAL


def _errors() -> tuple[type[BaseException], ...]:
    from workstation.reports.errors import ReportError

    return (ReportError, LookupError, OSError)


def _actions(ctx: CliContext, session: Session) -> ReportActions:
    from workstation.auth.keyring_store import SecretStore
    from workstation.pacs_node.sync.queue import SyncQueue
    from workstation.reports.store import ReportStore
    from workstation.services.report_actions import ReportActions

    return ReportActions(
        session,
        ReportStore(ctx.archive.engine),
        ctx.services.audit,
        ctx.settings,
        archive=ctx.archive,
        secrets=SecretStore(),
        # Signed versions go upstream when `workstation sync run` (or the app) drains it.
        outbox=SyncQueue(ctx.archive.engine),
    )


@acts_for_person
def run_new(ctx: CliContext, args: argparse.Namespace, session: Session) -> int:
    from workstation.reports.text_import import MAX_TEXT_BYTES, parse_sections

    try:
        sections = None
        if args.text_file is not None:
            with open(args.text_file, "rb") as fh:
                sections = parse_sections(fh.read(MAX_TEXT_BYTES + 1))
        report = _actions(ctx, session).create(args.study, args.template, args.lang, sections)
    except _errors() as exc:
        return _fail(exc)
    if args.json:
        print_json({"report_id": report.report_id})
    else:
        print(report.report_id)
    return exit_codes.OK


def run_templates(ctx: CliContext, args: argparse.Namespace) -> int:
    from workstation.reports.templates import load_templates, localized

    templates = load_templates(ctx.settings.report_template_dir)
    lang = ctx.settings.general.language
    if args.json:
        print_json(
            [
                {
                    "id": t.template_id,
                    "title": dict(t.title),
                    "modality": t.modality,
                    "origin": t.origin,
                    "fields": [
                        {"id": f.field_id, "type": f.type, "unit": f.unit} for f in t.fields
                    ],
                }
                for t in templates.values()
            ]
        )
    else:
        for t in templates.values():
            print(f"{t.template_id:<14} {localized(t.title, lang)}  [{t.origin}]")
    return exit_codes.OK


@acts_for_person
def run_sign(ctx: CliContext, args: argparse.Namespace, session: Session) -> int:
    from workstation.reports.keystore import passphrase_key

    actions = _actions(ctx, session)
    try:
        stored = actions.secrets.get(passphrase_key(session.username)) if actions.secrets else None
        typed = None if stored else next_secret(args, _("Signing key passphrase: ")) or None
        report = actions.sign(args.report_id, typed)
    except _errors() as exc:
        return _fail(exc)
    if args.json:
        print_json(
            {
                "report_id": report.report_id,
                "status": report.status.value,
                "sha256": report.pdf_sha256,
            }
        )
    else:
        print(_("Signed: {id} (SHA-256 {sha}).").format(id=report.report_id, sha=report.pdf_sha256))
    return exit_codes.OK


@acts_for_person
def run_export(ctx: CliContext, args: argparse.Namespace, session: Session) -> int:
    try:
        _actions(ctx, session).export(args.report_id, args.to)
    except _errors() as exc:
        return _fail(exc)
    print(_("Wrote {path}.").format(path=args.to))
    return exit_codes.OK


@acts_for_person
def run_list(ctx: CliContext, args: argparse.Namespace, session: Session) -> int:
    reports = _actions(ctx, session).list_reports(args.study)
    if args.json:
        print_json([_report_json(r) for r in reports])
    else:
        for r in reports:
            print(
                f"{r.report_id}  v{r.version}  {r.status.value:<11} {r.template_id:<12} "
                f"{r.study_instance_uid}"
            )
    return exit_codes.OK


def _report_json(r: Report) -> dict[str, object]:
    return {
        "report_id": r.report_id,
        "study_instance_uid": r.study_instance_uid,
        "template": r.template_id,
        "language": r.language,
        "status": r.status.value,
        "version": r.version,
        "predecessor_id": r.predecessor_id,
        "author": r.author,
        "signed_by": r.signed_by,
        "signed_at": r.signed_at.isoformat() if r.signed_at else None,
        "pdf_sha256": r.pdf_sha256,
    }


def run_verify(ctx: CliContext, args: argparse.Namespace) -> int:
    from workstation.reports.errors import ReportError
    from workstation.services.report_actions import verify_report_pdf

    try:
        from workstation.reports.verify import MAX_PDF_BYTES

        with open(args.file, "rb") as fh:
            data = fh.read(MAX_PDF_BYTES + 1)
        ca_pem = args.ca.read_bytes() if args.ca else None
        result = verify_report_pdf(ctx.settings, data, ca_pem)
    except (OSError, ReportError, ValueError) as exc:
        return _fail(exc)
    if args.json:
        print_json(result.as_json())
    elif result.ok:
        print(
            _("Signed by {signer} at {when}: intact and trusted.").format(
                signer=result.signer, when=result.signed_at
            )
        )
    else:
        print(
            _("NOT SIGNED ({state}): {reason}").format(
                state=result.state.value, reason=result.reason
            )
        )
    return exit_codes.OK if result.ok else exit_codes.PARTIAL
