"""Signing under the central service's clinic CA: enrolment, its CRL, its timestamps.

In central mode (``central.auth_url`` set) the doctor's key is still made and kept on
this workstation (the encrypted PKCS#12 of :class:`SigningHome`); only a certificate
request leaves it.  ``POST /ca/enroll`` gets a CSR whose CN is the user name, with the
session's access token and, for a user with two-factor sign-in, a fresh authenticator
code.  The CA certificate the central returns at the first enrolment is pinned in
``<signing>/central/ca.pem``; an answer naming another CA later is refused.  Before
signing, revocation is checked against the central's current ``GET /ca/crl`` (verified
against the pinned CA; a copy is kept so verification works offline), and the
timestamp comes from the central ``POST /tsa`` (RFC 3161, with the client's timeout).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from asn1crypto import tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError

from workstation.auth.central_client import CentralAuthClient
from workstation.auth.errors import CentralError, CentralUnavailable
from workstation.reports.errors import SigningRefused, SigningSetupError
from workstation.reports.keystore import SigningHome
from workstation.reports.signing import TrustAnchor
from workstation.reports.site_ca import PrivateKey, read_capped, write_private
from workstation.reports.tsa import read_reply

logger = logging.getLogger(__name__)

TSQ_MEDIA = "application/timestamp-query"
TSR_MEDIA = "application/timestamp-reply"
#: The central's CRL and certificates are small; anything larger is not theirs.
MAX_PEM_CHARS = 64 * 1024


def _why(exc: Exception) -> str:
    """What went wrong, without the sign-in advice :class:`CentralUnavailable` carries."""
    if isinstance(exc, CentralUnavailable):
        return f"{exc.url} cannot be reached: {exc.reason or 'no answer'}"
    return str(exc)


def _error(resp: Any) -> tuple[str, str]:
    try:
        data = resp.json()
    except ValueError:
        return "", ""
    if not isinstance(data, dict):
        return "", ""
    return str(data.get("error") or ""), str(data.get("message") or "")[:300]


class CentralTimeStamper(TimeStamper):
    """pyHanko's stamper over the central ``POST /tsa`` (bearer token, client timeout,
    capped answer); a refusal names its failInfo (see :func:`read_reply`)."""

    def __init__(self, client: CentralAuthClient, token: Callable[[], str | None]) -> None:
        super().__init__()
        self.client = client
        self._token = token

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        return await asyncio.to_thread(self._post, req.dump())

    def _post(self, query: bytes) -> tsp.TimeStampResp:
        try:
            resp = self.client.request(
                "POST", "/tsa", token=self._token(), data=query, content_type=TSQ_MEDIA
            )
        except (CentralUnavailable, CentralError) as exc:
            raise TimestampRequestError(f"the central timestamp service: {_why(exc)}") from exc
        if resp.status_code != 200:
            code, message = _error(resp)
            raise TimestampRequestError(
                f"the central timestamp service answered HTTP {resp.status_code} "
                f"{code} {message}".rstrip()
            )
        if resp.headers.get("Content-Type", "").split(";")[0].strip() != TSR_MEDIA:
            raise TimestampRequestError("the central timestamp service sent no timestamp reply")
        return read_reply(resp.content)


class CentralClinicCa:
    """The central clinic CA as this workstation sees it (pinned certificate, CRL)."""

    def __init__(self, client: CentralAuthClient, home: SigningHome) -> None:
        self.client = client
        self.home = home

    @property
    def folder(self) -> Path:
        return self.home.folder / "central"

    # -- the pinned CA -------------------------------------------------------------------
    def pinned(self) -> x509.Certificate | None:
        path = self.folder / "ca.pem"
        if not path.is_file():
            return None
        return x509.load_pem_x509_certificate(read_capped(path))

    def ca_cert(self) -> x509.Certificate:
        cert = self.pinned()
        if cert is None:
            raise SigningSetupError(
                "no clinic CA from the central server yet: run 'workstation signing enroll'"
            )
        return cert

    def _pin(self, ca: x509.Certificate) -> None:
        known = self.pinned()
        if known is not None and known != ca:
            raise SigningRefused(
                "the central server now names a different clinic CA than the one this "
                "workstation trusts: ask the administrator"
            )
        if known is None:
            write_private(self.folder / "ca.pem", ca.public_bytes(serialization.Encoding.PEM))

    # -- enrolment -----------------------------------------------------------------------
    def enroll(
        self,
        username: str,
        key: PrivateKey,
        access_token: str,
        ask_code: Callable[[], str | None],
    ) -> tuple[x509.Certificate, x509.Certificate]:
        """Have the central CA certify ``key`` for ``username``: (certificate, CA)."""
        csr = (
            x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, username)]))
            .sign(key, hashes.SHA256())
            .public_bytes(serialization.Encoding.PEM)
            .decode("ascii")
        )
        body: dict[str, str] = {"csr": csr}
        resp = self._post_enroll(body, access_token)
        if resp.status_code == 403 and _error(resp)[0] == "mfa_required":
            code = (ask_code() or "").strip()
            if not code:
                raise SigningSetupError(
                    "the central server asks for a current authenticator code to enrol"
                )
            resp = self._post_enroll({**body, "totp": code}, access_token)
        if resp.status_code != 201:
            raise self._refusal(resp)
        try:
            data = resp.json()
            cert = x509.load_pem_x509_certificate(data["certificate"][:MAX_PEM_CHARS].encode())
            ca = x509.load_pem_x509_certificate(data["ca_certificate"][:MAX_PEM_CHARS].encode())
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise SigningSetupError("the central server's certificate answer is malformed") from exc
        try:
            cert.verify_directly_issued_by(ca)
        except (ValueError, TypeError) as exc:
            raise SigningRefused("the certificate was not issued by the CA sent with it") from exc
        if cert.public_key() != key.public_key():
            raise SigningRefused("the central server certified another key than ours")
        self._pin(ca)
        return cert, ca

    def _post_enroll(self, body: dict[str, str], token: str) -> Any:
        try:
            return self.client.request("POST", "/ca/enroll", token=token, json=body)
        except CentralUnavailable as exc:
            hint = (
                " (is its clinic CA set up? 'central-auth ca init')"
                if exc.reason == "HTTP 503"
                else ""
            )
            raise SigningSetupError(
                f"no certificate from the central server: {_why(exc)}{hint}"
            ) from exc

    @staticmethod
    def _refusal(resp: Any) -> Exception:
        from workstation.auth.errors import PermissionDenied

        code, message = _error(resp)
        if code == "forbidden":
            return PermissionDenied("reports.sign", "-", "get a signing certificate")
        if code == "invalid_totp":
            return SigningRefused(
                "the authenticator code is wrong or was used already (wait for the next one)"
            )
        return SigningSetupError(
            f"the central server refused the enrolment (HTTP {resp.status_code} {code}: {message})"
        )

    # -- revocation ----------------------------------------------------------------------
    def crl(self, *, required: bool) -> bytes | None:
        """The central's current CRL, checked against the pinned CA and kept; when the
        central cannot be reached the kept copy (None without one) - unless
        ``required``: then signing is refused."""
        ca = self.ca_cert()
        path = self.folder / "crl.der"
        try:
            resp = self.client.request("GET", "/ca/crl")
            if resp.status_code != 200:
                raise CentralError(resp.status_code, "no CRL")
            crl = x509.load_der_x509_crl(resp.content)
            if not crl.is_signature_valid(ca.public_key()):  # type: ignore[arg-type]
                raise SigningRefused("the central's revocation list is not signed by its CA")
        except (CentralUnavailable, CentralError, ValueError) as exc:
            if required:
                raise SigningRefused(
                    f"the certificate's revocation cannot be checked: the central server's "
                    f"revocation list is not available ({_why(exc)})"
                ) from exc
            logger.warning("central CRL not available (%s): the kept copy is used", _why(exc))
            return read_capped(path) if path.is_file() else None
        write_private(path, resp.content)
        return bytes(resp.content)

    def anchor(self) -> TrustAnchor:
        """The pinned CA with the central's current CRL (for signing: fetched now)."""
        crl = self.crl(required=True)
        assert crl is not None
        return TrustAnchor(self.ca_cert(), crl)

    def timestamper(self, token: Callable[[], str | None]) -> CentralTimeStamper:
        return CentralTimeStamper(self.client, token)


def central_mode(settings: Any) -> bool:
    return bool(settings.central.auth_url)
