"""``workstation`` and ``python -m workstation``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workstation.config import Settings


def run_desktop(settings: Settings) -> int:
    """The desktop app (``workstation start`` with a screen and PySide6)."""
    from workstation.app.main import run_app

    return int(run_app(settings))


def main(argv: list[str] | None = None) -> int:
    """The two faces meet here only: the command line, which starts the desktop app."""
    from workstation.cli import main as cli_main

    return cli_main(sys.argv[1:] if argv is None else argv, desktop=run_desktop)


if __name__ == "__main__":
    sys.exit(main())
