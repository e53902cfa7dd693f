"""A report PDF taken out of its DICOM instance and rendered to pages: the document is
byte for byte what dcmtk's ``dcm2pdf`` gives back, the pages look like poppler's
``pdftoppm`` at the same resolution, and page count, page size and file size are capped."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.viewer import synthetic
from workstation.viewer.pdf_document import (
    DocumentError,
    read_encapsulated_pdf,
    render_pages,
)

pytest.importorskip("pypdfium2")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (scripts/test.sh installs it)")
    return path


def _run(*cmd: str | Path) -> None:
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def _pdf(path: Path, pages: int = 1, size_pt: tuple[float, float] = (595, 842)) -> Path:
    pytest.importorskip("reportlab")
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=size_pt)
    for number in range(1, pages + 1):
        c.setFont("Helvetica-Bold", 28)
        c.drawString(60, size_pt[1] - 100, f"Report page {number}")
        c.rect(60, 200, 300, 200, fill=1)
        c.showPage()
    c.save()
    return path


def _wrapped(pdf: Path, out: Path) -> Path:
    """The PDF as an Encapsulated PDF instance made by dcmtk's pdf2dcm."""
    _run(_tool("pdf2dcm"), pdf, out)
    return out


def _grey(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(float).mean(axis=2)


def test_document_is_what_dcm2pdf_gives_back(testdata: Path, tmp_path: Path) -> None:
    instance = testdata / "documents" / "encapsulated-pdf.dcm"
    reference = tmp_path / "dcm2pdf.pdf"
    _run(_tool("dcm2pdf"), instance, reference)
    ours = read_encapsulated_pdf(instance)
    assert ours.startswith(b"%PDF-")
    assert ours == reference.read_bytes().rstrip(b"\0")


def test_pdf2dcm_instance_gives_the_pdf_back(tmp_path: Path) -> None:
    pdf = _pdf(tmp_path / "report.pdf")
    assert read_encapsulated_pdf(_wrapped(pdf, tmp_path / "doc.dcm")) == pdf.read_bytes()


def test_pages_look_like_pdftoppm(tmp_path: Path) -> None:
    pdf = _pdf(tmp_path / "report.pdf", pages=2)
    rendered = render_pages(pdf.read_bytes(), dpi=72)
    assert rendered.page_count == 2 and len(rendered.pages) == 2
    _run(_tool("pdftoppm"), "-r", "72", "-gray", pdf, tmp_path / "ref")
    from PIL import Image

    for page in rendered.pages:
        ref = np.asarray(Image.open(tmp_path / f"ref-{page.number}.pgm"), dtype=float)
        ours = _grey(page.rgb)
        assert ours.shape == ref.shape
        assert np.abs(ours - ref).mean() < 3.0
        # The black box is where poppler puts it.
        assert np.array_equal(ours < 64, ref < 64) or np.mean((ours < 64) != (ref < 64)) < 0.005


def test_page_count_and_page_pixels_are_capped(tmp_path: Path) -> None:
    pdf = _pdf(tmp_path / "long.pdf", pages=5).read_bytes()
    rendered = render_pages(pdf, max_pages=2)
    assert [p.number for p in rendered.pages] == [1, 2] and rendered.left_out == 3
    huge = _pdf(tmp_path / "huge.pdf", size_pt=(14000, 14000)).read_bytes()
    (page,) = render_pages(huge, max_pixels=2_000_000).pages
    assert page.rgb.shape[0] * page.rgb.shape[1] <= 2_000_000
    assert abs(page.rgb.shape[0] - page.rgb.shape[1]) <= 1


def test_what_is_not_a_pdf_instance_is_refused(tmp_path: Path) -> None:
    (ct,) = synthetic.write_ct_series(tmp_path / "ct", n=1, shuffle=False)
    with pytest.raises(DocumentError, match="no PDF"):
        read_encapsulated_pdf(ct)
    instance = _wrapped(_pdf(tmp_path / "report.pdf"), tmp_path / "doc.dcm")
    with pytest.raises(DocumentError, match="too large"):
        read_encapsulated_pdf(instance, max_bytes=1000)
    text = tmp_path / "note.txt"
    text.write_text("not DICOM")
    with pytest.raises(DocumentError, match="cannot be read"):
        read_encapsulated_pdf(text)
    with pytest.raises(DocumentError, match="cannot be opened"):
        render_pages(b"%PDF-1.7\n" + b"garbage " * 100)


def test_nothing_in_the_file_is_executed(tmp_path: Path) -> None:
    """The PDFium build has no JavaScript engine and no XFA; a report whose open action
    is JavaScript renders as a page and nothing more."""
    import pypdfium2.version as pdfium_version

    flags = {str(f).upper() for f in pdfium_version.PDFIUM_INFO.flags}
    assert not flags & {"V8", "XFA"}, flags
    pdf = _pdf(tmp_path / "report.pdf").read_bytes()
    # An /OpenAction that would run JavaScript in a reader that has it.
    script = b"/OpenAction << /S /JavaScript /JS (app.alert\\('ran'\\);) >>"
    hostile = pdf.replace(b"/Type /Catalog", b"/Type /Catalog " + script, 1)
    assert hostile != pdf
    (page,) = render_pages(hostile).pages
    assert page.rgb.shape[2] == 3 and (page.rgb < 64).any()
