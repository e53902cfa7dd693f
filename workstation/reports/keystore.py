"""Where a site keeps its signing material, and each doctor's key.

``<home>/signing/`` holds ``ca/`` (the standalone site CA, :mod:`site_ca`), ``tsa/`` (the
local timestamp authority) and ``users/``: one encrypted PKCS#12 per doctor (AES-256),
named by a hash of the user name - never by the name itself.  The PKCS#12 passphrase is
a random secret kept in the OS keyring; where no keyring is usable, the doctor chooses it
at enrolment and types it when signing.
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

from workstation.reports.errors import SigningSetupError
from workstation.reports.signing import Pkcs12Signer, TrustAnchor
from workstation.reports.site_ca import SiteCa, new_key, read_capped, write_private
from workstation.reports.tsa import LocalTimeStamper, LocalTsa

MIN_PASSPHRASE = 8


def passphrase_key(username: str) -> str:
    """The keyring entry holding a user's PKCS#12 passphrase."""
    return f"signing-key:{username.casefold()}"


class SigningHome:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @property
    def ca_dir(self) -> Path:
        return self.folder / "ca"

    def ca(self) -> SiteCa:
        return SiteCa(self.ca_dir)

    def tsa(self) -> LocalTsa:
        return LocalTsa.for_site(self.ca(), self.folder / "tsa")

    def timestamper(self) -> LocalTimeStamper:
        return LocalTimeStamper(self.tsa())

    def anchor(self) -> TrustAnchor:
        ca = self.ca()
        return TrustAnchor(ca.cert, ca.crl())

    def key_path(self, username: str) -> Path:
        digest = hashlib.sha256(username.casefold().encode("utf-8")).hexdigest()[:32]
        return self.folder / "users" / f"{digest}.p12"

    def has_key(self, username: str) -> bool:
        return self.key_path(username).is_file()

    def enroll(
        self,
        username: str,
        common_name: str,
        passphrase: str,
        *,
        key_type: str = "p256",
        days: int = 730,
    ) -> x509.Certificate:
        """Make the user's key, have the site CA certify it, keep both in a PKCS#12."""
        check_passphrase(passphrase)
        ca = self.ca()
        key = new_key(key_type)
        cert = ca.issue_signing_cert(key.public_key(), common_name, username, days=days)
        self.store_key(username, key, cert, ca.cert, passphrase)
        return cert

    def store_key(
        self,
        username: str,
        key: Any,
        cert: x509.Certificate,
        ca_cert: x509.Certificate,
        passphrase: str,
    ) -> None:
        data = pkcs12.serialize_key_and_certificates(
            username.encode("utf-8"),
            key,
            cert,
            [ca_cert],
            BestAvailableEncryption(passphrase.encode("utf-8")),
        )
        write_private(self.key_path(username), data)

    def signer(self, username: str, passphrase: str) -> Pkcs12Signer:
        path = self.key_path(username)
        if not path.is_file():
            raise SigningSetupError(
                f"{username} has no signing key: run 'workstation signing enroll' first"
            )
        return Pkcs12Signer(read_capped(path), passphrase)

    def certificate(self, username: str, passphrase: str) -> x509.Certificate:
        return self.signer(username, passphrase).certificate


def check_passphrase(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE:
        raise SigningSetupError(
            f"the key's passphrase must have at least {MIN_PASSPHRASE} characters"
        )


def new_passphrase() -> str:
    return secrets.token_urlsafe(32)
