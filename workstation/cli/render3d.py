"""``workstation render3d SERIES --preset NAME --out PNG``: a 3-D picture, offscreen.

The same engine and VTK pipeline as the 3-D view (``vtkFixedPointVolumeRayCastMapper``,
3D Slicer's presets), rendered offscreen. The camera looks at the patient from the
front (head up); ``--azimuth``/``--elevation`` turn it. ``--crop`` keeps a box given in
fractions 0-1 of the column, row and slice axes.

Exit codes: 0 written; 1 no volume or the picture could not be written; 2 bad
arguments; 4 the series does not exist; 7 not permitted. A series from the local
archive is a read-out of patient data: permission-checked (``studies.export``, for
``--user`` or the data directory's owner) and audited as ``study_export`` with
``kind: render3d``. ``--iso HU`` draws the iso-surface at that value (flying edges,
decimated to the triangle budget, cut by ``--crop`` too) instead of the ray-cast volume.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from workstation.cli import exit_codes
from workstation.cli._acting import acting_session, add_actor_arguments, auth_failure
from workstation.cli._mpr_series import load_series, parse_floats
from workstation.cli.console import print_json
from workstation.cli.context import CliContext
from workstation.i18n import _


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("render3d", help=_("render a series in 3-D to a PNG file"))
    p.add_argument("series", metavar="SERIES", help=_("a folder with one series, or a Series UID"))
    p.add_argument("--preset", default="CT-Bone", metavar="NAME", help=_("rendering preset"))
    p.add_argument("--shift", type=float, default=0.0, help=_("move the preset by this value"))
    p.add_argument("--blend", choices=["composite", "mip", "minip"], default="composite")
    p.add_argument("--azimuth", type=float, default=0.0, metavar="DEG")
    p.add_argument("--elevation", type=float, default=0.0, metavar="DEG")
    p.add_argument("--size", default="512x512", metavar="WxH")
    p.add_argument("--crop", metavar="X0,X1,Y0,Y1,Z0,Z1", help=_("crop box in fractions 0-1"))
    p.add_argument(
        "--iso", type=float, metavar="HU", help=_("draw the iso-surface at this value instead")
    )
    p.add_argument("--phase", type=int, default=1, metavar="N")
    p.add_argument("--out", required=True, metavar="PNG", help=_("the PNG file to write"))
    p.add_argument("--json", action="store_true", help=_("print a JSON summary"))
    add_actor_arguments(p)
    p.set_defaults(handler=run_render3d)


def run_render3d(ctx: CliContext, args: argparse.Namespace) -> int:
    from workstation.mpr.presets import preset, presets

    try:
        chosen = preset(args.preset)
    except KeyError:
        print(
            _("Unknown preset {name}; known: {names}").format(
                name=args.preset, names=", ".join(presets())
            ),
            file=sys.stderr,
        )
        return exit_codes.USAGE
    try:
        w, h = (int(v) for v in args.size.lower().split("x"))
        crop = parse_floats(args.crop, 6) if args.crop else None
    except ValueError:
        print(_("Give --size as WxH and --crop as six fractions."), file=sys.stderr)
        return exit_codes.USAGE
    if (
        not (16 <= w <= 4096 and 16 <= h <= 4096)
        or (crop is not None and not all(0.0 <= c <= 1.0 for c in crop))
        or (args.iso is not None and not -1e6 < args.iso < 1e6)
    ):
        print(
            _("The size must be 16-4096 pixels, crop fractions 0-1 and the iso value finite."),
            file=sys.stderr,
        )
        return exit_codes.USAGE
    loaded = load_series(ctx, args.series, args.phase)
    if isinstance(loaded, int):
        return loaded
    session = None
    study_uid = str(loaded.template.get("StudyInstanceUID", "")) or None
    if loaded.from_archive:
        from workstation.auth.errors import AuthError
        from workstation.auth.permissions import Permission

        try:
            session = acting_session(ctx, args)
            ctx.services.actions(session).guard(Permission.STUDY_EXPORT, study_uid)
        except AuthError as exc:
            return auth_failure(exc)
    code = _render(args, loaded.volume, chosen, (w, h), crop)
    if session is not None and code == exit_codes.OK:
        from workstation.auth.audit import AuditAction

        ctx.services.audit.record(
            AuditAction.STUDY_EXPORT, session=session, study_uid=study_uid, kind="render3d",
            series_uid=args.series, preset=chosen.name, iso=args.iso,
        )  # fmt: skip
    return code


def _render(args: argparse.Namespace, volume: object, chosen: object, size: tuple[int, int],
            crop: tuple[float, ...] | None) -> int:  # fmt: skip
    from workstation.cli._png_out import write_png_out
    from workstation.mpr._vtk.vtk_volume_render import render_offscreen

    start = time.perf_counter()
    image = render_offscreen(
        volume, chosen, size=size, azimuth_deg=args.azimuth,  # type: ignore[arg-type]
        elevation_deg=args.elevation, crop=crop, blend=args.blend, shift=args.shift,
        iso_value=args.iso,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    if not write_png_out(args.out, image):
        return exit_codes.PARTIAL
    summary = {
        "out": os.path.abspath(args.out),
        "width": size[0],
        "height": size[1],
        "preset": getattr(chosen, "name", ""),
        "iso": args.iso,
        "render_seconds": round(seconds, 3),
        "non_black_fraction": round(float((image.max(axis=2) > 8).mean()), 4),
    }
    if args.json:
        print_json(summary)
    else:
        print(_("Wrote {path} ({w}x{h}).").format(path=args.out, w=size[0], h=size[1]))
    return exit_codes.OK
