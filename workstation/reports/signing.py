"""PAdES B-LT signatures on report PDFs, and the checks that come before them.

A :class:`Signer` hands out a certificate and a pyHanko CMS signer; where the key lives
(an encrypted PKCS#12 file, a PKCS#11 token) is its business, never the report code's.
:func:`sign_pdf` checks the certificate first - issued by the clinic CA, inside its
validity, not revoked according to the CA's current CRL - and refuses with the reason
before anything is written (pyHanko itself signs an expired certificate without a
word).  It then signs with PAdES B-LT: the chain and the CRL embedded, and an RFC 3161
timestamp, so the file verifies offline years later.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from workstation.reports.errors import SigningRefused
from workstation.reports.site_ca import fingerprint

FIELD_NAME = "KlinikaReportSignature"


class Signer(Protocol):
    """A doctor's key, wherever it is kept."""

    @property
    def certificate(self) -> x509.Certificate: ...

    def cms_signer(self) -> Any:
        """The pyHanko ``pyhanko.sign.signers.Signer`` that signs with this key."""
        ...


class Pkcs12Signer:
    """A key and certificate in an encrypted PKCS#12 file (its bytes and passphrase)."""

    def __init__(self, p12: bytes, passphrase: str) -> None:
        from cryptography.hazmat.primitives.serialization import pkcs12

        try:
            loaded = pkcs12.load_pkcs12(p12, passphrase.encode("utf-8"))
        except ValueError as exc:
            raise SigningRefused("the signing key could not be opened (wrong passphrase?)") from exc
        if loaded.key is None or loaded.cert is None:
            raise SigningRefused("the PKCS#12 file holds no key and certificate")
        self._key = loaded.key
        self._cert = loaded.cert.certificate

    @property
    def certificate(self) -> x509.Certificate:
        return self._cert

    def cms_signer(self) -> Any:
        """A new pyHanko signer with freshly parsed objects on every call: asn1crypto
        objects reused across signatures can make pyHanko's re-encoding explode (seconds
        of CPU for one signature)."""
        from asn1crypto import keys as asn1_keys
        from asn1crypto import x509 as asn1_x509
        from pyhanko.sign.signers import SimpleSigner
        from pyhanko_certvalidator.registry import SimpleCertificateStore

        key_der = self._key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        cert = asn1_x509.Certificate.load(self._cert.public_bytes(serialization.Encoding.DER))
        return SimpleSigner(
            signing_cert=cert,
            signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
            cert_registry=SimpleCertificateStore(),
        )


@dataclass(frozen=True)
class TrustAnchor:
    """The clinic CA and its current CRL (DER)."""

    ca_cert: x509.Certificate
    crl: bytes


def check_certificate(
    cert: x509.Certificate, anchor: TrustAnchor, *, now: dt.datetime | None = None
) -> None:
    """Raise :class:`SigningRefused` unless ``cert`` may sign now."""
    now = now or dt.datetime.now(dt.UTC)
    try:
        cert.verify_directly_issued_by(anchor.ca_cert)
    except (ValueError, TypeError) as exc:
        raise SigningRefused("the signing certificate was not issued by this clinic's CA") from exc
    if now < cert.not_valid_before_utc:
        raise SigningRefused(
            f"the signing certificate is not valid before {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC"
        )
    if now > cert.not_valid_after_utc:
        raise SigningRefused(
            f"the signing certificate expired on {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC"
        )
    crl = x509.load_der_x509_crl(anchor.crl)
    if not crl.is_signature_valid(anchor.ca_cert.public_key()):  # type: ignore[arg-type]
        raise SigningRefused("the CA's revocation list is not signed by the CA")
    revoked = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
    if revoked is not None:
        raise SigningRefused(
            f"the signing certificate was revoked on {revoked.revocation_date_utc:%Y-%m-%d %H:%M} UTC"
        )
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    if not (usage.digital_signature and usage.content_commitment):
        raise SigningRefused("the certificate lacks digitalSignature + nonRepudiation")


def validation_context(anchor: TrustAnchor, *, extra_certs: tuple[Any, ...] = ()) -> Any:
    """A pyHanko validation context with the clinic CA pinned, offline, with its CRL."""
    from asn1crypto import crl as asn1_crl
    from asn1crypto import x509 as asn1_x509
    from pyhanko.sign.validation import ValidationContext

    root = asn1_x509.Certificate.load(anchor.ca_cert.public_bytes(serialization.Encoding.DER))
    return ValidationContext(
        trust_roots=[root],
        crls=[asn1_crl.CertificateList.load(anchor.crl)],
        other_certs=list(extra_certs),
        allow_fetching=False,
    )


def _asn1_cert(cert: x509.Certificate) -> Any:
    from asn1crypto import x509 as asn1_x509

    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def sign_pdf(
    pdf: bytes,
    signer: Signer,
    anchor: TrustAnchor,
    timestamper: Any,
    *,
    tsa_certs: tuple[x509.Certificate, ...] = (),
) -> bytes:
    """The PDF signed with PAdES B-LT (raises :class:`SigningRefused` first if it may not).

    The validation material (signer, CA and TSA certificates, the CA's CRL) goes into the
    document security store in the same revision as the signature, so the signature
    covers it and the file stays UNTOUCHED for validators; it needs no fetching, ever."""
    check_certificate(signer.certificate, anchor)
    from asn1crypto import crl as asn1_crl
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.sign.timestamps import TimestampRequestError
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    DocumentSecurityStore.supply_dss_in_writer(
        writer,
        None,
        certs=[_asn1_cert(c) for c in (signer.certificate, anchor.ca_cert, *tsa_certs)],
        crls=[asn1_crl.CertificateList.load(anchor.crl)],
    )
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        embed_validation_info=False,
    )
    out = io.BytesIO()
    pdf_signer = signers.PdfSigner(meta, signer=signer.cms_signer(), timestamper=timestamper)
    try:
        asyncio.run(pdf_signer.async_sign_pdf(writer, output=out))
    except TimestampRequestError as exc:
        # A refusal or an unreachable authority: no B-LT signature without a timestamp.
        raise SigningRefused(f"no timestamp for the signature: {exc}") from exc
    return out.getvalue()


def signer_fingerprint(signer: Signer) -> str:
    return fingerprint(signer.certificate)
