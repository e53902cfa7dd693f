"""A report written, rendered and signed through the services, checked by tools that are
not ours: pdftotext (the typed text in five languages), pdffonts (all embedded), qpdf,
pdfsig with an NSS database trusting the clinic CA, and pyHanko's own validator."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reports.conftest import Site, need_tool, pdfsig_text, pyhanko_validate, run

TYPED = {
    "en": "Left lower lobe nodule, 6 mm; ¿stable? naïve façade.",
    "ru": "Очаг в нижней доле левого лёгкого 6 мм; ёлка, щёлочь, подъём.",
    "es": "¿Nódulo en el lóbulo inferior izquierdo? Sí: 6 mm, señal año niño.",
    "fr": "Nodule du lobe inférieur gauche, 6 mm ; œdème, cœur, Noël à côté.",
    "de": "Rundherd im linken Unterlappen, 6 mm; Straße, Größe, Übergröße.",
}


@pytest.mark.parametrize("lang", sorted(TYPED))
def test_typed_text_comes_back_and_fonts_are_embedded(
    signing_site: Site, tmp_path: Path, lang: str
) -> None:
    need_tool("pdftotext")
    doctor = signing_site.reports("dora")
    report = doctor.create(
        signing_site.study_uid, "ct_chest", lang, {"impression": TYPED[lang]}, {"nodule_size": "6"}
    )
    signed = doctor.sign(report.report_id)
    pdf = doctor.export(signed.report_id, tmp_path / f"{lang}.pdf")
    data = pdf.read_bytes()
    assert data.endswith(b"%%EOF\n")
    text = run("pdftotext", "-enc", "UTF-8", pdf, "-").stdout
    assert TYPED[lang] in " ".join(text.split())
    fonts = run("pdffonts", pdf).stdout.splitlines()[2:]
    assert fonts, "pdffonts lists no font"
    for line in fonts:
        assert "DejaVuSans" in line and " yes yes yes " in line, line
    assert "Helvetica" not in run("pdffonts", pdf).stdout
    assert b"/Lang (" + lang.encode() + b")" in data
    assert b"<x:xmpmeta" in data


def test_signed_pdf_passes_qpdf_pdfsig_and_pyhanko(signing_site: Site, tmp_path: Path) -> None:
    doctor = signing_site.reports("dora")
    report = doctor.create(signing_site.study_uid, "mr_brain", "de", {"impression": "Kein Befund."})
    doctor.sign(report.report_id)
    pdf = doctor.export(report.report_id, tmp_path / "signed.pdf")
    ca = signing_site.ca_pem(tmp_path)
    qpdf = need_tool("qpdf")
    assert run(qpdf, "--check", pdf).returncode == 0
    sig = pdfsig_text(pdf, ca, tmp_path)
    assert "Signature is Valid." in sig, sig
    assert "Certificate is Trusted." in sig, sig
    assert "Total document signed" in sig, sig
    checked = pyhanko_validate(pdf, ca)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "INTACT:TRUSTED" in checked.stdout and checked.stdout.rstrip().endswith("UNTOUCHED")
    assert "TIMESTAMP_TOKEN<INTACT:TRUSTED>" in checked.stdout
