"""The report's fonts: DejaVu Sans (Debian ``fonts-dejavu-core``), embedded as TrueType.

The files are found at run time by :func:`workstation.resources.fonts.dejavu_file` (the
system's DejaVu, else matplotlib's bundled copy), or in ``KLINIKA_FONT_DIR`` first.
Nothing falls back to the PDF base-14 fonts, which are never embedded and have no
Cyrillic.  DejaVu's licence (Bitstream Vera derivative) allows embedding.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from workstation.reports.errors import ReportError
from workstation.resources.fonts import dejavu_file

REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
_FILES = {REGULAR: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf"}


def font_path(name: str) -> Path:
    override = os.environ.get("KLINIKA_FONT_DIR")
    if override and (Path(override) / _FILES[name]).is_file():
        return Path(override) / _FILES[name]
    found = dejavu_file(_FILES[name])
    if found is None:
        raise ReportError(
            f"font {_FILES[name]} not found: install fonts-dejavu-core or set KLINIKA_FONT_DIR"
        )
    return found


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
