"""``workstation reformat SERIES --plane ... --to DIR``: an MPR/slab stack as a DICOM series.

SERIES is a folder holding one series or a Series Instance UID in the local archive. The
derived series (same study, new Series and SOP UIDs, exact geometry, HU kept through
Rescale Slope/Intercept) covers the volume, one file per plane, written into DIR; with
``--import`` it is also stored into the local archive. Audited like an export.

Exit codes: 0 written; 1 no volume can be made or writing failed (the reason is printed);
2 bad arguments; 4 the series does not exist; 6 the archive cannot be opened.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from workstation.cli import exit_codes
from workstation.cli._acting import acts_for_person, add_actor_arguments
from workstation.cli._mpr_series import LoadedSeries, load_series, parse_vector
from workstation.cli.console import print_json
from workstation.cli.context import CliContext
from workstation.i18n import _

if TYPE_CHECKING:
    from workstation.auth.session import Session


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("reformat", help=_("write an MPR or slab stack as a derived DICOM series"))
    p.add_argument("series", metavar="SERIES", help=_("a folder with one series, or a Series UID"))
    p.add_argument("--plane", choices=["axial", "coronal", "sagittal", "oblique"], default="axial")
    p.add_argument("--normal", metavar="X,Y,Z", help=_("normal of an oblique plane (LPS)"))
    p.add_argument("--row", metavar="X,Y,Z", help=_("row direction of an oblique plane (LPS)"))
    p.add_argument("--spacing", type=float, metavar="MM", help=_("pixel spacing in the plane"))
    p.add_argument("--step", type=float, metavar="MM", help=_("distance between planes"))
    p.add_argument("--slab", type=float, default=0.0, metavar="MM", help=_("slab thickness 0-50"))
    p.add_argument("--mode", choices=["mip", "minip", "avg"], default="mip")
    p.add_argument("--phase", type=int, default=1, metavar="N", help=_("phase of a 4-D series"))
    p.add_argument("--to", required=True, type=Path, metavar="DIR", help=_("output folder"))
    p.add_argument("--import", dest="import_", action="store_true",
                   help=_("also store the series into the local archive"))  # fmt: skip
    p.add_argument("--json", action="store_true", help=_("print a JSON summary"))
    add_actor_arguments(p)
    p.set_defaults(handler=run_reformat)


@acts_for_person
def run_reformat(ctx: CliContext, args: argparse.Namespace, session: Session) -> int:
    from workstation.mpr.geometry import PlaneKind, Slab, SlabMode
    from workstation.mpr.reformat import ReformatRequest

    try:
        normal = parse_vector(args.normal) if args.normal else None
        row = parse_vector(args.row) if args.row else None
        slab = Slab(args.slab, SlabMode(args.mode)) if args.slab > 0 else None
    except ValueError:
        print(_("Give vectors as X,Y,Z and a slab of 0-50 mm."), file=sys.stderr)
        return exit_codes.USAGE
    if args.plane == "oblique" and normal is None:
        print(_("An oblique plane needs --normal X,Y,Z."), file=sys.stderr)
        return exit_codes.USAGE
    if any(v is not None and v <= 0 for v in (args.spacing, args.step)):
        print(_("Spacing and step must be positive."), file=sys.stderr)
        return exit_codes.USAGE
    request = ReformatRequest(PlaneKind(args.plane), normal, row, args.spacing, args.step, slab)
    loaded = load_series(ctx, args.series, args.phase)
    if isinstance(loaded, int):
        return loaded
    return _export(ctx, args, loaded, request, session)


def _export(
    ctx: CliContext, args: argparse.Namespace, loaded: LoadedSeries, request: object,
    session: Session,
) -> int:  # fmt: skip
    from workstation.mpr.export import ExportRefused
    from workstation.services.mpr_actions import Actor, export_reformat

    try:
        result = export_reformat(
            loaded.volume, loaded.template, request, args.to,  # type: ignore[arg-type]
            audit=ctx.services.audit, actor=Actor(session=session),
            archive=ctx.archive if args.import_ else None,
        )  # fmt: skip
    except (ExportRefused, ValueError, OSError) as exc:
        print(_("Cannot write the series: {error}").format(error=exc), file=sys.stderr)
        return exit_codes.PARTIAL
    summary = {
        "series_instance_uid": result.series_instance_uid,
        "study_instance_uid": result.study_instance_uid,
        "files": len(result.paths),
        "folder": os.path.abspath(args.to),
        "imported": bool(args.import_),
        "stored": result.stored,
        "rejected": list(result.rejected),
        "tilt_deg": round(loaded.volume.tilt_deg, 3),
        "warnings": list(loaded.volume.warnings),
    }
    if args.json:
        print_json(summary)
    else:
        print(_("Wrote {n} images to {path}.").format(n=len(result.paths), path=args.to))
    return exit_codes.PARTIAL if result.rejected else exit_codes.OK
