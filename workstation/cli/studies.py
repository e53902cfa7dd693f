"""``workstation studies``: list studies in the local archive.

``--json`` prints a JSON array of studies (study_instance_uid, patient_id, patient_name,
study_date, modalities, num_series, num_instances, and more).
"""

from __future__ import annotations

import argparse
import sys

from workstation.cli import exit_codes
from workstation.cli._archive_verbs import needs_archive
from workstation.cli.console import human_bytes, print_json
from workstation.cli.context import CliContext
from workstation.i18n import _


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("studies", help=_("list studies in the local archive"))
    p.add_argument("--patient", default="", help=_("patient name (part of it, or with * and ?)"))
    p.add_argument("--patient-id", default="", help=_("patient ID (exact, or with * and ?)"))
    p.add_argument("--modality", default="", help=_("modality, e.g. CT (or CT,MR)"))
    p.add_argument(
        "--date",
        default="",
        metavar="FROM-TO",
        help=_(
            "study date or range, DICOM or ISO: 20240101, 2024-01-01, "
            "20240101-20240131, 2024-01-01..2024-01-31, 2024-01-01-"
        ),
    )
    p.add_argument("--accession", default="", help=_("accession number"))
    p.add_argument("--description", default="", help=_("study description (part of it)"))
    p.add_argument("--limit", type=int, default=500, help=_("at most this many (default 500)"))
    p.add_argument("--json", action="store_true", help=_("print a JSON array"))
    p.set_defaults(handler=run_studies)


@needs_archive
def run_studies(ctx: CliContext, args: argparse.Namespace) -> int:
    from workstation.pacs_node.archive import StudyQuery
    from workstation.pacs_node.archive.normalize import parse_date_range

    date_from = date_to = None
    if args.date:
        try:
            date_from, date_to = parse_date_range(args.date)
        except ValueError:
            print(
                _(
                    "Cannot read the date {value!r}: use a real date as YYYYMMDD or "
                    "YYYY-MM-DD, or a range FROM-TO (either end may be left out)."
                ).format(value=args.date),
                file=sys.stderr,
            )
            return exit_codes.USAGE
    query = StudyQuery(
        patient_name=args.patient,
        patient_id=args.patient_id,
        modality=args.modality,
        accession_number=args.accession,
        description=args.description,
        date_from=date_from,
        date_to=date_to,
        limit=args.limit,
    )
    studies = ctx.archive.find_studies(query)
    if args.json:
        print_json([s.to_json() for s in studies])
        return exit_codes.OK
    if not studies:
        print(_("No studies found."))
        return exit_codes.OK
    header = (
        _("Date"),
        _("Patient"),
        _("Patient ID"),
        _("Modalities"),
        _("Series"),
        _("Images"),
        _("Size"),
        _("Description"),
    )
    rows = [
        (
            _fmt_date(s.study_date),
            s.patient_name.replace("^", " ").strip(),
            s.patient_id,
            ",".join(s.modalities),
            str(s.num_series),
            str(s.num_instances),
            human_bytes(s.size_bytes),
            s.study_description,
        )
        for s in studies
    ]
    fallbacks = sorted({s.charset_fallback for s in studies if s.charset_fallback})
    widths = [min(40, max(len(r[i]) for r in [header, *rows])) for i in range(len(header))]
    for r in [header, *rows]:
        print("  ".join(str(c)[:w].ljust(w) for c, w in zip(r, widths)).rstrip())
    print(_("{n} studies.").format(n=len(studies)))
    for charset in fallbacks:
        marked = [s.study_instance_uid for s in studies if s.charset_fallback == charset]
        print(
            _(
                "Text of {n} of these studies was read as {charset}: their files declare "
                "no character set (archive.fallback_charset)."
            ).format(n=len(marked), charset=charset)
        )
    return exit_codes.OK


def _fmt_date(d: str) -> str:
    return f"{d[0:4]}-{d[4:6]}-{d[6:8]}" if len(d) == 8 else "-"
