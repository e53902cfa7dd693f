"""The standalone site's certificate authority: doctors' signing certificates and a CRL.

This is the weaker option, for sites without the central service: the CA's key is a
file on this workstation (mode 0600 in ``<home>/signing/ca``), so whoever can read the
data directory can issue certificates.  With a central service the clinic CA lives
there instead.  The CA issues

* doctors' signing certificates: keyUsage digitalSignature + nonRepudiation (critical),
  at most two years;
* the local timestamp authority's certificate (extendedKeyUsage timeStamping, critical);
* a CRL, re-issued on every revocation and whenever it is older than a day.

Issued certificates are listed in ``issued.json`` (serial, user, validity, revocation).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from workstation.reports.errors import SigningSetupError

MAX_VALIDITY = dt.timedelta(days=730)
CA_VALIDITY = dt.timedelta(days=3650)
CRL_VALIDITY = dt.timedelta(days=7)
CRL_REFRESH = dt.timedelta(days=1)
MAX_FILE_BYTES = 4 * 1024 * 1024

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def new_key(kind: str = "p256") -> PrivateKey:
    """A P-256 or RSA-3072 private key."""
    if kind == "p256":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "rsa3072":
        return rsa.generate_private_key(public_exponent=65537, key_size=3072)
    raise ValueError(f"unknown key type {kind!r} (p256 or rsa3072)")


def write_private(path: Path, data: bytes) -> None:
    """Write a secret file readable by its owner only (created 0600, replaced atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_capped(path: Path) -> bytes:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise SigningSetupError(f"{path.name} is larger than expected")
    return path.read_bytes()


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    """The CA signs certificates and CRLs; a doctor's certificate signs documents, with
    non-repudiation (content commitment)."""
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=not ca,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


@dataclass(frozen=True)
class IssuedCert:
    serial: int
    user: str
    purpose: str
    not_before: str
    not_after: str
    revoked_at: str | None = None


class SiteCa:
    """The CA in ``folder`` (``ca.pem``, ``ca.key.pem``, ``crl.der``, ``issued.json``)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        if not (folder / "ca.pem").is_file() or not (folder / "ca.key.pem").is_file():
            raise SigningSetupError(
                "no site CA: an administrator runs 'workstation signing ca-init' first"
            )
        self.cert = x509.load_pem_x509_certificate(read_capped(folder / "ca.pem"))
        self._key: Any = serialization.load_pem_private_key(
            read_capped(folder / "ca.key.pem"), password=None
        )

    @staticmethod
    def exists(folder: Path) -> bool:
        return (folder / "ca.pem").is_file()

    @classmethod
    def init(cls, folder: Path, name: str, *, now: dt.datetime | None = None) -> SiteCa:
        """Create the CA (refuses to replace one that exists)."""
        if cls.exists(folder):
            raise SigningSetupError(f"a site CA exists already in {folder}")
        now = now or utcnow()
        key = new_key("p256")
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, name),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
            ]
        )
        ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + CA_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(ca=True), critical=True)
            .add_extension(ski, critical=False)
            .sign(key, hashes.SHA256())
        )
        folder.mkdir(parents=True, exist_ok=True)
        write_private(
            folder / "ca.key.pem",
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
        (folder / "ca.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (folder / "issued.json").write_text("[]", encoding="utf-8")
        ca = cls(folder)
        ca.crl(now=now, force=True)
        return ca

    # -- issuing -----------------------------------------------------------------------
    def _issue(
        self,
        public_key: PublicKey,
        common_name: str,
        user: str,
        purpose: str,
        not_before: dt.datetime,
        not_after: dt.datetime,
    ) -> x509.Certificate:
        serial = x509.random_serial_number()
        builder = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                        *self.cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME),
                    ]
                )
            )
            .issuer_name(self.cert.subject)
            .public_key(public_key)
            .serial_number(serial)
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(ca=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()),
                critical=False,
            )
        )
        if purpose == "tsa":
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
            )
        cert = builder.sign(self._key, hashes.SHA256())
        issued = self.issued()
        issued.append(
            IssuedCert(serial, user, purpose, not_before.isoformat(), not_after.isoformat())
        )
        self._save_issued(issued)
        return cert

    def issue_signing_cert(
        self,
        public_key: PublicKey,
        common_name: str,
        user: str,
        *,
        days: int = 730,
        not_before: dt.datetime | None = None,
    ) -> x509.Certificate:
        """A doctor's signing certificate, valid ``days`` (at most two years)."""
        start = not_before or utcnow() - dt.timedelta(minutes=5)
        end = start + min(dt.timedelta(days=days), MAX_VALIDITY)
        return self._issue(public_key, common_name, user, "signing", start, end)

    def issue_tsa_cert(self, public_key: PublicKey) -> x509.Certificate:
        start = utcnow() - dt.timedelta(minutes=5)
        name = f"{self.cert.subject.rfc4514_string()[:40]} TSA"
        return self._issue(public_key, name, "-", "tsa", start, start + CA_VALIDITY)

    # -- revocation --------------------------------------------------------------------
    def issued(self) -> list[IssuedCert]:
        raw = json.loads(read_capped(self.folder / "issued.json"))
        return [IssuedCert(**item) for item in raw]

    def _save_issued(self, issued: list[IssuedCert]) -> None:
        data = json.dumps([vars(i) for i in issued], indent=1).encode("utf-8")
        write_private(self.folder / "issued.json", data)

    def revoke(self, serial: int, *, when: dt.datetime | None = None) -> IssuedCert:
        """Revoke a certificate by serial and publish a new CRL."""
        when = when or utcnow()
        issued = self.issued()
        for i, item in enumerate(issued):
            if item.serial == serial:
                if item.revoked_at is None:
                    issued[i] = IssuedCert(**{**vars(item), "revoked_at": when.isoformat()})
                    self._save_issued(issued)
                    self.crl(force=True)
                return issued[i]
        raise SigningSetupError(f"no certificate with serial {serial} was issued here")

    def revoked_at(self, serial: int) -> dt.datetime | None:
        for item in self.issued():
            if item.serial == serial and item.revoked_at:
                return dt.datetime.fromisoformat(item.revoked_at)
        return None

    def crl(self, *, now: dt.datetime | None = None, force: bool = False) -> bytes:
        """The current CRL (DER), issued again when older than a day or when forced."""
        path = self.folder / "crl.der"
        now = now or utcnow()
        if path.is_file() and not force:
            current = x509.load_der_x509_crl(read_capped(path))
            if current.last_update_utc + CRL_REFRESH > now:
                return path.read_bytes()
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.cert.subject)
            .last_update(now - dt.timedelta(minutes=1))
            .next_update(now + CRL_VALIDITY)
            .add_extension(x509.CRLNumber(int(now.timestamp() * 1000)), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()),
                critical=False,
            )
        )
        for item in self.issued():
            if item.revoked_at:
                builder = builder.add_revoked_certificate(
                    x509.RevokedCertificateBuilder()
                    .serial_number(item.serial)
                    .revocation_date(dt.datetime.fromisoformat(item.revoked_at))
                    .build()
                )
        data = builder.sign(self._key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
        write_private(path, data)
        return data

    def export_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)
