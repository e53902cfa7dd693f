"""A font file for VTK text that has Cyrillic and accented Latin letters.

VTK's built-in fonts (Arial, Courier, Times) hold Latin-1 only: a Russian overlay
("Сер. 3", "Ш 400 Ц 40", "10 мм") or a Cyrillic patient name drew as gaps.  VTK
renders any TrueType file through FreeType, so text actors use a monospaced system
font with those letters; where none is found they keep VTK's Courier.
"""

from __future__ import annotations

import os
import sys
from functools import cache
from pathlib import Path

from vtkmodules.vtkRenderingCore import vtkTextProperty

#: Monospaced fonts with Latin, Cyrillic and Greek, per platform, regular then bold.
_CANDIDATES: dict[str, list[tuple[str, str]]] = {
    "linux": [
        (
            "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
            "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf",
        ),
        (
            "/usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf",
            "/usr/share/fonts/truetype/liberation/LiberationMono-Bold.ttf",
        ),
        (
            "/usr/share/fonts/dejavu-sans-mono-fonts/DejaVuSansMono.ttf",
            "/usr/share/fonts/dejavu-sans-mono-fonts/DejaVuSansMono-Bold.ttf",
        ),
    ],
    "win32": [("consola.ttf", "consolab.ttf"), ("cour.ttf", "courbd.ttf")],
    "darwin": [
        (
            "/System/Library/Fonts/Supplemental/Courier New.ttf",
            "/System/Library/Fonts/Supplemental/Courier New Bold.ttf",
        ),
        ("/Library/Fonts/Courier New.ttf", "/Library/Fonts/Courier New Bold.ttf"),
    ],
}


@cache
def unicode_font_files() -> tuple[str, str] | None:
    """(regular, bold) font files to use, or None for VTK's own Courier."""
    platform = "win32" if sys.platform.startswith("win") else sys.platform
    windows_fonts = Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts"
    for regular, bold in _CANDIDATES.get(platform, _CANDIDATES["linux"]):
        paths = [Path(p) if Path(p).is_absolute() else windows_fonts / p for p in (regular, bold)]
        if paths[0].is_file():
            return str(paths[0]), str(paths[1] if paths[1].is_file() else paths[0])
    return None


def use_unicode_font(prop: vtkTextProperty, bold: bool = False) -> None:
    """Make ``prop`` draw with the Unicode font (VTK's Courier when there is none)."""
    files = unicode_font_files()
    if files is None:
        prop.SetFontFamilyAsString("Courier")
        prop.SetBold(bold)
        return
    prop.SetFontFamily(vtkTextProperty.GetFontFamilyFromString("File"))
    prop.SetFontFile(files[1] if bold else files[0])
