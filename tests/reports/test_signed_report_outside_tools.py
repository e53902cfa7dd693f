"""A report written, rendered and signed through the services, checked by tools that are
not ours: pdftotext (the typed text in five languages), pdffonts (all embedded), qpdf,
pdfsig with an NSS database trusting the clinic CA, and pyHanko's own validator."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reports.conftest import (
    Site,
    adesverify_offline,
    need_tool,
    pdfsig_text,
    pyhanko_validate,
    run,
)

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


def test_adesverify_says_valid_offline_on_the_b_lt_file(signing_site: Site, tmp_path: Path) -> None:
    """pyHanko's AdES validator, run in a network namespace with no interfaces: the
    chain, CRL and timestamp embedded in the B-LT file are all it has, and suffice."""
    doctor = signing_site.reports("dora")
    report = doctor.create(
        signing_site.study_uid, "us_abdomen", "es", {"impression": "¿Normal? Sí."}
    )
    doctor.sign(report.report_id)
    pdf = doctor.export(report.report_id, tmp_path / "b-lt.pdf")
    ades = adesverify_offline(pdf, signing_site.ca_pem(tmp_path))
    assert ades.returncode == 0, ades.stdout + ades.stderr
    assert ades.stdout.rstrip().endswith(":VALID"), ades.stdout
    from workstation.reports.site_ca import SiteCa

    SiteCa.init(tmp_path / "other", "Another Clinic")  # writes other/ca.pem
    untrusted = adesverify_offline(pdf, tmp_path / "other" / "ca.pem")
    assert not untrusted.stdout.rstrip().endswith(":VALID"), untrusted.stdout


@pytest.mark.parametrize("lang", ["ru", "de"])
def test_page_with_key_image_rendered_by_poppler(
    signing_site: Site, tmp_path: Path, artifacts_dir: Path, lang: str
) -> None:
    """The signed page as poppler draws it (saved under artifacts/reports for a look):
    the key image the viewer marked is on it, dark text sits in the header and body."""
    import numpy as np
    from PIL import Image

    from workstation.viewer.store import ViewerStore

    need_tool("pdftoppm")
    site = signing_site
    inst = site.archive.study_instances(site.study_uid)[0]
    viewer = ViewerStore(site.archive.engine)
    viewer.mark_key_image(site.study_uid, inst.series_instance_uid, inst.sop_instance_uid, 0)
    doctor = site.reports("dora")
    sections = {
        "clinical_history": {"ru": "Кашель, субфебрилитет.", "de": "Husten, subfebrile Temperaturen."}[lang],
        "impression": TYPED[lang],
        "recommendation": {"ru": "Контроль через 3 месяца.", "de": "Kontrolle in 3 Monaten."}[lang],
    }  # fmt: skip
    report = doctor.create(
        site.study_uid, "ct_chest", lang, sections, {"nodule_size": "6.5", "emphysema": "mild"}
    )
    doctor.sign(report.report_id)
    pdf = doctor.export(report.report_id, tmp_path / f"report_{lang}.pdf")
    out = artifacts_dir / "reports"
    out.mkdir(exist_ok=True)
    assert run("pdftoppm", "-r", "80", "-png", pdf, out / f"report_{lang}").returncode == 0
    page = np.asarray(Image.open(out / f"report_{lang}-1.png").convert("L"))
    assert page.shape[0] > page.shape[1]  # A4 portrait
    dark_rows = np.flatnonzero((page < 100).sum(axis=1) > 3)
    assert dark_rows.size > 150, "too little text on the page"
    text = run("pdftotext", "-enc", "UTF-8", pdf, "-").stdout
    decimal = {"ru": "6,5 mm", "de": "6,5 mm"}[lang]
    assert decimal.replace("mm", "") in text
    assert {"ru": "Ключевые изображения", "de": "Schlüsselbilder"}[lang] in text
    images = [line.split() for line in run("pdfimages", "-list", pdf).stdout.splitlines()[2:]]
    kinds = {(cols[3], cols[4], cols[5]) for cols in images if cols[2] == "image"}
    assert ("64", "64", "gray") in kinds, images  # the key image, 1:1 levels as grey
    assert ("120", "120", "rgb") in kinds, images  # the clinic's logo
