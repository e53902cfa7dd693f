"""Removable media: CDs, DVDs and USB sticks the operator may import from.

Linux: ``/proc/mounts`` entries mounted under ``/media``, ``/run/media`` or ``/mnt``, or
with a CD/DVD file system, or whose block device says ``removable``.  Windows: drives of
type removable or CD-ROM.  macOS: ``/Volumes/*`` except the system volume.  Nothing on the
media is run; the import only reads files.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from workstation.i18n import _

logger = logging.getLogger(__name__)

OPTICAL_FS = {"iso9660", "udf"}
REMOVABLE_FS = OPTICAL_FS | {"vfat", "exfat", "msdos", "ntfs", "ntfs3", "fuseblk", "hfsplus"}
MOUNT_ROOTS = ("/media/", "/run/media/", "/mnt/")


@dataclass(frozen=True)
class MediaVolume:
    path: Path
    label: str
    #: "optical", "removable" (USB stick, card) or "unknown".
    kind: str


def _unescape(field: str) -> str:
    # /proc/mounts escapes space, tab, newline and backslash as octal.
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and i + 4 <= len(field) and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def _sys_removable(device: str, sys_block: Path) -> bool:
    name = Path(device).name
    for candidate in (name, name.rstrip("0123456789"), name.split("p")[0]):
        flag = sys_block / candidate / "removable"
        try:
            if flag.read_text().strip() == "1":
                return True
        except OSError:
            continue
    return False


def parse_proc_mounts(text: str, sys_block: Path = Path("/sys/block")) -> list[MediaVolume]:
    """Removable volumes from the text of ``/proc/mounts`` (split out for testing)."""
    volumes = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        device, mount, fstype = fields[0], _unescape(fields[1]), fields[2]
        under_media = mount.startswith(MOUNT_ROOTS)
        optical = fstype in OPTICAL_FS or Path(device).name.startswith("sr")
        removable = device.startswith("/dev/") and _sys_removable(device, sys_block)
        if not (optical or removable or (under_media and fstype in REMOVABLE_FS)):
            continue
        kind = "optical" if optical else "removable"
        volumes.append(MediaVolume(Path(mount), Path(mount).name, kind))
    return volumes


def _windows_media() -> list[MediaVolume]:  # pragma: no cover - Windows only
    import ctypes
    import string

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    mask = kernel32.GetLogicalDrives()
    out = []
    for i, letter in enumerate(string.ascii_uppercase):
        if not mask & (1 << i):
            continue
        root = f"{letter}:\\"
        kind = {2: "removable", 5: "optical"}.get(kernel32.GetDriveTypeW(root))
        if kind and os.path.exists(root):
            out.append(MediaVolume(Path(root), f"{letter}:", kind))
    return out


def _macos_media() -> list[MediaVolume]:  # pragma: no cover - macOS only
    volumes = Path("/Volumes")
    out = []
    root_dev = os.stat("/").st_dev
    for entry in sorted(volumes.iterdir()) if volumes.is_dir() else []:
        try:
            if entry.is_dir() and os.stat(entry).st_dev != root_dev:
                out.append(MediaVolume(entry, entry.name, "unknown"))
        except OSError:
            continue
    return out


def removable_media() -> list[MediaVolume]:
    """Mounted removable volumes on this machine (best effort, never raises)."""
    try:
        if sys.platform.startswith("win"):
            return _windows_media()
        if sys.platform == "darwin":
            return _macos_media()
        return parse_proc_mounts(Path("/proc/mounts").read_text(encoding="utf-8", errors="replace"))
    except OSError:
        logger.exception("removable media could not be listed")
        return []


def no_media_message() -> str:
    """What to tell someone who asked to import media when none is mounted."""
    return _(
        "No removable media found: no CD, DVD or USB stick is mounted. Insert one, wait "
        "until the system mounts it, and try again (or name its folder)."
    )
