"""Write a rendered picture for ``render`` and ``render3d``, or say why not."""

from __future__ import annotations

import sys
from typing import Any

from workstation.i18n import _


def write_png_out(path: str, image: Any) -> bool:
    """Write ``image`` as a PNG at ``path``; False, with the reason on stderr, if it fails."""
    from workstation.imaging.png import write_png

    try:
        write_png(path, image)
    except OSError as exc:
        print(
            _("Cannot write {path}: {error}").format(path=path, error=exc.strerror or exc),
            file=sys.stderr,
        )
        return False
    return True
