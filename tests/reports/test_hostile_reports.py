"""Hostile files and refused signatures: each gives a clear result, none passes as signed.

Tampered, extended, truncated and foreign-signed files are checked by our verifier and
by pdfsig / pyHanko; expired, revoked and foreign certificates are refused before any
PDF is written; a report signed before its certificate was revoked shows as revoked.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.reports.conftest import Site, pdfsig_text, pyhanko_validate
from tests.reports.hostile_files import append_drawing, flip_byte, foreign_signed, truncate
from workstation.auth.errors import PermissionDenied
from workstation.reports.errors import SigningRefused
from workstation.reports.keystore import SigningHome
from workstation.reports.model import ReportStatus
from workstation.reports.site_ca import SiteCa, new_key
from workstation.reports.verify import SignatureState
from workstation.services.report_actions import verify_report_pdf


def _signed(site: Site, tmp_path: Path, name: str = "signed.pdf") -> Path:
    doctor = site.reports("dora")
    report = doctor.create(site.study_uid, "ct_head", "fr", {"impression": "Pas d'hémorragie."})
    doctor.sign(report.report_id)
    return doctor.export(report.report_id, tmp_path / name)


def _verify(site: Site, data: bytes) -> SignatureState:
    return verify_report_pdf(site.settings, data).state  # type: ignore[arg-type]


def test_flipped_byte_in_the_signed_range(signing_site: Site, tmp_path: Path) -> None:
    data = flip_byte(_signed(signing_site, tmp_path).read_bytes())
    bad = tmp_path / "flipped.pdf"
    bad.write_bytes(data)
    assert _verify(signing_site, data) in (
        SignatureState.TAMPERED,
        SignatureState.NOT_SIGNED,
    )
    ca = signing_site.ca_pem(tmp_path)
    assert "Signature is Valid." not in pdfsig_text(bad, ca, tmp_path)
    assert pyhanko_validate(bad, ca).returncode != 0


def test_appended_update_that_draws_on_the_page(signing_site: Site, tmp_path: Path) -> None:
    data = append_drawing(_signed(signing_site, tmp_path).read_bytes())
    extended = tmp_path / "extended.pdf"
    extended.write_bytes(data)
    assert _verify(signing_site, data) == SignatureState.MODIFIED
    ca = signing_site.ca_pem(tmp_path)
    assert "Total document signed" not in pdfsig_text(extended, ca, tmp_path)
    checked = pyhanko_validate(extended, ca)
    assert checked.returncode != 0 and "UNTOUCHED" not in checked.stdout


def test_truncated_file(signing_site: Site, tmp_path: Path) -> None:
    data = _signed(signing_site, tmp_path).read_bytes()
    for cut in (len(data) // 2, len(data) - 200, 100):
        assert _verify(signing_site, truncate(data, cut)) != SignatureState.VALID


def test_unsigned_and_not_a_pdf(signing_site: Site) -> None:
    doctor = signing_site.reports("dora")
    draft = doctor.create(signing_site.study_uid)
    result = verify_report_pdf(signing_site.settings, doctor.preview(draft.report_id))  # type: ignore[arg-type]
    assert result.state == SignatureState.NOT_SIGNED and not result.ok
    assert _verify(signing_site, b"GIF89a not a pdf") == SignatureState.NOT_SIGNED


def _install_key(
    site: Site, ca: SiteCa, *, days: int = 730, start: dt.datetime | None = None
) -> None:
    """Give the doctor a key certified by ``ca`` (same keyring passphrase)."""
    from workstation.reports.keystore import passphrase_key

    home = SigningHome(site.settings.signing_dir)  # type: ignore[attr-defined]
    key = new_key("p256")
    cert = ca.issue_signing_cert(key.public_key(), "dora", "dora", days=days, not_before=start)
    passphrase = site.secrets.get(passphrase_key("dora"))
    assert passphrase
    home.store_key("dora", key, cert, ca.cert, passphrase)


def _assert_refused(site: Site, words: str) -> None:
    doctor = site.reports("dora")
    report = doctor.create(site.study_uid, "xr_chest", "es")
    with pytest.raises(SigningRefused, match=words):
        doctor.sign(report.report_id)
    after = site.store.get(report.report_id)
    assert after.status == ReportStatus.DRAFT and site.store.pdf(report.report_id) is None
    failed = site.audit.events(action="report_sign")[-1]
    assert failed.outcome == "failure" and words.split()[0] in failed.detail["reason"]


def test_certificate_from_another_ca_is_refused_and_untrusted(
    signing_site: Site, tmp_path: Path
) -> None:
    other = SiteCa.init(tmp_path / "other-ca", "Some Other Clinic")
    _install_key(signing_site, other)
    _assert_refused(signing_site, "not issued by this clinic")
    # A file that another CA's key signed (signed outside our refusal) is not trusted.
    foreign = foreign_signed(signing_site, tmp_path)
    assert _verify(signing_site, foreign) == SignatureState.UNTRUSTED
    path = tmp_path / "foreign.pdf"
    path.write_bytes(foreign)
    ca = signing_site.ca_pem(tmp_path)
    assert "Certificate is Trusted." not in pdfsig_text(path, ca, tmp_path)
    assert pyhanko_validate(path, ca).returncode != 0


def test_expired_certificate_is_refused(signing_site: Site) -> None:
    ca = SigningHome(signing_site.settings.signing_dir).ca()  # type: ignore[attr-defined]
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    _install_key(signing_site, ca, days=10, start=start)
    _assert_refused(signing_site, "expired")


def test_revoked_certificate_is_refused_and_earlier_signatures_show_revoked(
    signing_site: Site, tmp_path: Path
) -> None:
    before = _signed(signing_site, tmp_path).read_bytes()
    assert _verify(signing_site, before) == SignatureState.VALID
    revoked = signing_site.signing("ada").revoke("dora")
    assert len(revoked) == 1
    _assert_refused(signing_site, "revoked")
    result = verify_report_pdf(signing_site.settings, before)  # type: ignore[arg-type]
    assert result.state == SignatureState.REVOKED and result.intact and not result.ok
    assert result.revoked_at is not None


def test_operator_reads_but_cannot_write_or_sign(signing_site: Site) -> None:
    doctor = signing_site.reports("dora")
    report = doctor.create(signing_site.study_uid)
    operator = signing_site.reports("otto")
    assert [r.report_id for r in operator.list_reports(signing_site.study_uid)] == [
        report.report_id
    ]
    with pytest.raises(PermissionDenied):
        operator.create(signing_site.study_uid)
    with pytest.raises(PermissionDenied):
        operator.edit(report.report_id, {"findings": "x"})
    with pytest.raises(PermissionDenied):
        operator.sign(report.report_id)
    with pytest.raises(PermissionDenied):
        signing_site.signing("otto").enroll("operator passphrase")
    with pytest.raises(PermissionDenied):
        signing_site.signing("dora").revoke("dora")
    assert signing_site.store.get(report.report_id).status == ReportStatus.DRAFT
    denied = signing_site.audit.events(action="permission_denied")
    assert {e.detail["permission"] for e in denied} >= {
        "reports.write",
        "reports.sign",
        "users.manage",
    }
