"""A report as an archival PDF, drawn with reportlab.

Every font is DejaVu Sans, embedded (the canvas' initial font too, so reportlab never
writes its default Helvetica); the catalog carries ``/Lang`` and an XMP packet; dates
and numbers are written by Babel in the report's language; the file ends ``%%EOF\\n``.
The signer block (name, role, time, certificate fingerprint) is page content drawn here,
not a signature appearance stamp: pyHanko's stamp with a 2048-units-per-em font comes
out letter-spaced and clipped.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from workstation.reports.fonts import register_fonts
from workstation.reports.model import SECTION_KEYS, Report
from workstation.reports.templates import Template, heading, label, localized

#: Largest logo file read from the site settings.
MAX_LOGO_BYTES = 2 * 1024 * 1024
PRODUCER = "Klinika Workstation"


@dataclass(frozen=True)
class Clinic:
    name: str = ""
    address: str = ""
    logo: Path | None = None


@dataclass(frozen=True)
class StudyInfo:
    patient_name: str = ""
    patient_id: str = ""
    birth_date: str = ""
    sex: str = ""
    study_date: str = ""
    accession: str = ""
    modality: str = ""
    description: str = ""
    referring: str = ""


@dataclass(frozen=True)
class Figure:
    png: bytes
    caption: str


@dataclass(frozen=True)
class SignerBlock:
    name: str
    role: str
    signed_at: dt.datetime
    fingerprint: str


def dicom_date(value: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(value.strip()[:8], "%Y%m%d").date()
    except ValueError:
        return None


def format_date(value: str | dt.date, language: str) -> str:
    from babel.dates import format_date as babel_date

    day = value if isinstance(value, dt.date) else dicom_date(value)
    if day is None:
        return str(value)
    return str(babel_date(day, format="long", locale=language))


def format_datetime(value: dt.datetime, language: str) -> str:
    from babel.dates import format_datetime as babel_datetime

    return str(babel_datetime(value, format="long", locale=language))


def format_number(value: str, language: str) -> str:
    from babel.numbers import format_decimal

    try:
        return str(format_decimal(float(value), locale=language))
    except ValueError:
        return value


def _person(name: str) -> str:
    return " ".join(part for part in name.replace("^", " ").split() if part)


@functools.cache
def _styles() -> dict[str, Any]:
    from reportlab.lib.styles import ParagraphStyle

    regular, bold = register_fonts()
    body = ParagraphStyle("body", fontName=regular, fontSize=10, leading=13.5)
    return {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=8, leading=10),
        "title": ParagraphStyle("title", parent=body, fontName=bold, fontSize=15, leading=19),
        "h": ParagraphStyle(
            "h", parent=body, fontName=bold, fontSize=11, leading=15, spaceBefore=8, spaceAfter=2
        ),
        "cell": ParagraphStyle("cell", parent=body, fontSize=9, leading=11.5),
        "cellb": ParagraphStyle("cellb", parent=body, fontName=bold, fontSize=9, leading=11.5),
    }


def _para(text: str, style: str) -> Any:
    from reportlab.platypus import Paragraph

    return Paragraph(escape(text).replace("\n", "<br/>"), _styles()[style])


def _grid(rows: Sequence[tuple[str, str]], widths: tuple[float, float]) -> Any:
    from reportlab.platypus import Table

    data = [[_para(k, "cellb"), _para(v, "cell")] for k, v in rows if v]
    table = Table(data, colWidths=widths, hAlign="LEFT")
    table.setStyle(_table_style())
    return table


def _table_style() -> Any:
    """Cells' own font is reportlab's Helvetica unless set: set it to the embedded one."""
    from reportlab.platypus import TableStyle

    return TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), register_fonts()[0]),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
        ]
    )


def _study_rows(study: StudyInfo, lang: str) -> list[tuple[str, str]]:
    return [
        (label("patient", lang), _person(study.patient_name)),
        (label("patient_id", lang), study.patient_id),
        (
            label("birth_date", lang),
            format_date(study.birth_date, lang) if study.birth_date else "",
        ),
        (label("sex", lang), study.sex),
        (label("study_description", lang), study.description),
        (label("modality", lang), study.modality),
        (
            label("study_date", lang),
            format_date(study.study_date, lang) if study.study_date else "",
        ),
        (label("accession", lang), study.accession),
        (label("referring", lang), _person(study.referring)),
    ]


def _field_rows(report: Report, template: Template) -> list[tuple[str, str]]:
    lang = report.language
    rows = []
    for f in template.fields:
        value = report.fields.get(f.field_id, "")
        if not value:
            continue
        if f.type == "number":
            value = f"{format_number(value, lang)} {f.unit}".strip()
        elif f.type == "choice":
            value = f.choice_label(value, lang)
        elif f.type == "date":
            value = format_date(dt.date.fromisoformat(value), lang)
        rows.append((localized(f.label, lang), value))
    return rows


def _figures(figures: Sequence[Figure], lang: str) -> list[Any]:
    from reportlab.lib.units import mm
    from reportlab.lib.utils import ImageReader
    from reportlab.platypus import Image, KeepTogether, Table

    if not figures:
        return []
    cells = []
    for fig in figures:
        reader = ImageReader(io.BytesIO(fig.png))
        w, h = reader.getSize()
        scale = min(42 * mm / w, 42 * mm / h)
        cells.append(
            [Image(io.BytesIO(fig.png), w * scale, h * scale), _para(fig.caption, "small")]
        )
    rows = [cells[i : i + 3] for i in range(0, len(cells), 3)]
    flat = [[c for cell in row for c in [cell]] for row in rows]
    table = Table(
        [[[c[0], c[1]] for c in row] + [""] * (3 - len(row)) for row in flat],
        colWidths=[58 * mm] * 3,
        hAlign="LEFT",
    )
    table.setStyle(_table_style())
    return [KeepTogether([_para(label("key_images", lang), "h"), table])]


def _signer_rows(signer: SignerBlock | None, lang: str) -> list[Any]:
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether

    if signer is None:
        return [_para(label("unsigned", lang), "h")]
    rows = [
        (label("signed_by", lang), signer.name),
        (
            label("role", lang),
            label(signer.role, lang) if signer.role in ("doctor", "admin") else signer.role,
        ),
        (label("signed_at", lang), format_datetime(signer.signed_at, lang)),
        (label("fingerprint", lang), _fingerprint_lines(signer.fingerprint)),
    ]
    return [KeepTogether([_grid(rows, (62 * mm, 108 * mm))])]


def _fingerprint_lines(hex_digest: str) -> str:
    pairs = [hex_digest[i : i + 2].upper() for i in range(0, len(hex_digest), 2)]
    return "\n".join(":".join(pairs[i : i + 16]) for i in range(0, len(pairs), 16))


def _story(
    report: Report,
    template: Template,
    study: StudyInfo,
    figures: Sequence[Figure],
    signer: SignerBlock | None,
) -> list[Any]:
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer

    lang = report.language
    status = label(report.status.value, lang)
    story: list[Any] = [
        _para(f"{label('report', lang)}: {localized(template.title, lang)}", "title"),
        _para(
            f"{label('status', lang)}: {status} · {label('version', lang)} {report.version}",
            "small",
        ),
        Spacer(1, 4 * mm),
        _grid(_study_rows(study, lang), (45 * mm, 125 * mm)),
    ]
    if report.predecessor_id:
        story.append(
            _grid(
                [
                    (label("amends", lang), str(report.version - 1)),
                    (label("reason", lang), report.amendment_reason),
                ],
                (45 * mm, 125 * mm),
            )
        )
    for key in SECTION_KEYS:
        text = report.section(key).strip()
        if text:
            story += [_para(heading(key, lang), "h"), _para(text, "body")]
    fields = _field_rows(report, template)
    if fields:
        story += [_para(label("structured", lang), "h"), _grid(fields, (70 * mm, 100 * mm))]
    story += _figures(figures, lang)
    story += [Spacer(1, 6 * mm), *_signer_rows(signer, lang)]
    return story


def _xmp(title: str, lang: str, author: str, created: dt.datetime) -> str:
    stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">'
        f'<dc:title><rdf:Alt><rdf:li xml:lang="{lang}">{escape(title)}</rdf:li></rdf:Alt></dc:title>'
        f"<dc:creator><rdf:Seq><rdf:li>{escape(author)}</rdf:li></rdf:Seq></dc:creator>"
        f"<dc:language><rdf:Bag><rdf:li>{lang}</rdf:li></rdf:Bag></dc:language>"
        f"<xmp:CreateDate>{stamp}</xmp:CreateDate><xmp:CreatorTool>{PRODUCER}</xmp:CreatorTool>"
        f"<pdf:Producer>{PRODUCER}</pdf:Producer>"
        '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    )


def _read_logo(path: Path | None) -> bytes | None:
    if path is None or not path.is_file() or path.stat().st_size > MAX_LOGO_BYTES:
        return None
    return path.read_bytes()


def render_report(
    report: Report,
    template: Template,
    study: StudyInfo,
    *,
    clinic: Clinic | None = None,
    figures: Sequence[Figure] = (),
    signer: SignerBlock | None = None,
    created: dt.datetime | None = None,
) -> bytes:
    """The report as PDF bytes (one or more A4 pages)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfbase.pdfdoc import XMP
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import SimpleDocTemplate

    regular, bold = register_fonts()
    clinic = clinic or Clinic()
    created = created or dt.datetime.now(dt.UTC)
    lang = report.language
    title = f"{label('report', lang)}: {localized(template.title, lang)}"
    logo = _read_logo(clinic.logo)

    def make_canvas(*args: Any, **kwargs: Any) -> Canvas:
        kwargs.update(initialFontName=regular, initialFontSize=10, lang=lang)
        c = Canvas(*args, **kwargs)
        c._doc.Catalog.Metadata = XMP(
            creator=lambda _doc: _xmp(
                title, lang, signer.name if signer else report.author, created
            ).encode("utf-8")
        )
        return c

    def decorate(c: Canvas, doc: Any) -> None:
        width, height = A4
        c.saveState()
        x = 20 * mm
        if logo:
            from reportlab.lib.utils import ImageReader

            c.drawImage(
                ImageReader(io.BytesIO(logo)),
                x,
                height - 24 * mm,
                16 * mm,
                16 * mm,
                preserveAspectRatio=True,
                mask="auto",
            )
            x += 19 * mm
        c.setFont(bold, 12)
        c.drawString(x, height - 14 * mm, clinic.name)
        c.setFont(regular, 8)
        c.drawString(x, height - 19 * mm, clinic.address)
        c.line(20 * mm, height - 26 * mm, width - 20 * mm, height - 26 * mm)
        c.drawString(20 * mm, 12 * mm, f"{report.report_id} · v{report.version}")
        c.drawRightString(width - 20 * mm, 12 * mm, str(doc.page))
        c.restoreState()

    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=32 * mm,
        bottomMargin=20 * mm,
        title=title,
        author=signer.name if signer else report.author,
        subject=report.study_instance_uid,
        creator=PRODUCER,
        producer=PRODUCER,
        lang=lang,
    )
    doc.build(
        _story(report, template, study, figures, signer),
        onFirstPage=decorate,
        onLaterPages=decorate,
        canvasmaker=make_canvas,
    )
    pdf = out.getvalue()
    return pdf if pdf.endswith(b"%%EOF\n") else pdf.rstrip() + b"\n"
