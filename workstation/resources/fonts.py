"""Which font file draws text: the viewer's overlays (patient name, measurements,
markers) and the reports' PDF (DejaVu Sans, embedded).

VTK's built-in fonts (Arial, Courier, Times) hold Latin-1 only: a Cyrillic, Greek or CJK
patient name came out blank in the image corners, a wrong-patient risk.  Overlay text is
drawn with a TrueType file instead: DejaVu Sans Mono (Latin, Greek, Cyrillic) and, for
text with CJK characters, a CJK font when one is installed.  The files come from the
system (Debian ``fonts-dejavu-core``, ``fonts-wqy-zenhei`` or ``fonts-noto-cjk``) or,
for DejaVu, from matplotlib's data folder (the VTK wheel brings matplotlib along), so
Windows and macOS find one too.  No VTK, no reportlab here: the viewer's VTK layer and
:mod:`workstation.reports.fonts` ask this module, which sits below both.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
from pathlib import Path

_DEJAVU_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
    Path("/Library/Fonts"),
)
_CJK_FILES = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),
    Path("/System/Library/Fonts/PingFang.ttc"),
    Path("/System/Library/Fonts/Hiragino Sans GB.ttc"),
)
_WINDOWS_CJK = ("msyh.ttc", "msgothic.ttc", "malgun.ttf", "simsun.ttc")


def _matplotlib_fonts() -> Path | None:
    """matplotlib's bundled TTF folder, found without importing matplotlib."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"
    return folder if folder.is_dir() else None


@functools.cache
def dejavu_file(name: str) -> Path | None:
    """A DejaVu font file by name (``DejaVuSans.ttf``...): the system's, else
    matplotlib's bundled copy; None when neither has it.  Reports embed these too."""
    dirs = list(_DEJAVU_DIRS)
    if sys.platform == "win32":
        dirs.append(Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts")
    bundled = _matplotlib_fonts()
    if bundled is not None:
        dirs.append(bundled)
    return next((d / name for d in dirs if (d / name).is_file()), None)


def latin_font(bold: bool = False) -> Path | None:
    """DejaVu Sans Mono (bold or regular): Latin, Greek and Cyrillic."""
    return dejavu_file("DejaVuSansMono-Bold.ttf" if bold else "DejaVuSansMono.ttf")


@functools.cache
def cjk_font() -> Path | None:
    """A font with Chinese, Japanese and Korean characters, if one is installed."""
    candidates = list(_CJK_FILES)
    if sys.platform == "win32":
        fonts = Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts"
        candidates += [fonts / name for name in _WINDOWS_CJK]
    return next((p for p in candidates if p.is_file()), None)


def needs_cjk(text: str) -> bool:
    """True when ``text`` has a character from the CJK, kana or Hangul blocks."""
    return any(
        0x2E80 <= ord(ch) <= 0x9FFF or 0xAC00 <= ord(ch) <= 0xD7AF or 0xF900 <= ord(ch) <= 0xFAFF
        for ch in text
    )


def font_for(text: str, bold: bool = False) -> Path | None:
    """The font file to draw ``text`` with; None: VTK's own font (nothing better found)."""
    if needs_cjk(text):
        cjk = cjk_font()
        if cjk is not None:
            return cjk
    return latin_font(bold)
