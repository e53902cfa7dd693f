"""``workstation find PEER [--level study|series|image] [filters] [--json]``: search a
remote archive (C-FIND, or QIDO-RS for ``central``).

Filters: ``--patient``, ``--patient-id``, ``--date FROM-TO``, ``--modality``,
``--accession``, ``--study UID``, ``--series UID`` and any ``-k Keyword=value``.
``--json`` prints a JSON array of matches (DICOM keywords as keys).
"""

from __future__ import annotations

import argparse
import sys

from workstation.cli import _remote, exit_codes
from workstation.cli.console import print_json
from workstation.cli.context import CliContext
from workstation.i18n import _

_COLUMNS = {
    "STUDY": ("StudyDate", "PatientName", "PatientID", "ModalitiesInStudy", "StudyDescription",
              "NumberOfStudyRelatedInstances", "StudyInstanceUID"),
    "SERIES": ("SeriesNumber", "Modality", "SeriesDescription", "NumberOfSeriesRelatedInstances",
               "SeriesInstanceUID"),
    "IMAGE": ("InstanceNumber", "SOPClassUID", "SOPInstanceUID"),
    "PATIENT": ("PatientName", "PatientID", "PatientBirthDate"),
}  # fmt: skip


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("find", help=_("search a remote archive (C-FIND / QIDO-RS)"))
    _remote.add_peer_arguments(p)
    p.add_argument("--level", default="study", choices=["patient", "study", "series", "image"])
    p.add_argument("--patient", default="", help=_("patient name (DICOM wildcards * and ?)"))
    p.add_argument("--patient-id", default="")
    p.add_argument("--date", default="", metavar="FROM-TO", help=_("study date or range"))
    p.add_argument("--modality", default="")
    p.add_argument("--accession", default="")
    p.add_argument("--study", default="", metavar="UID", help=_("Study Instance UID"))
    p.add_argument("--series", default="", metavar="UID", help=_("Series Instance UID"))
    p.add_argument(
        "-k", dest="keys", action="append", default=[], metavar="KEYWORD=VALUE",
        help=_("any attribute filter, e.g. -k StudyDescription=CHEST*"),
    )  # fmt: skip
    p.add_argument(
        "--limit",
        type=int,
        default=None,
        help=_("at most this many matches (default: node.max_find_results, then a warning)"),
    )
    p.set_defaults(handler=run_find)


def filters_from(args: argparse.Namespace) -> dict[str, str]:
    level = args.level.upper()
    out = {
        "PatientName": args.patient,
        "PatientID": args.patient_id,
        "StudyDate": args.date,
        "ModalitiesInStudy" if level in ("STUDY", "PATIENT") else "Modality": args.modality,
        "AccessionNumber": args.accession,
        "StudyInstanceUID": args.study,
        "SeriesInstanceUID": args.series,
    }
    for pair in args.keys:
        keyword, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(_("-k expects KEYWORD=VALUE, got {pair!r}").format(pair=pair))
        out[keyword.strip()] = value
    return {k: v for k, v in out.items() if v}


def run_find(ctx: CliContext, args: argparse.Namespace) -> int:
    from workstation.pacs_node.remote import QueryLevel

    level = QueryLevel(args.level.upper())
    try:
        filters = filters_from(args)
        remote = _remote.remote_for(ctx, args, archive=False)
        matches, interrupted = _remote.run_with_progress(
            args, lambda _p, cancel: remote.find(level, filters, limit=args.limit, cancel=cancel)
        )
    except _remote.network_errors() as exc:
        return _remote.fail(exc)
    rows = [_remote.dataset_json(m) for m in matches or []]
    if args.json:
        print_json(rows)
    else:
        cols = _COLUMNS[str(level)]
        for row in rows:
            print("  ".join(_cell(row.get(c, "")) for c in cols))
        print(_("{n} match(es).").format(n=len(rows)))
    if interrupted:
        return exit_codes.CANCELLED
    if getattr(matches, "truncated", False):
        print(
            _("More results than {n}; narrow the query.").format(n=matches.cap),  # type: ignore[union-attr]
            file=sys.stderr,
        )
        return exit_codes.PARTIAL
    return exit_codes.OK


def _cell(value: object) -> str:
    return "\\".join(value) if isinstance(value, list) else str(value or "-")
