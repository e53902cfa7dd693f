"""The frames of one series from files on disk, for MPR outside the viewer (CLI, scripts).

:func:`read_series` reads the headers of the given files (non-DICOM files are skipped),
requires them to hold exactly one series, decodes every frame through the imaging core
and keeps one header (without pixels) as the template for derived objects.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workstation.i18n import _, ngettext
from workstation.imaging import limits
from workstation.imaging.decode import decode_frame
from workstation.imaging.errors import CannotDisplay, PixelDataError
from workstation.imaging.frame import Frame
from workstation.imaging.header import HeaderCache, ImageHeader

logger = logging.getLogger(__name__)

#: Most files one series may have here (a sanity cap before decoding).
MAX_SERIES_FILES = 20_000


@dataclass(frozen=True)
class SeriesInput:
    """Decoded frames of one series and a pixel-less header to copy modules from."""

    frames: tuple[Frame, ...]
    template: Any
    series_instance_uid: str


def files_in(folder: Path) -> list[Path]:
    """Regular files under `folder` (recursively, sorted, symlinks not followed)."""
    out: list[Path] = []
    for root, dirs, names in os.walk(folder, followlinks=False):
        dirs.sort()
        out.extend(Path(root) / n for n in sorted(names) if (Path(root) / n).is_file())
        if len(out) > MAX_SERIES_FILES:
            break
    return out


def read_series(
    paths: Sequence[Path], progress: Callable[[int, int], None] | None = None
) -> SeriesInput | CannotDisplay:
    """Decode every frame of the single series in `paths`, or say why not; `progress`
    is called with (files decoded, files) as decoding goes."""
    if len(paths) > MAX_SERIES_FILES:
        return CannotDisplay(_("Too many files for one series."))
    headers = HeaderCache(capacity=4)
    found: list[tuple[Path, ImageHeader]] = []
    for path in paths:
        header = _header(path, headers)
        if header is not None:
            found.append((path, header))
    series = {str(h.dataset.get("SeriesInstanceUID", "")) for _p, h in found}
    if not found:
        return CannotDisplay(_("No DICOM images were found."))
    if len(series) > 1:
        return CannotDisplay(
            ngettext(
                "The images belong to {n} series; give one series.",
                "The images belong to {n} series; give one series.",
                len(series),
            ).format(n=len(series))
        )
    frames = []
    for done, (path, header) in enumerate(found, start=1):
        count = min(header.module.number_of_frames, limits.MAX_FRAMES)
        for index in range(count):
            frame = decode_frame(path, index, headers=headers)
            if isinstance(frame, CannotDisplay):
                return frame
            frames.append(frame)
        if progress is not None:
            progress(done, len(found))
    return SeriesInput(tuple(frames), found[0][1].dataset, series.pop())


def _header(path: Path, headers: HeaderCache) -> ImageHeader | None:
    try:
        header = headers.get(str(path))
    except PixelDataError as exc:
        logger.debug("skipping %s: %s", path.name, exc.detail)
        return None
    except Exception:  # not DICOM, unreadable: skipped like an import would
        logger.debug("skipping unreadable %s", path.name, exc_info=True)
        return None
    return header if "PixelData" in header.dataset else None
