"""A full disk made for real: a ballast file that takes a small filesystem's last byte
(a tmpfs mounted by the test), so the next write of the server on it gets ENOSPC."""

from __future__ import annotations

import errno
from pathlib import Path


def fill_disk(folder: Path) -> Path:
    """Write ``folder/ballast`` until the disk refuses another byte; return its path
    (delete it to give the space back)."""
    ballast = folder / "ballast"
    with ballast.open("wb", buffering=0) as f:
        for size in (1 << 20, 1 << 12, 1):
            while True:
                try:
                    f.write(b"\0" * size)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
    return ballast
