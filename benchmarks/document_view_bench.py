"""Document view benchmark: a report PDF out of its DICOM instance and onto pages, and an
SR into its tree, against the dcmtk/poppler command-line tools doing the same.

Figures (medians of N runs, ms, on this machine):

1. **PDF, ours**: ``read_encapsulated_pdf`` + ``render_pages`` at 110 dpi (PDFium in
   process), for the public one-page sample and a 10-page reportlab PDF wrapped by
   ``pdf2dcm``.  **Named peer**: ``dcm2pdf`` then ``pdftoppm -r 110`` (two processes,
   PPM files written), what a shell script would do.
2. **SR, ours**: ``read_sr_tree`` on the public Comprehensive SR and on a TID 1500 SR
   with 300 measurement items.  **Named peer**: ``dsrdump`` on the same file.

    .venv/bin/python benchmarks/document_view_bench.py [--runs N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TESTDATA = Path(os.environ.get("KLINIKA_TESTDATA", ROOT.parent / "shared" / "testdata"))


def _median_ms(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return round(statistics.median(samples) * 1000, 1)


def _run(*cmd: str | Path) -> None:
    subprocess.run([str(c) for c in cmd], check=True, capture_output=True, timeout=120)


def _ten_page_instance(tmp: Path) -> Path:
    from reportlab.pdfgen import canvas

    pdf = tmp / "ten.pdf"
    c = canvas.Canvas(str(pdf))
    for page in range(10):
        c.setFont("Helvetica", 11)
        for line in range(60):
            c.drawString(50, 800 - line * 12, f"Page {page + 1}, line {line + 1}: findings text")
        c.showPage()
    c.save()
    _run("pdf2dcm", pdf, tmp / "ten.dcm")
    return tmp / "ten.dcm"


def _wide_sr(tmp: Path) -> Path:
    from tests.viewer.test_sr_tree import _nested_sr

    return _nested_sr(tmp / "wide-sr.dcm", depth=4, width=300)


def _pdf_figures(tmp: Path, instance: Path, runs: int) -> dict[str, float]:
    from workstation.viewer.pdf_document import read_encapsulated_pdf, render_pages

    def ours() -> None:
        render_pages(read_encapsulated_pdf(instance))

    def peer() -> None:
        _run("dcm2pdf", instance, tmp / "peer.pdf")
        _run("pdftoppm", "-r", "110", tmp / "peer.pdf", tmp / "peer")

    pages = render_pages(read_encapsulated_pdf(instance)).page_count
    return {"pages": pages, "ours_ms": _median_ms(ours, runs), "peer_ms": _median_ms(peer, runs)}


def _sr_figures(path: Path, runs: int) -> dict[str, float]:
    from workstation.viewer.sr_tree import read_sr_tree

    items = sum(1 for _ in read_sr_tree(path).root.walk())  # type: ignore[union-attr]
    return {
        "items": items,
        "ours_ms": _median_ms(lambda: read_sr_tree(path), runs),
        "peer_ms": _median_ms(lambda: _run("dsrdump", "-q", path), runs),
    }


def measure(tmp: Path, runs: int) -> dict[str, Any]:
    out: dict[str, Any] = {"runs": runs}
    sample = TESTDATA / "documents" / "encapsulated-pdf.dcm"
    if sample.is_file():
        out["pdf_sample"] = _pdf_figures(tmp, sample, runs)
    out["pdf_ten_pages"] = _pdf_figures(tmp, _ten_page_instance(tmp), runs)
    comprehensive = TESTDATA / "documents" / "sr-comprehensive.dcm"
    if comprehensive.is_file():
        out["sr_comprehensive"] = _sr_figures(comprehensive, runs)
    out["sr_300_items"] = _sr_figures(_wide_sr(tmp), runs)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    missing = [t for t in ("dcm2pdf", "pdf2dcm", "pdftoppm", "dsrdump") if not shutil.which(t)]
    if missing:
        print(f"needs {', '.join(missing)} (Debian dcmtk, poppler-utils)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        result = measure(Path(tmp), args.runs)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    for name, figures in result.items():
        if not isinstance(figures, dict):
            continue
        ratio = figures["peer_ms"] / figures["ours_ms"] if figures["ours_ms"] else 0.0
        size = f"{figures.get('pages', figures.get('items'))}"
        print(
            f"{name:>16} ({size:>3}): ours {figures['ours_ms']:7.1f} ms, "
            f"peer {figures['peer_ms']:7.1f} ms, peer/ours {ratio:.1f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
