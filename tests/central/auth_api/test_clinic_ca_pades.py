"""A PAdES B-LT signature made by pyHanko (as the workstation makes it) with a key whose
certificate comes from the central clinic CA and a timestamp from the central ``/tsa``,
validated by pyHanko with only the exported CA certificate as trust root."""

from __future__ import annotations

import io
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

pytestmark = pytest.mark.network
pyhanko = pytest.importorskip("pyhanko")
reportlab = pytest.importorskip("reportlab")


def _one_page_pdf() -> bytes:
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawString(72, 720, "Findings: no acute abnormality.")
    page.save()
    return out.getvalue()


def _asn1(cert: x509.Certificate) -> Any:
    from asn1crypto import x509 as asn1_x509

    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def test_pades_b_lt_with_central_certificate_and_timestamp(ca_server) -> None:  # type: ignore[no-untyped-def]
    from asn1crypto import keys
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign import signers, timestamps
    from pyhanko.sign.fields import SigSeedSubFilter
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    doctor, password = ca_server.new_user("doctor")
    token = ca_server.login_ok(doctor["username"], password)["access_token"]
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, doctor["username"])]))
        .sign(key, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
        .decode()
    )
    enrolled = ca_server.post("/ca/enroll", token=token, json={"csr": csr})
    assert enrolled.status_code == 201, enrolled.text
    cert = x509.load_pem_x509_certificate(enrolled.json()["certificate"].encode())
    ca = x509.load_pem_x509_certificate(enrolled.json()["ca_certificate"].encode())
    crl = ca_server.get("/ca/crl").content

    signer = signers.SimpleSigner(
        signing_cert=_asn1(cert),
        signing_key=keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
        cert_registry=SimpleCertificateStore.from_certs([_asn1(ca)]),
    )
    stamper = timestamps.HTTPTimeStamper(
        ca_server.url + "/tsa", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    context = ValidationContext(trust_roots=[_asn1(ca)], crls=[crl], allow_fetching=False)
    meta = signers.PdfSignatureMetadata(
        field_name="Signature",
        subfilter=SigSeedSubFilter.PADES,
        embed_validation_info=True,
        validation_context=context,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(_one_page_pdf()))
    signed = signers.sign_pdf(writer, meta, signer=signer, timestamper=stamper)

    reader = PdfFileReader(signed)
    check = ValidationContext(trust_roots=[_asn1(ca)], crls=[crl], allow_fetching=False)
    status = validate_pdf_signature(reader.embedded_signatures[0], check)
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    assert status.timestamp_validity is not None
    assert status.timestamp_validity.intact and status.timestamp_validity.trusted
    signer_cn = status.signing_cert.subject.native["common_name"]
    assert signer_cn == doctor["username"]
