"""A page of a PDF as PNG, drawn by poppler's ``pdftoppm`` (the editor's preview).

poppler is the reference renderer the tests compare with, so the preview shows what a
reader's viewer shows.  None when ``pdftoppm`` is not installed (Debian poppler-utils).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

#: A preview that takes longer than this is abandoned.
TIMEOUT_S = 30
MAX_PNG_BYTES = 64 * 1024 * 1024


def pdf_page_png(pdf: bytes, page: int = 1, dpi: int = 80) -> bytes | None:
    exe = shutil.which("pdftoppm")
    if exe is None:
        return None
    with tempfile.TemporaryDirectory(prefix="klinika-preview-") as tmp:
        src = Path(tmp) / "report.pdf"
        src.write_bytes(pdf)
        out = Path(tmp) / "page"
        cmd = [
            exe,
            "-r",
            str(dpi),
            "-png",
            "-f",
            str(page),
            "-l",
            str(page),
            "-singlefile",
            str(src),
            str(out),
        ]
        done = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT_S, check=False)
        png = out.with_suffix(".png")
        if done.returncode != 0 or not png.is_file() or png.stat().st_size > MAX_PNG_BYTES:
            return None
        return png.read_bytes()
