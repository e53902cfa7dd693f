"""Is this PDF a report signed under our clinic's CA, intact, and by whom?

pyHanko validates the last signature with the clinic CA pinned as the only trust root,
offline: the chain and CRL come from the file's document security store, and the CA's
*current* CRL (when we have it) is checked on top, so a report signed before its
certificate was revoked shows as revoked.  Anything that is not a valid, intact,
unmodified, trusted signature has a :class:`SignatureState` other than ``VALID``; the
app shows those as NOT SIGNED.
"""

from __future__ import annotations

import datetime as dt
import enum
import io
import logging
from dataclasses import asdict, dataclass
from typing import Any

from cryptography import x509

from workstation.i18n import _

logger = logging.getLogger(__name__)

#: Larger files are not verified (a report with key images is well under a megabyte).
MAX_PDF_BYTES = 64 * 1024 * 1024


class SignatureState(enum.StrEnum):
    VALID = "valid"
    NOT_SIGNED = "not_signed"
    TAMPERED = "tampered"
    MODIFIED = "modified"
    UNTRUSTED = "untrusted"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True)
class Verification:
    state: SignatureState
    reason: str
    signer: str = ""
    signed_at: dt.datetime | None = None
    fingerprint: str = ""
    intact: bool = False
    trusted: bool = False
    #: The certificate's validity ended (after signing, when the state is VALID).
    expired: bool = False
    revoked_at: dt.datetime | None = None

    @property
    def ok(self) -> bool:
        return self.state == SignatureState.VALID

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["state"] = self.state.value
        out["ok"] = self.ok
        for key in ("signed_at", "revoked_at"):
            out[key] = out[key].isoformat() if out[key] else None
        return out


def _not_signed(reason: str) -> Verification:
    return Verification(SignatureState.NOT_SIGNED, reason)


def verify_pdf(
    data: bytes,
    ca_cert: x509.Certificate,
    *,
    current_crl: bytes | None = None,
    now: dt.datetime | None = None,
) -> Verification:
    """Verify the last signature of ``data`` against the clinic CA ``ca_cert``."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    if len(data) > MAX_PDF_BYTES:
        return _not_signed(_("the file is too large to be a report"))
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        sigs = reader.embedded_signatures
    except (PdfError, ValueError, KeyError, IndexError, TypeError) as exc:
        return _not_signed(_("not a readable PDF ({error})").format(error=type(exc).__name__))
    if not sigs:
        return _not_signed(_("the PDF carries no signature"))
    try:
        return _judge(reader, sigs[-1], ca_cert, current_crl, now or dt.datetime.now(dt.UTC))
    except (PdfError, ValueError, KeyError, IndexError, TypeError) as exc:
        logger.info("signature unreadable: %s", exc)
        return _not_signed(
            _("the signature cannot be read ({error})").format(error=type(exc).__name__)
        )


def _context(reader: Any, ca_cert: x509.Certificate) -> Any:
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import serialization
    from pyhanko.pdf_utils.misc import PdfReadError
    from pyhanko.sign.validation import ValidationContext
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    root = asn1_x509.Certificate.load(ca_cert.public_bytes(serialization.Encoding.DER))
    kwargs = {"trust_roots": [root], "allow_fetching": False}
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except (PdfReadError, KeyError, ValueError, TypeError):
        return ValidationContext(**kwargs)  # type: ignore[arg-type]
    return dss.as_validation_context(kwargs)


def _judge(
    reader: Any,
    sig: Any,
    ca_cert: x509.Certificate,
    current_crl: bytes | None,
    now: dt.datetime,
) -> Verification:
    from cryptography.hazmat.primitives import hashes
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    try:
        status = validate_pdf_signature(sig, _context(reader, ca_cert))
    except SignatureValidationError as exc:
        return Verification(
            SignatureState.TAMPERED, _("the signature is broken: {error}").format(error=exc)
        )
    cert = x509.load_der_x509_certificate(status.signing_cert.dump())
    stamp = status.timestamp_validity
    signed_at = stamp.timestamp if stamp is not None else status.signer_reported_dt
    base: dict[str, Any] = {
        "signer": _common_name(cert),
        "signed_at": signed_at,
        "fingerprint": cert.fingerprint(hashes.SHA256()).hex(),
        "intact": bool(status.intact and status.valid),
        "trusted": bool(status.trusted),
        "expired": now > cert.not_valid_after_utc,
    }
    if not (status.intact and status.valid):
        return Verification(SignatureState.TAMPERED, _("the signed content was changed"), **base)
    untouched = status.coverage == SignatureCoverageLevel.ENTIRE_FILE or (
        status.modification_level in (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES)
        and status.docmdp_ok
    )
    if not untouched:
        return Verification(
            SignatureState.MODIFIED, _("the document was changed after it was signed"), **base
        )
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError):
        return Verification(
            SignatureState.UNTRUSTED,
            _("the signer's certificate is not from this clinic's CA"),
            **base,
        )
    when = signed_at or now
    if not cert.not_valid_before_utc <= when <= cert.not_valid_after_utc:
        return Verification(
            SignatureState.EXPIRED,
            _("the certificate was not valid when the document was signed"),
            **base,
        )
    revoked = _revoked(cert, ca_cert, current_crl)
    if revoked is not None:
        return Verification(
            SignatureState.REVOKED,
            _("the certificate was revoked on {when} UTC").format(when=f"{revoked:%Y-%m-%d %H:%M}"),
            revoked_at=revoked,
            **base,
        )
    if not status.trusted:
        indic = status.trust_problem_indic
        return Verification(
            SignatureState.UNTRUSTED,
            _("the certificate chain is not trusted ({problem})").format(
                problem=indic if indic else _("unknown")
            ),
            **base,
        )
    return Verification(SignatureState.VALID, _("intact and trusted"), **base)


def _revoked(
    cert: x509.Certificate, ca_cert: x509.Certificate, crl_der: bytes | None
) -> dt.datetime | None:
    if not crl_der:
        return None
    crl = x509.load_der_x509_crl(crl_der)
    if not crl.is_signature_valid(ca_cert.public_key()):  # type: ignore[arg-type]
        logger.warning("the current CRL is not signed by the pinned CA; ignored")
        return None
    entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
    return None if entry is None else entry.revocation_date_utc


def _common_name(cert: x509.Certificate) -> str:
    from cryptography.x509.oid import NameOID

    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else cert.subject.rfc4514_string()
