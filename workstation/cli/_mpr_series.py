"""Shared by ``reformat`` and ``render3d``: SERIES (a folder or a local Series UID) to a volume."""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workstation.cli import exit_codes
from workstation.cli.context import CliContext
from workstation.i18n import _

if TYPE_CHECKING:
    from workstation.mpr.volume import MprVolume


@dataclass
class LoadedSeries:
    volume: MprVolume
    template: Any
    from_archive: bool


def load_series(ctx: CliContext, series: str, phase: int = 1) -> LoadedSeries | int:
    """The volume of SERIES, or an exit code after printing why not."""
    from workstation.imaging.errors import CannotDisplay
    from workstation.mpr.series_input import files_in, read_series
    from workstation.mpr.volume import build_mpr_volume

    folder = Path(series)
    from_archive = not folder.is_dir()
    if from_archive:
        paths = _archive_paths(ctx, series)
        if isinstance(paths, int):
            return paths
    else:
        paths = files_in(folder)
    loaded = read_series(paths)
    if isinstance(loaded, CannotDisplay):
        print(_("Cannot read the series: {reason}").format(reason=loaded.reason), file=sys.stderr)
        return exit_codes.PARTIAL
    volume = build_mpr_volume(loaded.frames, phase=phase - 1)
    if isinstance(volume, CannotDisplay):
        print(_("No volume for MPR: {reason}").format(reason=volume.reason), file=sys.stderr)
        return exit_codes.PARTIAL
    for warning in volume.warnings:
        print(warning, file=sys.stderr)
    return LoadedSeries(volume, loaded.template, from_archive)


def _archive_paths(ctx: CliContext, series_uid: str) -> list[Path] | int:
    from workstation.pacs_node.archive.errors import ArchiveError

    try:
        instances = ctx.archive.find_instances(series_uid)
    except ArchiveError as exc:
        print(_("The local archive cannot be opened: {error}").format(error=exc), file=sys.stderr)
        return exit_codes.CONFIG
    if not instances:
        print(
            _("No folder and no local series with UID {uid}.").format(uid=series_uid),
            file=sys.stderr,
        )
        return exit_codes.NOT_FOUND
    return [rec.path for rec in instances]


def parse_floats(text: str, count: int) -> tuple[float, ...]:
    """``"1,0,0"`` to floats; ValueError unless exactly `count` finite numbers."""
    values = tuple(float(v) for v in text.split(","))
    if len(values) != count or not all(math.isfinite(v) for v in values):
        raise ValueError(text)
    return values


def parse_vector(text: str) -> tuple[float, float, float]:
    x, y, z = parse_floats(text, 3)
    return x, y, z
