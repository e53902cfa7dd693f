"""The report's fonts: DejaVu Sans (Debian ``fonts-dejavu-core``), embedded as TrueType.

The font files are found at run time (the Debian path, then ``KLINIKA_FONT_DIR``, then
matplotlib's bundled copy when present); nothing falls back to the PDF base-14 fonts,
which are never embedded and have no Cyrillic.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from workstation.reports.errors import ReportError

REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
_FILES = {REGULAR: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf"}
_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/local/share/fonts/dejavu",
    "/Library/Fonts",
)


def _candidates() -> list[Path]:
    dirs = [Path(d) for d in _DIRS]
    if os.environ.get("KLINIKA_FONT_DIR"):
        dirs.insert(0, Path(os.environ["KLINIKA_FONT_DIR"]))
    try:
        import matplotlib

        dirs.append(Path(matplotlib.get_data_path()) / "fonts" / "ttf")
    except ImportError:
        pass
    return dirs


def font_path(name: str) -> Path:
    for folder in _candidates():
        path = folder / _FILES[name]
        if path.is_file():
            return path
    raise ReportError(
        f"font {_FILES[name]} not found: install fonts-dejavu-core or set KLINIKA_FONT_DIR"
    )


@functools.cache
def register_fonts() -> tuple[str, str]:
    """Register DejaVu Sans (regular, bold) with reportlab once; their names."""
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for name in (REGULAR, BOLD):
        pdfmetrics.registerFont(TTFont(name, str(font_path(name))))
    addMapping(REGULAR, 0, 0, REGULAR)
    addMapping(REGULAR, 1, 0, BOLD)
    addMapping(REGULAR, 0, 1, REGULAR)
    addMapping(REGULAR, 1, 1, BOLD)
    return REGULAR, BOLD
