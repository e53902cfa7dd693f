"""Whether the desktop app can open a window here, asked before Qt starts.

Qt aborts the process (exit 134, SIGABRT) with a message about xcb plugins when there is
no display, e.g. over SSH; the command says what is wrong and what to run instead.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

from workstation.i18n import _

#: Qt platforms that need no display server.
_SCREENLESS_PLATFORMS = ("offscreen", "minimal", "vnc", "eglfs", "linuxfb", "vkkhrdisplay")


def missing_display_reason(env: Mapping[str, str], platform: str = sys.platform) -> str:
    """ "" when a window can open, else why not (translated), naming the headless command.

    Windows and macOS always have a display; elsewhere Qt needs ``DISPLAY`` (X11) or
    ``WAYLAND_DISPLAY``, unless ``QT_QPA_PLATFORM`` names a platform that needs neither.
    """
    if platform.startswith("win") or platform == "darwin":
        return ""
    qpa = env.get("QT_QPA_PLATFORM", "").split(":", 1)[0].strip()
    if qpa in _SCREENLESS_PLATFORMS:
        return ""
    wants_wayland = qpa.startswith("wayland")
    has_x = bool(env.get("DISPLAY", "").strip())
    has_wayland = bool(env.get("WAYLAND_DISPLAY", "").strip())
    if (has_wayland and qpa != "xcb") or (has_x and not wants_wayland):
        return ""
    return _(
        "There is no display to open the workstation window on (DISPLAY and "
        "WAYLAND_DISPLAY are not set; over SSH, use 'ssh -X' or sit at the machine). "
        "To run the archive and the DICOM node without a window, use "
        "'workstation start --headless'."
    )
