"""``workstation render FILE --out IMAGE.png``: what the viewer shows, as a PNG.

The frame is drawn at 1:1 without overlays through the same pipeline as the viewer
(modality LUT, VOI, presentation LUT; colour converted to RGB): 8-bit grey PNG for
greyscale images, RGB PNG for colour. Without ``--window`` the file's own first window
is used, else its first VOI LUT, else a window spanning the frame's minimum to maximum
modality value.

A stored file of the local archive is patient data read out: the render is
permission-checked (``--user NAME --password-stdin``, else the data directory's owner)
and audited as an export (``format: png``).

Exit codes: 0 written; 1 the image cannot be displayed (the reason is printed);
4 the file does not exist; 7 not permitted.
"""

from __future__ import annotations

import argparse
import os
import sys

from workstation.cli import exit_codes
from workstation.cli._acting import acting_session, add_actor_arguments, auth_failure
from workstation.cli.console import print_json
from workstation.cli.context import CliContext
from workstation.i18n import _


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("render", help=_("write a DICOM image as PNG, as the viewer shows it"))
    p.add_argument("file", metavar="FILE", help=_("a DICOM image file"))
    p.add_argument("--out", required=True, metavar="IMAGE.png", help=_("the PNG file to write"))
    p.add_argument(
        "--frame", type=int, default=1, metavar="N", help=_("frame number, from 1 (default 1)")
    )
    p.add_argument(
        "--window",
        nargs=2,
        type=float,
        metavar=("CENTER", "WIDTH"),
        help=_("window centre and width in modality units (default: the file's own)"),
    )
    p.add_argument("--json", action="store_true", help=_("print what was written as JSON"))
    add_actor_arguments(p)
    p.set_defaults(handler=run_render)


def run_render(ctx: CliContext, args: argparse.Namespace) -> int:
    from workstation.auth.errors import AuthError
    from workstation.auth.permissions import Permission
    from workstation.cli._png_out import write_png_out
    from workstation.imaging.decode import decode_frame
    from workstation.imaging.errors import CannotDisplay
    from workstation.imaging.render import display_voi, to_display_u8
    from workstation.imaging.windowing import VoiWindow

    if not os.path.isfile(args.file):
        print(_("No such file: {path}").format(path=args.file), file=sys.stderr)
        return exit_codes.NOT_FOUND
    if args.frame < 1:
        print(_("Frames are numbered from 1."), file=sys.stderr)
        return exit_codes.USAGE
    if args.window is not None and args.window[1] < 1:
        print(_("The window width must be at least 1."), file=sys.stderr)
        return exit_codes.USAGE
    archived = _archived_instance(ctx, args.file)
    if archived is not None:
        try:
            actions = ctx.services.actions(acting_session(ctx, args))
            actions.guard(Permission.STUDY_EXPORT, archived[0])
        except AuthError as exc:
            return auth_failure(exc)
    frame = decode_frame(args.file, args.frame - 1)
    if isinstance(frame, CannotDisplay):
        print(_("Cannot display this image: {reason}").format(reason=frame.reason), file=sys.stderr)
        return exit_codes.PARTIAL
    voi = (
        None if frame.is_color else display_voi(frame, tuple(args.window) if args.window else None)
    )
    image = to_display_u8(frame, voi)
    if not write_png_out(args.out, image):
        return exit_codes.PARTIAL
    if archived is not None:
        actions.record_render(archived[0], archived[1], args.frame)
    summary = {
        "out": os.path.abspath(args.out),
        "rows": int(image.shape[0]),
        "columns": int(image.shape[1]),
        "color": frame.is_color,
        "frame": args.frame,
        "frames": frame.info.number_of_frames,
        "photometric": frame.info.photometric,
        "window": _window_json(voi, VoiWindow),
    }
    if args.json:
        print_json(summary)
    else:
        print(
            _("Wrote {path} ({columns}x{rows}).").format(
                path=args.out, columns=summary["columns"], rows=summary["rows"]
            )
        )
    return exit_codes.OK


def _archived_instance(ctx: CliContext, file: str) -> tuple[str, str] | None:
    """(study UID, SOP instance UID) when ``file`` is a stored file of the local archive
    (rendering it reads out patient data: permission-checked and audited), else None."""
    from pathlib import Path

    from pydicom import dcmread

    path = Path(file).resolve()
    if not path.is_relative_to(ctx.settings.store_dir.resolve()):
        return None
    ds = dcmread(
        path, stop_before_pixels=True, specific_tags=["StudyInstanceUID", "SOPInstanceUID"]
    )
    return str(ds.get("StudyInstanceUID", "")), str(ds.get("SOPInstanceUID", ""))


def _window_json(voi: object, window_type: type) -> dict[str, object] | None:
    if voi is None:
        return None
    if isinstance(voi, window_type):
        return {
            "center": voi.center,  # type: ignore[attr-defined]
            "width": voi.width,  # type: ignore[attr-defined]
            "function": voi.function,  # type: ignore[attr-defined]
            "explanation": voi.explanation,  # type: ignore[attr-defined]
        }
    return {"voi_lut": getattr(voi, "explanation", "") or "VOI LUT"}
