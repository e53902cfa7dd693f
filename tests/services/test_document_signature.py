"""The signature line the viewer shows above a report PDF, from real signed reports of a
real site (clinic CA, enrolled doctor): valid and green; revoked after signing, changed
content, no signature, or no clinic CA here: NOT SIGNED with the reason."""

from __future__ import annotations

from tests.reports.conftest import Site, signing_site, site  # noqa: F401 (fixtures)
from workstation.services.document_signature import document_signature, signature_check


def _signed_pdf(where: Site) -> bytes:
    doctor = where.reports("dora")
    report = doctor.create(where.study_uid, "ct_chest", "en", {"impression": "No finding."})
    return doctor.preview(doctor.sign(report.report_id).report_id)


def test_a_signed_report_reads_signed_by_whom_and_when(signing_site: Site) -> None:  # noqa: F811
    line = signature_check(signing_site.settings)(_signed_pdf(signing_site))  # type: ignore[arg-type]
    assert line.ok and line.state == "valid"
    assert line.text.startswith("Signed by dora at ") and line.text.endswith("UTC: intact, trusted")


def test_revoked_after_signing_reads_not_signed_with_the_date(signing_site: Site) -> None:  # noqa: F811
    pdf = _signed_pdf(signing_site)
    signing_site.signing("ada").revoke("dora")
    line = document_signature(signing_site.settings, pdf)  # type: ignore[arg-type]
    assert not line.ok and line.state == "revoked"
    assert line.text.startswith("NOT SIGNED: the certificate of dora was revoked on ")


def test_changed_content_reads_not_signed(signing_site: Site) -> None:  # noqa: F811
    pdf = bytearray(_signed_pdf(signing_site))
    at = pdf.index(b"/Producer (") + len(b"/Producer (")
    pdf[at] ^= 0x01
    line = document_signature(signing_site.settings, bytes(pdf))  # type: ignore[arg-type]
    assert not line.ok and line.state in ("tampered", "not_signed")
    assert line.text.startswith("NOT SIGNED: ")


def test_unsigned_pdf_and_a_site_without_clinic_ca(site: Site) -> None:  # noqa: F811
    doctor = site.reports("dora")
    draft = doctor.preview(doctor.create(site.study_uid, "ct_chest", "en").report_id)
    line = document_signature(site.settings, draft)  # type: ignore[arg-type]
    assert not line.ok
    assert line.text == "NOT SIGNED: there is no clinic CA here to check it against"
    site.signing("ada").ca_init("Klinika Test Clinic")
    line = document_signature(site.settings, draft)  # type: ignore[arg-type]
    assert not line.ok and line.state == "not_signed"
    assert line.text.startswith("NOT SIGNED: ")
