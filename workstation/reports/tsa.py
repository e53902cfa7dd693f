"""A minimal RFC 3161 timestamp authority, and a pyHanko time stamper that asks it.

Standalone sites stamp signatures with this local authority (its certificate comes from
the site CA, extendedKeyUsage timeStamping); with a central service the stamper asks the
central's endpoint instead.  :meth:`LocalTsa.respond` takes and returns DER, so the same
code can sit behind an HTTP endpoint.  The token is a CMS SignedData over a TSTInfo with
the ESS signing-certificate-v2 attribute (SHA-256), signed with ECDSA or RSA PKCS#1 v1.5.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from pathlib import Path
from typing import Any

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError

from workstation.reports.site_ca import SiteCa, new_key, read_capped, utcnow, write_private

#: The TSA policy: an OID under the UUID arc (X.667), ours.
TSA_POLICY = "2.25.238384466046727427815735302566734931273"
_HASHES = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}


def rejection(fail_info: str) -> bytes:
    """A TimeStampResp that refuses (``bad_alg``, ``bad_data_format``...): its
    PKIStatusInfo alone.  asn1crypto's ``TimeStampResp`` will not dump without a token,
    so the outer SEQUENCE is written here."""
    status = tsp.PKIStatusInfo({"status": "rejection", "fail_info": {fail_info}}).dump()
    return b"\x30" + _der_length(len(status)) + status


class _AnyTimeStampResp(core.Sequence):
    """TimeStampResp whose token may be absent, as in every refusal (asn1crypto's own
    class fails to parse one)."""

    _fields = [  # noqa: RUF012 - asn1crypto's declaration style
        ("status", tsp.PKIStatusInfo),
        ("time_stamp_token", cms.ContentInfo, {"optional": True}),
    ]


def read_reply(der: bytes) -> tsp.TimeStampResp:
    """The authority's answer; a refusal or a malformed answer raises
    :class:`TimestampRequestError` saying why."""
    try:
        status = _AnyTimeStampResp.load(der, strict=True)["status"]
        granted = status["status"].native in ("granted", "granted_with_mods")
        fail_info = sorted(status["fail_info"].native or ())
        reply = tsp.TimeStampResp.load(der)
    except (ValueError, TypeError, KeyError) as exc:
        raise TimestampRequestError("the timestamp authority's answer is malformed") from exc
    if not granted:
        reason = ", ".join(fail_info) or "no reason given"
        raise TimestampRequestError(f"the timestamp authority refused the request ({reason})")
    return reply


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _attr(name: str, value: Any) -> cms.CMSAttribute:
    return cms.CMSAttribute({"type": cms.CMSAttributeType(name), "values": (value,)})


class LocalTsa:
    """Answers TimeStampReq with a granted TimeStampResp signed by ``key``."""

    def __init__(self, cert: x509.Certificate, key: Any, ca_cert: x509.Certificate) -> None:
        self.cert = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
        self.ca_cert = asn1_x509.Certificate.load(ca_cert.public_bytes(serialization.Encoding.DER))
        self._key = key

    @classmethod
    def for_site(cls, ca: SiteCa, folder: Path) -> LocalTsa:
        """The site's TSA in ``folder`` (made on first use, certified by ``ca``)."""
        cert_path, key_path = folder / "tsa.pem", folder / "tsa.key.pem"
        if not cert_path.is_file():
            key = new_key("p256")
            cert = ca.issue_tsa_cert(key.public_key())
            write_private(
                key_path,
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                ),
            )
            cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        cert = x509.load_pem_x509_certificate(read_capped(cert_path))
        loaded: Any = serialization.load_pem_private_key(read_capped(key_path), password=None)
        return cls(cert, loaded, ca.cert)

    def respond(self, request_der: bytes, *, now: dt.datetime | None = None) -> bytes:
        try:
            req = tsp.TimeStampReq.load(request_der, strict=True)
            imprint = req["message_imprint"]
            md = imprint["hash_algorithm"]["algorithm"].native
            digest = imprint["hashed_message"].native
            nonce = req["nonce"].native
        except (ValueError, TypeError, KeyError):
            return rejection("bad_data_format")
        if md not in _HASHES or len(digest) != _HASHES[md].digest_size:
            return rejection("bad_alg")
        tst = {
            "version": "v1",
            "policy": TSA_POLICY,
            "message_imprint": imprint,
            "serial_number": secrets.randbits(63),
            "gen_time": (now or dt.datetime.now(dt.UTC)),
            "accuracy": {"seconds": 1},
            "tsa": asn1_x509.GeneralName(name="directory_name", value=self.cert.subject),
        }
        if nonce is not None:
            tst["nonce"] = nonce
        token = self._sign(tsp.TSTInfo(tst).dump(), now or utcnow())
        return tsp.TimeStampResp(
            {"status": {"status": "granted"}, "time_stamp_token": token}
        ).dump()

    def _sign(self, tst_der: bytes, now: dt.datetime) -> cms.ContentInfo:
        ess = tsp.SigningCertificateV2(
            {
                "certs": [
                    {
                        "hash_algorithm": {"algorithm": "sha256"},
                        "cert_hash": hashlib.sha256(self.cert.dump()).digest(),
                    }
                ]
            }
        )
        attrs = cms.CMSAttributes(
            [
                _attr("content_type", "tst_info"),
                _attr("signing_time", cms.Time({"utc_time": core.UTCTime(now)})),
                _attr("message_digest", hashlib.sha256(tst_der).digest()),
                _attr("signing_certificate_v2", ess),
            ]
        )
        if isinstance(self._key, ec.EllipticCurvePrivateKey):
            signature = self._key.sign(attrs.dump(), ec.ECDSA(hashes.SHA256()))
            sig_alg = "sha256_ecdsa"
        elif isinstance(self._key, rsa.RSAPrivateKey):
            signature = self._key.sign(attrs.dump(), padding.PKCS1v15(), hashes.SHA256())
            sig_alg = "sha256_rsa"
        else:
            raise TypeError("the TSA key must be EC or RSA")
        digest = algos.DigestAlgorithm({"algorithm": "sha256"})
        signer_info = cms.SignerInfo(
            {
                "version": "v1",
                "sid": cms.SignerIdentifier(
                    {
                        "issuer_and_serial_number": {
                            "issuer": self.cert.issuer,
                            "serial_number": self.cert.serial_number,
                        }
                    }
                ),
                "digest_algorithm": digest,
                "signed_attrs": attrs,
                "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": sig_alg}),
                "signature": signature,
            }
        )
        signed = cms.SignedData(
            {
                "version": "v3",
                "digest_algorithms": [digest],
                "encap_content_info": {
                    "content_type": "tst_info",
                    "content": cms.ParsableOctetString(tst_der),
                },
                "certificates": [self.cert, self.ca_cert],
                "signer_infos": [signer_info],
            }
        )
        return cms.ContentInfo({"content_type": "signed_data", "content": signed})


class LocalTimeStamper(TimeStamper):
    """pyHanko's stamper interface over :class:`LocalTsa` (in process, no network)."""

    def __init__(self, tsa: LocalTsa) -> None:
        super().__init__()
        self.tsa = tsa

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        return read_reply(self.tsa.respond(req.dump()))
