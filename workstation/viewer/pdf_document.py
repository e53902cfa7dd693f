"""An Encapsulated PDF instance as pages to look at: the document taken out of the
DICOM file (with a size cap) and its pages rendered to RGB arrays.

Pages are rendered with PDFium (``pypdfium2``, the engine Qt's own QtPdf uses, without
PySide6's 400 MB add-ons): a build without JavaScript or XFA, and forms are never
initialised, so nothing in the file is executed.  The number of pages and the pixels of
one page are capped (a hostile page size cannot allocate gigabytes).  PDFium is not
thread-safe: every call goes through one lock.  No Qt, no VTK.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from workstation.i18n import _

logger = logging.getLogger(__name__)

#: Instances larger than this are not opened (a report with key images is < 1 MB).
MAX_PDF_BYTES = 64 * 1024 * 1024
#: Pages rendered at most; the rest are counted.
MAX_PAGES = 40
#: Screen resolution of a rendered page.
RENDER_DPI = 110.0
#: Pixels of one rendered page at most (a huge page is rendered smaller).
MAX_PAGE_PIXELS = 12_000_000
PDF_MIME = "application/pdf"

_PDFIUM_LOCK = threading.Lock()


class DocumentError(ValueError):
    """The document cannot be shown (the message says why, translated)."""


class SignatureLine(Protocol):
    """What the viewer shows about a document's signature: ``ok`` is green, else red."""

    @property
    def ok(self) -> bool: ...

    @property
    def text(self) -> str: ...


#: Checks a PDF's signature (the app passes the clinic's verifier in); slow: call it off
#: the GUI thread.
SignatureCheck = Callable[[bytes], SignatureLine]


@dataclass(frozen=True)
class PdfPage:
    """One rendered page: ``rgb`` is (height, width, 3) uint8."""

    number: int
    rgb: np.ndarray


@dataclass(frozen=True)
class RenderedPdf:
    pages: tuple[PdfPage, ...]
    page_count: int

    @property
    def left_out(self) -> int:
        return self.page_count - len(self.pages)


def read_encapsulated_pdf(path: Path, *, max_bytes: int = MAX_PDF_BYTES) -> bytes:
    """The PDF inside an Encapsulated PDF instance, without its pad byte."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    if path.stat().st_size > max_bytes:
        raise DocumentError(_("The document is too large to show."))
    try:
        ds = pydicom.dcmread(path)
        mime = str(ds.get("MIMETypeOfEncapsulatedDocument", "")).strip().lower()
        data = bytes(ds.get("EncapsulatedDocument") or b"")
        length = ds.get("EncapsulatedDocumentLength")
    except (InvalidDicomError, OSError, ValueError, KeyError, TypeError) as exc:
        logger.info("document %s unreadable: %s", path.name, type(exc).__name__)
        raise DocumentError(_("The document cannot be read.")) from exc
    if mime != PDF_MIME or not data.startswith(b"%PDF-"):
        raise DocumentError(_("The instance holds no PDF document."))
    if length is not None and 0 < int(length) <= len(data):
        return data[: int(length)]
    return data[:-1] if data.endswith(b"\0") else data


def _scale(width_pt: float, height_pt: float, dpi: float, max_pixels: int) -> float:
    scale = dpi / 72.0
    pixels = max(width_pt, 1.0) * max(height_pt, 1.0) * scale * scale
    if pixels > max_pixels:
        # A little under the cap: PDFium rounds the bitmap's sides up.
        scale *= (max_pixels / pixels) ** 0.5 * 0.995
    return scale


def render_pages(
    pdf: bytes,
    *,
    dpi: float = RENDER_DPI,
    max_pages: int = MAX_PAGES,
    max_pixels: int = MAX_PAGE_PIXELS,
    stop: threading.Event | None = None,
) -> RenderedPdf:
    """Render the first ``max_pages`` pages of ``pdf`` (stops early when ``stop`` is set)."""
    import pypdfium2 as pdfium

    pages: list[PdfPage] = []
    with _PDFIUM_LOCK:
        try:
            doc = pdfium.PdfDocument(pdf)
        except pdfium.PdfiumError as exc:
            logger.info("PDF not rendered: %s", exc)
            raise DocumentError(_("The PDF cannot be opened.")) from exc
        try:
            count = len(doc)
            for index in range(min(count, max_pages)):
                if stop is not None and stop.is_set():
                    break
                page = doc[index]
                try:
                    width, height = page.get_size()
                    scale = _scale(width, height, dpi, max_pixels)
                    bitmap = page.render(scale=scale, may_draw_forms=False, rev_byteorder=True)
                    rgb = np.ascontiguousarray(bitmap.to_numpy()[:, :, :3])
                finally:
                    page.close()
                pages.append(PdfPage(index + 1, rgb))
        except pdfium.PdfiumError as exc:
            logger.info("PDF page not rendered: %s", exc)
            raise DocumentError(_("A page of the PDF cannot be rendered.")) from exc
        finally:
            doc.close()
    return RenderedPdf(tuple(pages), count)


def first_page_miniature(path: Path, max_pixels: int) -> np.ndarray | None:
    """The first page of the PDF in an instance as a small RGB picture (None when the
    document cannot be read or has no page)."""
    try:
        rendered = render_pages(read_encapsulated_pdf(path), max_pages=1, max_pixels=max_pixels)
    except DocumentError:
        return None
    return rendered.pages[0].rgb if rendered.pages else None
