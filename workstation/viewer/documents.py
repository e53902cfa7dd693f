"""Instances that are documents, not images: Encapsulated PDF/CDA, Structured Reports,
Key Object Selection, ECG and other waveforms.

A CD often holds them beside the images.  The viewer used to try to decode them and said
"Cannot display: this file holds no image" in red, as if the file were broken.  They are
listed as documents with their kind and title instead; PDFs and SRs open in the
viewer's document view (:mod:`pdf_document`, :mod:`sr_tree`).  No Qt, no VTK: the
viewer's widgets ask this module.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from workstation.i18n import _

logger = logging.getLogger(__name__)

ENCAPSULATED_PDF = "1.2.840.10008.5.1.4.1.1.104.1"
ENCAPSULATED_CDA = "1.2.840.10008.5.1.4.1.1.104.2"
KEY_OBJECT_SELECTION = "1.2.840.10008.5.1.4.1.1.88.59"
SR_PREFIX = "1.2.840.10008.5.1.4.1.1.88."
ECG_PREFIX = "1.2.840.10008.5.1.4.1.1.9.1."
WAVEFORM_PREFIX = "1.2.840.10008.5.1.4.1.1.9."
ENCAPSULATED_PREFIX = "1.2.840.10008.5.1.4.1.1.104."

#: Modalities whose series may be documents: their first header is read to tell.
MAYBE_DOCUMENT_MODALITIES = frozenset({"DOC", "OT", "SR", "KO", "ECG", "HD", "AU", "EPS", ""})
#: Titles are cut to this many characters for the screen.
MAX_TITLE_CHARS = 120
_TITLE_TAGS = ("DocumentTitle", "SeriesDescription", "StudyDescription")


@dataclass(frozen=True)
class DocumentInfo:
    """What a document instance is (``kind``, translated) and its ``title``."""

    kind: str
    title: str
    sop_class_uid: str = ""

    @property
    def is_pdf(self) -> bool:
        return self.sop_class_uid == ENCAPSULATED_PDF

    @property
    def is_sr(self) -> bool:
        """A Structured Report (Key Object Selection included): shown as a tree."""
        return self.sop_class_uid.startswith(SR_PREFIX)

    @property
    def viewable(self) -> bool:
        """Whether the document view can show it (PDF pages or an SR tree)."""
        return self.is_pdf or self.is_sr


def document_kind(sop_class_uid: str, modality: str = "") -> str | None:
    """The document kind as words, or None when the SOP class is an image's."""
    uid, mod = sop_class_uid.strip(), modality.strip().upper()
    if uid == ENCAPSULATED_PDF:
        return _("PDF document")
    if uid == ENCAPSULATED_CDA:
        return _("CDA document")
    if uid.startswith(ENCAPSULATED_PREFIX):
        return _("Encapsulated document")
    if uid == KEY_OBJECT_SELECTION:
        return _("Key image note")
    if uid.startswith(SR_PREFIX):
        return _("Structured report")
    if uid.startswith(ECG_PREFIX):
        return _("ECG")
    if uid.startswith(WAVEFORM_PREFIX):
        return _("Waveform")
    if not uid:
        return {"DOC": _("PDF document"), "SR": _("Structured report"), "ECG": _("ECG")}.get(mod)
    return None


def _title(ds: object) -> str:
    for keyword in _TITLE_TAGS:
        value = str(getattr(ds, keyword, "") or "").strip()
        if value:
            return value[:MAX_TITLE_CHARS]
    names = getattr(ds, "ConceptNameCodeSequence", None) or []
    meaning = str(getattr(names[0], "CodeMeaning", "") or "").strip() if names else ""
    return meaning[:MAX_TITLE_CHARS]


def read_document_info(path: Path) -> DocumentInfo | None:
    """Kind and title of the instance in ``path`` when it is a document, else None
    (reads a few header elements only)."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        ds = pydicom.dcmread(
            path,
            stop_before_pixels=True,
            specific_tags=["SOPClassUID", "Modality", "ConceptNameCodeSequence", *_TITLE_TAGS],
        )
    except (OSError, InvalidDicomError, ValueError) as exc:
        logger.debug("no document header in %s: %s", path.name, exc)
        return None
    sop_class = str(ds.get("SOPClassUID", "")).strip()
    kind = document_kind(sop_class, str(ds.get("Modality", "")))
    if kind is None:
        return None
    return DocumentInfo(kind, _title(ds), sop_class)


def document_text(info: DocumentInfo) -> str:
    """What the viewer says in place of a picture."""
    what = f"{info.kind}: {info.title}" if info.title else info.kind
    if info.viewable:
        return _("{what}. A document, not an image: double-click it in the series strip.").format(
            what=what
        )
    return _("{what}. This is a document, not an image: it has nothing to show here.").format(
        what=what
    )
