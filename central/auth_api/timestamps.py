"""An RFC 3161 timestamp responder signed by the clinic CA's timestamp authority.

``respond(ca, request_der)`` takes a DER TimeStampReq and returns a DER TimeStampResp:
granted with a token (CMS SignedData over a TSTInfo, signed attributes content-type,
signing-time, message-digest and ESS signing-certificate-v2, ECDSA with SHA-256), or a
rejection with ``badAlg`` / ``badDataFormat``.  The TSA certificate is included when the
request asks for it (``certReq``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from klinika_auth.clinic_ca import ClinicCa

#: The TSA policy: an OID under the UUID arc (X.667), the central service's own.
TSA_POLICY = "2.25.305486254791162759413179060218460790333"
DIGEST_SIZES = {"sha256": 32, "sha384": 48, "sha512": 64}


def _rejection(reason: str) -> bytes:
    """A TimeStampResp holding only its PKIStatusInfo (asn1crypto's class insists on a
    token, which a rejection has not: the SEQUENCE is written here)."""
    status = tsp.PKIStatusInfo({"status": "rejection", "fail_info": {reason}}).dump()
    return b"\x30" + _der_length(len(status)) + status


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _attribute(name: str, value: Any) -> cms.CMSAttribute:
    return cms.CMSAttribute({"type": cms.CMSAttributeType(name), "values": (value,)})


def _der(cert: Any) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def respond(ca: ClinicCa, request_der: bytes, now: dt.datetime | None = None) -> tuple[bytes, str]:
    """The DER TimeStampResp and its status (``granted`` or the failure reason)."""
    try:
        req = tsp.TimeStampReq.load(request_der, strict=True)
        imprint = req["message_imprint"]
        algorithm = imprint["hash_algorithm"]["algorithm"].native
        digest = imprint["hashed_message"].native
        nonce = req["nonce"].native
        cert_req = bool(req["cert_req"].native)
        policy = req["req_policy"].native
    except (ValueError, TypeError, KeyError):
        return _rejection("bad_data_format"), "bad_data_format"
    if algorithm not in DIGEST_SIZES or len(digest) != DIGEST_SIZES[algorithm]:
        return _rejection("bad_alg"), "bad_alg"
    if policy is not None and policy != TSA_POLICY:
        return _rejection("unaccepted_policy"), "unaccepted_policy"
    now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    tsa_cert = _der(ca.tsa_cert)
    info: dict[str, Any] = {
        "version": "v1",
        "policy": TSA_POLICY,
        "message_imprint": imprint,
        "serial_number": secrets.randbits(64),
        "gen_time": now,
        "accuracy": {"seconds": 1},
        "tsa": asn1_x509.GeneralName(name="directory_name", value=tsa_cert.subject),
    }
    if nonce is not None:
        info["nonce"] = nonce
    token = _sign(ca, tsa_cert, tsp.TSTInfo(info).dump(), now, cert_req)
    return tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token}).dump(), (
        "granted"
    )


def _sign(
    ca: ClinicCa, tsa_cert: asn1_x509.Certificate, content: bytes, now: dt.datetime, certs: bool
) -> cms.ContentInfo:
    ess = tsp.SigningCertificateV2(
        {
            "certs": [
                {
                    "hash_algorithm": {"algorithm": "sha256"},
                    "cert_hash": hashlib.sha256(tsa_cert.dump()).digest(),
                }
            ]
        }
    )
    signed_attrs = cms.CMSAttributes(
        [
            _attribute("content_type", "tst_info"),
            _attribute("signing_time", cms.Time({"utc_time": core.UTCTime(now)})),
            _attribute("message_digest", hashlib.sha256(content).digest()),
            _attribute("signing_certificate_v2", ess),
        ]
    )
    if not isinstance(ca.tsa_key, ec.EllipticCurvePrivateKey):
        raise TypeError("the TSA key must be an EC key")
    signature = ca.tsa_key.sign(signed_attrs.dump(), ec.ECDSA(hashes.SHA256()))
    digest_algorithm = algos.DigestAlgorithm({"algorithm": "sha256"})
    signer = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": {
                        "issuer": tsa_cert.issuer,
                        "serial_number": tsa_cert.serial_number,
                    }
                }
            ),
            "digest_algorithm": digest_algorithm,
            "signed_attrs": signed_attrs,
            "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}),
            "signature": signature,
        }
    )
    signed_data: dict[str, Any] = {
        "version": "v3",
        "digest_algorithms": [digest_algorithm],
        "encap_content_info": {
            "content_type": "tst_info",
            "content": cms.ParsableOctetString(content),
        },
        "signer_infos": [signer],
    }
    if certs:
        signed_data["certificates"] = [tsa_cert, _der(ca.cert)]
    return cms.ContentInfo({"content_type": "signed_data", "content": cms.SignedData(signed_data)})
