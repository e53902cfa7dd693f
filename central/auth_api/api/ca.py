"""The clinic CA and timestamp authority over HTTP.

- ``POST /ca/enroll`` (``reports.sign``: doctors and admins): a CSR whose subject is the
  caller's user name gets a signing certificate (keyUsage digitalSignature +
  nonRepudiation, at most ``ca_cert_days`` ≤ two years); a user with TOTP sends a current
  code too (never one used before).  Audited ``ca.certificate_issued``.
- ``GET /ca/crl`` (public): the CRL, DER, built from the database on request.
- ``POST /admin/ca/revoke`` (``users.manage``): revoke by serial.  Audited.
- ``POST /tsa`` (signed in): RFC 3161, ``application/timestamp-query`` in,
  ``application/timestamp-reply`` out.

Without ``ca_key_passphrase`` or before ``central-auth ca init`` these answer
``503 ca_not_configured``.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from flask import Blueprint, Response, request
from sqlalchemy import select

from klinika_auth import mfa, throttle
from klinika_auth.api.common import audit_by_caller, body, client_ip, when
from klinika_auth.clinic_ca import CaError, ClinicCa
from klinika_auth.errors import ApiError
from klinika_auth.models import IssuedCertificate, User, utcnow
from klinika_auth.rbac import current, require
from klinika_auth.request_input import raw_body
from klinika_auth.services import db, services
from klinika_auth.timestamps import respond

logger = logging.getLogger(__name__)

bp = Blueprint("ca", __name__)

MAX_TSA_QUERY_BYTES = 16 * 1024
CRL_MEDIA = "application/pkix-crl"
TSQ_MEDIA = "application/timestamp-query"
TSR_MEDIA = "application/timestamp-reply"

_loaded: dict[tuple[str, float], ClinicCa] = {}
_lock = threading.Lock()


def clinic_ca() -> ClinicCa:
    """The CA of this instance (loaded once per process and CA file version)."""
    settings = services().settings
    folder: Path = settings.effective_ca_dir
    try:
        stamp = (folder / "ca.pem").stat().st_mtime if settings.ca_key_passphrase else 0.0
        key = (str(folder), stamp)
        with _lock:
            if key not in _loaded:
                _loaded.clear()
                _loaded[key] = ClinicCa.load(folder, settings.ca_key_passphrase)
            return _loaded[key]
    except (OSError, CaError) as exc:
        logger.warning("clinic CA unavailable: %s", exc)
        raise ApiError(
            503,
            "ca_not_configured",
            "The clinic CA is not set up on this server; the administrator runs "
            "'central-auth ca init' with ca_key_passphrase set.",
        ) from None


def certificate_json(row: IssuedCertificate) -> dict[str, Any]:
    return {
        "serial": row.serial,
        "username": row.user.username,
        "subject": row.subject,
        "fingerprint_sha256": row.fingerprint_sha256,
        "not_before": when(row.not_before),
        "not_after": when(row.not_after),
        "issued_at": when(row.issued_at),
        "revoked_at": when(row.revoked_at),
        "revocation_reason": row.revocation_reason,
        "certificate": row.certificate_pem,
    }


def _check_second_factor(code: str | None) -> None:
    """A current TOTP code when the user has MFA, throttled like a sign-in (per name and
    address): a stolen access token cannot be used to guess codes."""
    user, session, settings = current().user, db(), services().settings
    if not user.totp_enabled:
        return
    if not code:
        raise ApiError(
            403, "mfa_required", "Send a current authenticator code (totp) to get a certificate."
        )
    key, source = throttle.throttle_key(user.username), throttle.source_key(client_ip())
    session.commit()
    attempt = throttle.charge(session, settings, key, source)  # 429 while locked (audited)
    locked = session.get(User, user.id, with_for_update={"of": User}, populate_existing=True)
    if locked is None or not mfa.check_code(locked, code):
        session.rollback()
        throttle.record_failure(
            session,
            settings,
            key,
            source,
            attempt=attempt,
            action="ca.enroll",
            outcome="denied",
            actor=user.username,
            source_ip=client_ip(),
            reason="bad_totp",
        )
        err = ApiError(403, "invalid_totp", "The authenticator code is wrong or was already used.")
        err.audited = True
        raise err
    throttle.reset(session, key, source)
    session.commit()  # the step is spent: the code is never accepted again


@bp.post("/ca/enroll")
@require("reports.sign")
def enroll() -> Any:
    data, session = body(), db()
    _check_second_factor(data.get("totp"))
    ca = clinic_ca()
    settings = services().settings
    try:
        csr = x509.load_pem_x509_csr(data["csr"].encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise ApiError(400, "invalid_csr", "The csr is not a PEM certificate request.") from None
    crl_url = f"{settings.public_url.rstrip('/')}/ca/crl" if settings.public_url else ""
    try:
        cert = ca.issue_signing_cert(
            csr, current().username, settings.ca_cert_days, crl_url=crl_url
        )
    except CaError as exc:
        audit_by_caller(session, "ca.enroll", {"reason": str(exc)}, outcome="failure")
        session.commit()
        raise ApiError(400, "invalid_csr", f"Refused: {exc}.") from None
    row = IssuedCertificate(
        serial=format(cert.serial_number, "x"),
        user=current().user,
        subject=cert.subject.rfc4514_string()[:256],
        fingerprint_sha256=cert.fingerprint(hashes.SHA256()).hex(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        certificate_pem=cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        issued_at=utcnow(),
    )
    session.add(row)
    session.flush()
    audit_by_caller(
        session,
        "ca.certificate_issued",
        {
            "serial": row.serial,
            "fingerprint_sha256": row.fingerprint_sha256,
            "not_after": when(row.not_after),
            "mfa": current().user.totp_enabled,
        },
    )
    session.commit()
    return {**certificate_json(row), "ca_certificate": ca.pem().decode("ascii")}, 201


@bp.get("/ca/crl")
def crl() -> Any:
    ca = clinic_ca()
    rows = db().scalars(select(IssuedCertificate).where(IssuedCertificate.revoked_at.is_not(None)))
    revoked: list[tuple[int, dt.datetime]] = [
        (int(r.serial, 16), r.revoked_at) for r in rows if r.revoked_at is not None
    ]
    der = ca.crl(revoked, services().settings.ca_crl_days)
    response = Response(der, mimetype=CRL_MEDIA)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.post("/admin/ca/revoke")
@require("users.manage")
def revoke() -> Any:
    data, session = body(), db()
    serial = data["serial"].lower().lstrip("0") or "0"
    row = session.scalar(
        select(IssuedCertificate)
        .where(IssuedCertificate.serial == serial)
        .with_for_update(of=IssuedCertificate)
    )
    if row is None:
        raise ApiError(404, "not_found", "No certificate with that serial was issued here.")
    if row.revoked_at is not None:
        raise ApiError(409, "already_revoked", "That certificate is revoked already.")
    row.revoked_at = utcnow().replace(microsecond=0)
    row.revoked_by = current().username
    row.revocation_reason = data.get("reason", "unspecified")
    audit_by_caller(
        session,
        "ca.certificate_revoked",
        {
            "serial": row.serial,
            "username": row.user.username,
            "reason": row.revocation_reason,
        },
    )
    session.commit()
    return certificate_json(row)


@bp.post("/tsa")
@require()
def timestamp() -> Any:
    if request.mimetype != TSQ_MEDIA:
        raise ApiError(400, "bad_request", f"Send an RFC 3161 request as {TSQ_MEDIA}.")
    if (request.content_length or 0) > MAX_TSA_QUERY_BYTES:
        raise ApiError(413, "too_large", "A timestamp request is at most 16 KiB.")
    query = raw_body()
    if len(query) > MAX_TSA_QUERY_BYTES:
        raise ApiError(413, "too_large", "A timestamp request is at most 16 KiB.")
    reply, status = respond(clinic_ca(), query)
    logger.debug("timestamp for %s: %s", current().username, status)
    return Response(reply, mimetype=TSR_MEDIA)
