"""Give VTK text a font file that has the text's script.

VTK's built-in fonts (Arial, Courier, Times) hold Latin-1 only: a Russian overlay
("Сер. 3", "Ш 400 Ц 40", "10 мм") or a Cyrillic, Greek or CJK patient name drew as gaps.
VTK renders any TrueType file through FreeType; which file draws which text is decided
in :mod:`workstation.resources.fonts` (no VTK there).  Where no file is found, VTK's
Courier stays.
"""

from __future__ import annotations

from vtkmodules.vtkCommonCore import VTK_FONT_FILE
from vtkmodules.vtkRenderingCore import vtkTextProperty

from workstation.resources.fonts import font_for, latin_font


def unicode_font_files() -> tuple[str, str] | None:
    """(regular, bold) Latin/Greek/Cyrillic font files, or None for VTK's own Courier."""
    regular = latin_font(False)
    if regular is None:
        return None
    bold = latin_font(True) or regular
    return str(regular), str(bold)


def use_unicode_font(prop: vtkTextProperty, bold: bool = False, text: str = "") -> None:
    """Make ``prop`` draw ``text`` (or any Latin/Greek/Cyrillic text) with a font that
    has its letters; VTK's Courier when there is none."""
    font = font_for(text, bold)
    if font is None:
        prop.SetFontFamilyAsString("Courier")
        prop.SetBold(bold)
        return
    prop.SetFontFamily(VTK_FONT_FILE)
    prop.SetFontFile(str(font))
