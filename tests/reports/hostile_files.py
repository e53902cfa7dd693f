"""Hostile variants of a signed report PDF, shared by the engine and the GUI tests."""

from __future__ import annotations

import io
from pathlib import Path

from tests.reports.conftest import Site


def flip_byte(signed: bytes) -> bytes:
    """One bit changed inside a content stream, inside the signed byte range."""
    data = bytearray(signed)
    data[data.index(b"stream\n", 1000) + 20] ^= 0x01
    return bytes(data)


def append_drawing(signed: bytes) -> bytes:
    """An incremental update after the signature that paints a red box on the page."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    stream = generic.StreamObject(stream_data=b"q 1 0 0 rg 50 400 300 80 re f Q")
    writer.add_stream_to_page(0, writer.add_object(stream))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def truncate(signed: bytes, keep: int | None = None) -> bytes:
    return signed[: len(signed) // 2 if keep is None else keep]


def foreign_signed(site: Site, tmp: Path) -> bytes:
    """A report signed with the doctor's key certified by *another* CA (signed outside
    the workstation's refusal, as an attacker with their own CA would)."""
    from workstation.reports.keystore import SigningHome, passphrase_key
    from workstation.reports.signing import TrustAnchor, sign_pdf
    from workstation.reports.site_ca import SiteCa, new_key
    from workstation.reports.tsa import LocalTimeStamper, LocalTsa

    other = SiteCa.init(tmp / "foreign-ca", "Some Other Clinic")
    home = SigningHome(site.settings.signing_dir)  # type: ignore[attr-defined]
    passphrase = site.secrets.get(passphrase_key("dora"))
    assert passphrase
    key = new_key("p256")
    cert = other.issue_signing_cert(key.public_key(), "dora", "dora")
    home.store_key("dora-foreign", key, cert, other.cert, passphrase)
    doctor = site.reports("dora")
    draft = doctor.preview(doctor.create(site.study_uid).report_id)
    return sign_pdf(
        draft,
        home.signer("dora-foreign", passphrase),
        TrustAnchor(other.cert, other.crl()),
        LocalTimeStamper(LocalTsa.for_site(other, tmp / "foreign-tsa")),
    )
