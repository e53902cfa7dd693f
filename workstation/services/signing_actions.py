"""Signing set-up as guarded, audited calls: the standalone site CA, enrolment, revocation.

``ca_init`` and ``revoke`` are an administrator's; ``enroll`` gives the logged-in doctor
a key and a certificate: from the site CA, or in central mode from the central clinic
CA (:mod:`workstation.services.central_signing`; the key is made here, only its
certificate request leaves; the central may ask for an authenticator code).  The key's PKCS#12 passphrase is a random
secret put in the OS keyring; without a usable keyring the doctor's own passphrase is
used and must be typed to sign.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from cryptography import x509

from workstation.auth.audit import AuditAction, AuditLog, Outcome
from workstation.auth.errors import AuthError, InvalidCredentials
from workstation.auth.passwords import verify_password
from workstation.auth.permissions import Permission
from workstation.auth.session import Session
from workstation.i18n import _
from workstation.reports.errors import ReportError, SigningSetupError
from workstation.reports.keystore import (
    SigningHome,
    check_passphrase,
    new_passphrase,
    passphrase_key,
)
from workstation.reports.site_ca import IssuedCert, SiteCa, fingerprint, new_key
from workstation.services.central_signing import CentralClinicCa, central_mode

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

    @property
    def username(self) -> str:
        return self.session.username

    @property
    def refusals(self) -> tuple[type[Exception], ...]:
        """The errors whose text is the user's answer (a wrong password, a refusal)."""
        return (AuthError, ReportError)

    @property
    def needs_passphrase(self) -> bool:
        """No OS keyring here: the user gives the new key's passphrase."""
        return not (self.secrets is not None and self.secrets.available)

    def ca_init(self, name: str) -> x509.Certificate:
        """Create the standalone site CA (administrators; refused if one exists)."""
        self._guard(Permission.SETTINGS_MANAGE)
        if central_mode(self.settings):
            raise SigningSetupError(
                "this workstation uses the central server's clinic CA: no site CA is made"
            )
        ca = SiteCa.init(self.home.ca_dir, name)
        self.home.tsa()
        self.audit.record(
            AuditAction.SIGNING_CA_INIT, session=self.session, certificate=fingerprint(ca.cert)
        )
        return ca.cert

    def needs_certificate(self) -> bool:
        """The logged-in user may sign but has no signing key on this workstation yet."""
        return self.session.can(Permission.REPORT_SIGN) and not self.home.has_key(
            self.session.username
        )

    def confirm_password(self, password: str) -> None:
        """The app's enrolment asks the signed-in user to type the password again
        (checked locally against this session, like unlocking)."""
        if not self.session.unlock_verifier or not verify_password(
            self.session.unlock_verifier, password
        ):
            self.audit.record(
                AuditAction.SIGNING_ENROLL,
                session=self.session,
                outcome=Outcome.FAILURE,
                reason="password",
            )
            raise InvalidCredentials(_("Wrong password."))

    def enroll(
        self,
        typed_passphrase: str | None = None,
        key_type: str | None = None,
        ask_code: Callable[[], str | None] | None = None,
    ) -> x509.Certificate:
        """A new key and certificate for the logged-in user (doctors and admins).

        ``ask_code`` gives a current authenticator code when the central asks for one."""
        self._guard(Permission.REPORT_SIGN)
        user = self.session.username
        keyring_ok = self.secrets is not None and self.secrets.available
        passphrase = new_passphrase() if keyring_ok else typed_passphrase
        if not passphrase:
            raise SigningSetupError(
                "no OS keyring to keep the key's passphrase: give one (second stdin line)"
            )
        kind = key_type or self.settings.reports.key_type
        if central_mode(self.settings):
            cert = self._enroll_central(passphrase, kind, ask_code or (lambda: None))
        else:
            cert = self.home.enroll(user, user, passphrase, key_type=kind)
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

    def _enroll_central(
        self, passphrase: str, key_type: str, ask_code: Callable[[], str | None]
    ) -> x509.Certificate:
        from workstation.auth.central_client import CentralAuthClient

        token = self.session.access_token
        if token is None:
            raise SigningSetupError(
                "enrolment needs a sign-in to the central server (this session is offline)"
            )
        check_passphrase(passphrase)
        key = new_key(key_type)
        client = CentralAuthClient.from_settings(self.settings)
        try:
            cert, ca = CentralClinicCa(client, self.home).enroll(
                self.session.username, key, token, ask_code
            )
        finally:
            client.close()
        self.home.store_key(self.session.username, key, cert, ca, passphrase)
        return cert

    def revoke(self, username: str) -> list[IssuedCert]:
        """Revoke every live signing certificate of ``username`` (administrators)."""
        self._guard(Permission.USERS_MANAGE)
        if central_mode(self.settings):
            raise SigningSetupError(
                "the central server's administrator revokes certificates of its clinic CA"
            )
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
