"""The Flask app factory.

``prepare(settings)`` readies the database (migrations) and the signing key; the server
runs it once before starting workers.  ``create_app(settings)`` builds an app that uses
both; it never creates anything itself, so several worker processes can start at once.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, g, request
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from klinika_auth import db as database
from klinika_auth import denials
from klinika_auth.api import admin, audit_log, auth, ca, meta, reports
from klinika_auth.api.common import client_ip
from klinika_auth.errors import ApiError
from klinika_auth.keys import ensure_signing_key, load_keyset
from klinika_auth.passwords import Hasher
from klinika_auth.request_input import MAX_BODY_BYTES, IdConverter, check_query
from klinika_auth.services import EXTENSION, Services, close_db
from klinika_auth.settings import Settings
from klinika_auth.storage_full import is_storage_full, storage_full
from klinika_auth.tokens import TokenIssuer

logger = logging.getLogger(__name__)

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}


def prepare(settings: Settings) -> None:
    """Create the data dir, migrate the database and make the signing key if missing."""
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    engine = database.make_engine(settings.effective_database_url)
    try:
        database.migrate(engine)
    finally:
        engine.dispose()
    ensure_signing_key(settings.effective_signing_key_path)


def create_app(settings: Settings) -> Flask:
    app = Flask("klinika_auth", static_folder=None)
    # One byte over the cap, so that a too-large chunked body is seen as such (request_input).
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES + 1
    app.url_map.converters["id"] = IdConverter
    app.json.sort_keys = False  # type: ignore[attr-defined]
    engine = database.make_engine(settings.effective_database_url)
    keyset = load_keyset(
        settings.effective_signing_key_path,
        settings.retired_keys_dir,
        grace_seconds=settings.access_token_seconds + settings.clock_leeway_seconds,
    )
    app.extensions[EXTENSION] = Services(
        settings=settings,
        engine=engine,
        sessions=database.session_factory(engine),
        keyset=keyset,
        hasher=Hasher(
            settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism
        ),
        tokens=TokenIssuer(
            keyset=keyset,
            issuer=settings.issuer,
            audience=settings.audience,
            access_seconds=settings.access_token_seconds,
            leeway_seconds=settings.clock_leeway_seconds,
        ),
    )
    for bp in (meta.bp, auth.bp, admin.bp, audit_log.bp, reports.bp, ca.bp):
        app.register_blueprint(bp)
    app.teardown_appcontext(close_db)
    app.before_request(check_query)
    app.after_request(_security_headers)
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
    if settings.proxy_count:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.proxy_count, x_proto=settings.proxy_count
        )
    return app


def _security_headers(response: Any) -> Any:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _api_error(err: ApiError) -> Any:
    if err.status >= 500:
        logger.error("%s %s -> %d %s", request.method, request.path, err.status, err.code)
    elif err.status in (401, 403, 429) and not err.audited:
        _audit_refusal(err)
    return err.body(), err.status, err.headers


def _audit_refusal(err: ApiError) -> None:
    """A refusal nobody audited yet: ``access.denied`` (flood-guarded, see ``denials``)."""
    principal = g.get("principal")
    actor = principal.username if principal is not None else None
    endpoint = f"{request.method} {request.url_rule.rule if request.url_rule else '?'}"
    details: dict[str, Any] = {"status": err.status, "error": err.code, "endpoint": endpoint}
    if "permission" in err.extra:
        details["permission"] = err.extra["permission"]
    if err.status == 401:
        details["token"] = "bearer" if request.headers.get("Authorization") else "none"
    denials.record(
        "access.denied", actor=actor, ip=client_ip(), details=details,
        limit_key=(err.status, err.code),
    )  # fmt: skip


def _http_error(err: HTTPException) -> Any:
    codes = {
        404: ("not_found", "There is no such endpoint; see /openapi.json."),
        405: (
            "method_not_allowed",
            "This endpoint does not accept that method; see /openapi.json.",
        ),
        413: ("too_large", f"The body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB."),
        400: ("bad_request", "The request is malformed."),
    }
    code, message = codes.get(err.code or 500, ("http_error", err.description or "HTTP error"))
    headers = {}
    if err.code == 405 and err.valid_methods:  # type: ignore[attr-defined]
        headers["Allow"] = ", ".join(err.valid_methods)  # type: ignore[attr-defined]
    return {"error": code, "message": message}, err.code or 500, headers


def _unexpected(err: Exception) -> Any:
    if is_storage_full(err):
        return _api_error(storage_full())
    logger.error("unexpected error in %s %s", request.method, request.path, exc_info=err)
    return {
        "error": "internal_error",
        "message": "The server failed; the administrator can find details in its log.",
    }, 500
