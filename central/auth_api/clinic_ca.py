"""The clinic CA: doctors' signing certificates, the timestamp authority's certificate and
the CRL.

``central-auth ca init`` makes, in ``ca_dir`` (default ``data_dir/ca``, folder 0700):

* ``ca.pem`` — the CA certificate (P-384, ten years, basicConstraints CA pathlen 0);
* ``ca.key.pem`` — its private key, PKCS#8 encrypted with ``ca_key_passphrase``;
* ``tsa.pem`` / ``tsa.key.pem`` — the RFC 3161 timestamp authority's certificate
  (extendedKeyUsage timeStamping, critical) and its key, encrypted the same way.

Doctors' certificates carry keyUsage digitalSignature + nonRepudiation (critical) and are
valid at most two years.  Which certificates were issued and revoked is kept in the
database (table ``issued_certificates``); the CRL is built from it on request.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_VALIDITY = dt.timedelta(days=3650)
MAX_CERT_DAYS = 730
BACKDATE = dt.timedelta(minutes=5)
MAX_FILE_BYTES = 1024 * 1024
MIN_RSA_BITS = 2048
ALLOWED_CURVES = (ec.SECP256R1, ec.SECP384R1)

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey


class CaError(Exception):
    """The CA is missing, locked with another passphrase, or refuses a request."""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _write(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _read(path: Path) -> bytes:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise CaError(f"{path.name} is larger than a key or certificate can be")
    return path.read_bytes()


def _ku(*, sign: bool, commit: bool, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=commit,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _encrypted(key: PrivateKey, passphrase: str) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode("utf-8")),
    )


def _load_key(path: Path, passphrase: str) -> Any:
    try:
        return serialization.load_pem_private_key(_read(path), passphrase.encode("utf-8"))
    except (ValueError, TypeError):
        raise CaError(
            f"cannot decrypt {path.name}: ca_key_passphrase is not the one it was made with"
        ) from None


def check_public_key(key: Any) -> PublicKey:
    """P-256/P-384 or RSA of at least 2048 bits; anything else is refused."""
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ALLOWED_CURVES):
        return key
    if isinstance(key, rsa.RSAPublicKey) and key.key_size >= MIN_RSA_BITS:
        return key
    raise CaError("the key must be EC P-256/P-384 or RSA with at least 2048 bits")


@dataclass(frozen=True)
class ClinicCa:
    cert: x509.Certificate
    key: Any
    tsa_cert: x509.Certificate
    tsa_key: Any

    @staticmethod
    def exists(folder: Path) -> bool:
        return (folder / "ca.pem").is_file()

    @classmethod
    def load(cls, folder: Path, passphrase: str) -> ClinicCa:
        if not passphrase:
            raise CaError("no clinic CA: ca_key_passphrase is not set")
        if not cls.exists(folder):
            raise CaError("no clinic CA: an administrator runs 'central-auth ca init' first")
        return cls(
            cert=x509.load_pem_x509_certificate(_read(folder / "ca.pem")),
            key=_load_key(folder / "ca.key.pem", passphrase),
            tsa_cert=x509.load_pem_x509_certificate(_read(folder / "tsa.pem")),
            tsa_key=_load_key(folder / "tsa.key.pem", passphrase),
        )

    @classmethod
    def init(cls, folder: Path, passphrase: str, name: str) -> ClinicCa:
        """Create the CA and its TSA (refuses to replace a CA that exists)."""
        if not passphrase:
            raise CaError("set ca_key_passphrase (CENTRAL_AUTH_CA_KEY_PASSPHRASE) first")
        if cls.exists(folder):
            raise CaError(f"a clinic CA exists already in {folder}")
        now = utcnow()
        key = ec.generate_private_key(ec.SECP384R1())
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, name),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
            ]
        )
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(now + CA_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_ku(sign=True, commit=False, ca=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .sign(key, hashes.SHA384())
        )
        tsa_key = ec.generate_private_key(ec.SECP256R1())
        partial = cls(cert=cert, key=key, tsa_cert=cert, tsa_key=tsa_key)
        tsa_cert = partial._issue(
            tsa_key.public_key(),
            f"{name} TSA"[:64],
            now - BACKDATE,
            now + CA_VALIDITY - dt.timedelta(days=1),
            tsa=True,
        )
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        _write(folder / "ca.key.pem", _encrypted(key, passphrase), 0o600)
        _write(folder / "tsa.key.pem", _encrypted(tsa_key, passphrase), 0o600)
        _write(folder / "tsa.pem", tsa_cert.public_bytes(serialization.Encoding.PEM), 0o644)
        _write(folder / "ca.pem", cert.public_bytes(serialization.Encoding.PEM), 0o644)
        return cls(cert=cert, key=key, tsa_cert=tsa_cert, tsa_key=tsa_key)

    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def _issue(
        self,
        public_key: PublicKey,
        common_name: str,
        not_before: dt.datetime,
        not_after: dt.datetime,
        *,
        tsa: bool = False,
        crl_url: str = "",
    ) -> x509.Certificate:
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                *self.cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME),
            ]
        )
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.cert.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(min(not_after, self.cert.not_valid_after_utc))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_ku(sign=True, commit=True, ca=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), False
            )
        )
        if tsa:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
            )
        if crl_url:
            point = x509.DistributionPoint(
                full_name=[x509.UniformResourceIdentifier(crl_url)],
                relative_name=None,
                reasons=None,
                crl_issuer=None,
            )
            builder = builder.add_extension(x509.CRLDistributionPoints([point]), False)
        return builder.sign(self.key, hashes.SHA384())

    def issue_signing_cert(
        self, csr: x509.CertificateSigningRequest, username: str, days: int, crl_url: str = ""
    ) -> x509.Certificate:
        """A doctor's certificate for the CSR's key, subject CN=<username>, O=<CA's O>."""
        if not csr.is_signature_valid:
            raise CaError("the CSR's signature does not verify")
        names = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if len(names) != 1 or names[0].value != username:
            raise CaError("the CSR's subject common name must be your user name")
        others = [a for a in csr.subject if a.oid not in (NameOID.COMMON_NAME,)]
        organisation = self.cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
        if any(a not in organisation for a in others):
            raise CaError("the CSR's subject may only hold your user name (CN) and the clinic (O)")
        public_key = check_public_key(csr.public_key())
        start = utcnow() - BACKDATE
        end = start + dt.timedelta(days=min(days, MAX_CERT_DAYS))
        return self._issue(public_key, username, start, end, crl_url=crl_url)

    def crl(
        self, revoked: list[tuple[int, dt.datetime]], days: int, now: dt.datetime | None = None
    ) -> bytes:
        """A CRL (DER) listing ``(serial, revoked at)``; its number grows with the time."""
        now = now or utcnow()
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.cert.subject)
            .last_update(now - dt.timedelta(minutes=1))
            .next_update(now + dt.timedelta(days=days))
            .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), False
            )
        )
        for serial, when in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build()
            )
        return builder.sign(self.key, hashes.SHA384()).public_bytes(serialization.Encoding.DER)
