"""Terminal output for verbs: a progress bar on stderr (TTY only) and JSON on stdout."""

from __future__ import annotations

import json
import sys
import time
from typing import Any, TextIO

from workstation.i18n import _


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def human_bytes(n: float) -> str:
    """A size in the UI language's form (``1.5 MB``, ``1,5 МБ``)."""
    from workstation.i18n.formatting import byte_size

    return byte_size(n)


class ProgressBar:
    """A one-line bar: ``[#####.....] 120/400 files  35.2 MB  210 files/s  ETA 0:02``."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._last = 0.0

    def update(
        self, done: int, total: int | None, bytes_done: int, rate: float, eta: float | None
    ) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < 0.1 and (total is None or done < total):
            return
        self._last = now
        width = 30
        if total:
            filled = int(width * min(done, total) / total)
            bar = "#" * filled + "." * (width - filled)
            count = f"{done}/{total}"
        else:
            bar, count = "~" * width, str(done)
        eta_text = (
            "" if eta is None else _("ETA {m}:{s:02d}").format(m=int(eta) // 60, s=int(eta) % 60)
        )
        line = _("[{bar}] {count} files  {size}  {rate:.0f} files/s  {eta}").format(
            bar=bar, count=count, size=human_bytes(bytes_done), rate=rate, eta=eta_text
        )
        self.stream.write("\r" + line.ljust(90))
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
