"""Who vouches for a signature made or checked here: the standalone site CA with its
local timestamp authority, or (central mode) the central clinic CA with its ``/tsa``.

:func:`signing_authority` gives what :func:`~workstation.reports.signing.sign_pdf`
needs - the CA with its *current* CRL, a timestamper, the TSA's certificates - and
refuses when the central cannot vouch now (offline session, CRL unreachable).
:func:`verification_anchor` gives the CA to pin and the CRL to apply when verifying.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cryptography import x509

from workstation.auth.central_client import CentralAuthClient
from workstation.reports.errors import SigningRefused, SigningSetupError
from workstation.reports.keystore import SigningHome
from workstation.reports.signing import TrustAnchor
from workstation.services.central_signing import CentralClinicCa, central_mode

if TYPE_CHECKING:
    from workstation.auth.session import Session

#: Verifying (the app's panel, ``report verify``) waits at most this long for the CRL.
VERIFY_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class SigningAuthority:
    anchor: TrustAnchor
    timestamper: Any
    tsa_certs: tuple[x509.Certificate, ...] = ()


@contextmanager
def signing_authority(
    settings: Any, home: SigningHome, session: Session
) -> Iterator[SigningAuthority]:
    """The CA, its current CRL and a timestamper for one signature."""
    if not central_mode(settings):
        from workstation.reports.tsa import LocalTimeStamper

        tsa = home.tsa()
        tsa_cert = x509.load_der_x509_certificate(tsa.cert.dump())
        yield SigningAuthority(home.anchor(), LocalTimeStamper(tsa), (tsa_cert,))
        return
    if session.access_token is None:
        raise SigningRefused(
            "signing needs a sign-in to the central server (its timestamp and revocation "
            "list): this session is offline"
        )
    client = CentralAuthClient.from_settings(settings)
    try:
        ca = CentralClinicCa(client, home)
        yield SigningAuthority(ca.anchor(), ca.timestamper(lambda: session.access_token))
    finally:
        client.close()


def verification_anchor(
    settings: Any, ca_pem: bytes | None = None
) -> tuple[x509.Certificate, bytes | None]:
    """The CA to pin (``ca_pem``, else this workstation's) and its current CRL, when
    this workstation can vouch for that CA's list."""
    home = SigningHome(settings.signing_dir)
    given = x509.load_pem_x509_certificate(ca_pem) if ca_pem is not None else None
    if central_mode(settings):
        client = CentralAuthClient.from_settings(settings)
        client.timeout = min(client.timeout, VERIFY_TIMEOUT_SECONDS)
        try:
            central = CentralClinicCa(client, home)
            pinned = central.pinned()
            ca_cert = given or pinned
            if ca_cert is None:
                raise SigningSetupError(
                    "no clinic CA given and none from the central server yet (use --ca ca.pem)"
                )
            return ca_cert, central.crl(required=False) if ca_cert == pinned else None
        finally:
            client.close()
    site = home.ca() if home.ca_dir.joinpath("ca.pem").is_file() else None
    if given is None:
        if site is None:
            raise SigningSetupError("no clinic CA given and no site CA here (use --ca ca.pem)")
        given = site.cert
    return given, site.crl() if site is not None and site.cert == given else None
