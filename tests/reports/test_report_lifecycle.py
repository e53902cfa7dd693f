"""The report's life: draft -> preliminary -> final by signing; a final report changes
only by an amendment (a new version with a reason); each version keeps its PDF and hash;
every step is audited; the store has its own Alembic lineage."""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa

from tests.reports.conftest import Site
from workstation.reports.errors import ReportStateError, TemplateError
from workstation.reports.model import ReportStatus
from workstation.reports.store import ReportStore


def test_draft_preliminary_final_and_amendment(signing_site: Site) -> None:
    doctor = signing_site.reports("dora")
    draft = doctor.create(signing_site.study_uid, "ct_chest", "en", fields={"emphysema": "mild"})
    assert draft.status == ReportStatus.DRAFT and draft.version == 1
    assert "Helical CT" in draft.section("technique")  # the template's default text
    pre = doctor.edit(
        draft.report_id, {"findings": "Nodule.", "impression": "Nodule."},
        {"nodule_size": "6,5"}, ReportStatus.PRELIMINARY,
    )  # fmt: skip
    assert pre.status == ReportStatus.PRELIMINARY and pre.fields == {
        "emphysema": "mild",
        "nodule_size": "6.5",
    }
    final = doctor.sign(pre.report_id)
    assert final.status == ReportStatus.FINAL and final.signed_by == "dora"
    pdf = signing_site.store.pdf(final.report_id)
    assert pdf is not None and hashlib.sha256(pdf).hexdigest() == final.pdf_sha256
    with pytest.raises(ReportStateError):
        doctor.edit(final.report_id, {"impression": "changed in place"})
    with pytest.raises(ReportStateError):
        doctor.amend(final.report_id, "  ")
    amendment = doctor.amend(final.report_id, "Size corrected after review")
    assert amendment.version == 2 and amendment.predecessor_id == final.report_id
    assert amendment.status == ReportStatus.DRAFT and amendment.section("impression") == "Nodule."
    with pytest.raises(ReportStateError):
        doctor.amend(final.report_id, "a second amendment of the same version")
    doctor.edit(amendment.report_id, {**amendment.sections, "impression": "Nodule, 7 mm."})
    second = doctor.sign(amendment.report_id)
    versions = {r.version: r for r in doctor.list_reports(signing_site.study_uid)}
    assert (
        versions[1].status == ReportStatus.SUPERSEDED and versions[2].status == ReportStatus.FINAL
    )
    # The first version keeps its own signed PDF and hash.
    assert signing_site.store.pdf(final.report_id) == pdf
    assert second.pdf_sha256 != final.pdf_sha256
    actions = [e.action for e in signing_site.audit.events() if e.detail.get("report_id")]
    for expected in ("report_create", "report_update", "report_sign", "report_amend"):
        assert expected in actions
    assert all("MUSTERMANN" not in str(e.detail) for e in signing_site.audit.events())


def test_field_values_are_checked_against_the_template(signing_site: Site) -> None:
    doctor = signing_site.reports("dora")
    with pytest.raises(TemplateError):
        doctor.create(signing_site.study_uid, "ct_chest", fields={"nodule_size": "big"})
    with pytest.raises(TemplateError):
        doctor.create(signing_site.study_uid, "ct_chest", fields={"emphysema": "purple"})
    with pytest.raises(TemplateError):
        doctor.create(signing_site.study_uid, "us_abdomen", fields={"prior_date": "31.01.2024"})
    with pytest.raises(TemplateError):
        doctor.create(signing_site.study_uid, "no_such_template")
    with pytest.raises(LookupError):
        doctor.create("1.2.3.4.5.6.7.8.9")


def test_export_and_print_are_audited(signing_site: Site, tmp_path) -> None:  # type: ignore[no-untyped-def]
    doctor = signing_site.reports("dora")
    report = doctor.create(signing_site.study_uid)
    preview = doctor.export(report.report_id, tmp_path / "draft.pdf").read_bytes()
    assert preview.startswith(b"%PDF") and preview.endswith(b"%%EOF\n")
    signing_site.reports("otto").printed(report.report_id)
    assert signing_site.audit.events(action="report_export")[-1].detail["signed"] is False
    assert signing_site.audit.events(action="report_print")[-1].actor == "otto"


def test_reports_have_their_own_alembic_lineage(site: Site) -> None:
    with site.archive.engine.connect() as conn:
        versions = (
            conn.execute(sa.text("SELECT version_num FROM reports_alembic_version")).scalars().all()
        )
        assert versions == ["reports_0001"]
        archive_versions = (
            conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
        )
        assert "reports_0001" not in archive_versions
    ReportStore(site.archive.engine)  # a second open finds the schema current


def test_rsa_3072_key_signs_and_verifies(site: Site) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    from workstation.reports.verify import SignatureState
    from workstation.services.report_actions import verify_report_pdf

    site.signing("ada").ca_init("Klinika RSA Test")
    cert = site.signing("dora").enroll(key_type="rsa3072")
    key = cert.public_key()
    assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 3072
    doctor = site.reports("dora")
    signed = doctor.sign(doctor.create(site.study_uid, "us_abdomen", "es").report_id)
    pdf = site.store.pdf(signed.report_id)
    assert pdf is not None
    result = verify_report_pdf(site.settings, pdf)  # type: ignore[arg-type]
    assert result.state == SignatureState.VALID and result.signer == "dora"
