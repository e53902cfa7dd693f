"""Signing set-up as guarded, audited calls: the standalone site CA, enrolment, revocation.

``ca_init`` and ``revoke`` are an administrator's; ``enroll`` gives the logged-in doctor
a key and a certificate from the site CA.  The key's PKCS#12 passphrase is a random
secret put in the OS keyring; without a usable keyring the doctor's own passphrase is
used and must be typed to sign.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cryptography import x509

from workstation.auth.audit import AuditAction, AuditLog
from workstation.auth.permissions import Permission
from workstation.auth.session import Session
from workstation.reports.errors import SigningSetupError
from workstation.reports.keystore import SigningHome, new_passphrase, passphrase_key
from workstation.reports.site_ca import IssuedCert, SiteCa, fingerprint

if TYPE_CHECKING:
    from workstation.auth.keyring_store import SecretStore
    from workstation.config import Settings


class SigningActions:
    def __init__(
        self,
        session: Session,
        audit: AuditLog,
        settings: Settings,
        secrets: SecretStore | None = None,
    ) -> None:
        self.session = session
        self.audit = audit
        self.settings = settings
        self.secrets = secrets
        self.home = SigningHome(settings.signing_dir)

    def _guard(self, permission: Permission) -> None:
        self.audit.require(self.session, permission)

    def ca_init(self, name: str) -> x509.Certificate:
        """Create the standalone site CA (administrators; refused if one exists)."""
        self._guard(Permission.SETTINGS_MANAGE)
        ca = SiteCa.init(self.home.ca_dir, name)
        self.home.tsa()
        self.audit.record(
            AuditAction.SIGNING_CA_INIT, session=self.session, certificate=fingerprint(ca.cert)
        )
        return ca.cert

    def enroll(
        self, typed_passphrase: str | None = None, key_type: str | None = None
    ) -> x509.Certificate:
        """A new key and certificate for the logged-in user (doctors and admins)."""
        self._guard(Permission.REPORT_SIGN)
        user = self.session.username
        keyring_ok = self.secrets is not None and self.secrets.available
        passphrase = new_passphrase() if keyring_ok else typed_passphrase
        if not passphrase:
            raise SigningSetupError(
                "no OS keyring to keep the key's passphrase: give one (second stdin line)"
            )
        cert = self.home.enroll(
            user, user, passphrase, key_type=key_type or self.settings.reports.key_type
        )
        if keyring_ok:
            assert self.secrets is not None
            if not self.secrets.set(passphrase_key(user), passphrase):
                raise SigningSetupError("the OS keyring refused the key's passphrase")
        self.audit.record(
            AuditAction.SIGNING_ENROLL,
            session=self.session,
            certificate=fingerprint(cert),
            serial=str(cert.serial_number),
            keyring=keyring_ok,
        )
        return cert

    def revoke(self, username: str) -> list[IssuedCert]:
        """Revoke every live signing certificate of ``username`` (administrators)."""
        self._guard(Permission.USERS_MANAGE)
        ca = self.home.ca()
        done = [
            ca.revoke(item.serial)
            for item in ca.issued()
            if item.purpose == "signing"
            and item.user.casefold() == username.casefold()
            and item.revoked_at is None
        ]
        self.audit.record(
            AuditAction.SIGNING_REVOKE,
            session=self.session,
            target=username,
            serials=[str(i.serial) for i in done],
        )
        return done
