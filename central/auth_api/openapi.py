"""The OpenAPI 3.1 document of the API, and request-body validation against it.

The document is the contract: request bodies are checked against its schemas when a view
reads them (``check_body``, after the permission check), a test compares its paths with
Flask's URL map and each operation's ``x-permission`` with the ``require`` decorator, and
the API tests validate every response they get against it.
"""

from __future__ import annotations

import copy
import functools
import re
from typing import Any

from flask import request
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from klinika_auth.errors import ApiError

VERSION = "0.1.0"

# -- schema pieces ----------------------------------------------------------------------

STR = {"type": "string"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
TS = {"type": "string", "format": "date-time"}
NTS = {"type": ["string", "null"], "format": "date-time"}
NSTR = {"type": ["string", "null"]}
UID = {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)*$", "maxLength": 64}
NUID = {"type": ["string", "null"], "pattern": r"^[0-9]+(\.[0-9]+)*$", "maxLength": 64}
SHA256 = {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"}
NSHA256 = {"type": ["string", "null"], "pattern": "^[0-9a-f]{64}$"}
PASSWORD = {"type": "string", "minLength": 1, "maxLength": 1024}
USERNAME = {
    "type": "string",
    "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$",
    "description": "3-64 letters, digits, '.', '_' or '-'; stored in lower case",
}
TOTP = {"type": "string", "pattern": "^[0-9]{6}$"}
ROLE = {"type": "string", "minLength": 1, "maxLength": 32}
BIN = {"type": "string", "contentEncoding": "binary"}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(required: dict[str, Any], optional: dict[str, Any] | None = None, **extra: Any) -> dict:
    return {
        "type": "object",
        "properties": {**required, **(optional or {})},
        "required": list(required),
        "additionalProperties": False,
        **extra,
    }


def array(items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "array", "items": items, **extra}


USER_FIELDS = {
    "id": INT,
    "username": STR,
    "role": STR,
    "disabled": BOOL,
    "mfa_enabled": BOOL,
    "created_at": TS,
    "updated_at": TS,
    "last_login_at": NTS,
}
NINT = {"type": ["integer", "null"]}
#: Most documents one ``POST /reports/documents/batch`` takes (a workstation's outbox sends
#: at most its STOW batch, 50).
MAX_REPORT_BATCH = 100
REPORT_STATUS = {"enum": ["draft", "preliminary", "final", "amended"]}
REVISION = obj(
    {
        "status": STR,
        "sop_instance_uid": NUID,
        "pdf_sha256": NSHA256,
        "version": NINT,
        "signer_fingerprint": NSHA256,
        "predecessor_sop_instance_uid": NUID,
        "changed_by": STR,
        "changed_at": TS,
        "note": STR,
    }
)

REVOCATION_REASONS = (
    "unspecified",
    "key_compromise",
    "affiliation_changed",
    "superseded",
    "cessation_of_operation",
)
CERTIFICATE_FIELDS = {
    "serial": {"type": "string", "pattern": "^[0-9a-f]+$"},
    "username": STR,
    "subject": STR,
    "fingerprint_sha256": NSHA256,
    "not_before": TS,
    "not_after": TS,
    "issued_at": TS,
    "revoked_at": NTS,
    "revocation_reason": NSTR,
    "certificate": {**STR, "description": "PEM"},
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {**STR, "description": "stable machine code, e.g. invalid_credentials"},
            "message": {**STR, "description": "what went wrong and what to do, in English"},
            "problems": array(STR),
            "retry_after": INT,
            "permission": STR,
            "enrollment_token": STR,
            "holder": {**STR, "description": "final_held: who holds the study's final report"},
            "report_id": INT,
        },
    },
    "Health": obj({"status": {"const": "ok"}}),
    "Jwks": obj(
        {
            "keys": array(
                obj(
                    {
                        "kty": {"const": "RSA"},
                        "n": STR,
                        "e": STR,
                        "kid": STR,
                        "use": {"const": "sig"},
                        "alg": {"const": "RS256"},
                    }
                ),
                minItems=1,
            )
        }
    ),
    "OpenApi": {"type": "object", "required": ["openapi", "paths"]},
    "LoginRequest": obj(
        {"username": {"type": "string", "minLength": 1, "maxLength": 64}, "password": PASSWORD},
        {"totp": TOTP},
    ),
    "RefreshRequest": obj({"refresh_token": {"type": "string", "minLength": 1, "maxLength": 256}}),
    "LogoutRequest": obj({}, {"refresh_token": {"type": "string", "maxLength": 256}}),
    "User": obj(USER_FIELDS),
    "UserList": obj({"users": array(ref("User"))}),
    "Me": obj(
        {**USER_FIELDS, "permissions": array(STR), "session_id": STR, "token_expires_at": INT}
    ),
    "TokenResponse": obj(
        {
            "access_token": STR,
            "refresh_token": STR,
            "token_type": {"const": "Bearer"},
            "expires_in": INT,
            "refresh_expires_in": INT,
            "role": STR,
            "permissions": array(STR),
            "user": ref("User"),
        }
    ),
    "PasswordChange": obj({"current_password": PASSWORD, "new_password": PASSWORD}),
    "PasswordReset": obj({"new_password": PASSWORD}),
    "UserCreate": obj({"username": USERNAME, "password": PASSWORD, "role": ROLE}),
    "UserPatch": obj({}, {"role": ROLE, "disabled": BOOL}, minProperties=1),
    "RoleList": obj(
        {"roles": array(obj({"name": STR, "description": STR, "permissions": array(STR)}))}
    ),
    "MfaSetupRequest": obj({"password": PASSWORD}),
    "MfaSetup": obj({"secret": STR, "otpauth_uri": STR}),
    "MfaConfirm": obj({"totp": TOTP}),
    "MfaStatus": obj({"mfa_enabled": BOOL}),
    "AuditEventIn": obj(
        {
            "client_event_id": {
                "type": "string",
                "pattern": "^[A-Za-z0-9._:-]{1,80}$",
                "description": "unique per event (e.g. a UUID); resending it is harmless",
            },
            "occurred_at": {**TS, "description": "when it happened, with a time zone"},
            "action": {"type": "string", "pattern": "^[a-z][a-z0-9_.-]{0,63}$"},
        },
        {
            "outcome": {"enum": ["success", "failure", "denied"]},
            "actor": {"type": "string", "maxLength": 64},
            "workstation": {"type": "string", "maxLength": 128},
            "study_instance_uid": UID,
            "details": {"type": "object"},
        },
    ),
    "AuditBatch": obj({"events": array(ref("AuditEventIn"), minItems=1)}),
    "AuditBatchResult": obj(
        {
            "recorded": INT,
            "duplicates": INT,
            "results": array(
                obj(
                    {
                        "client_event_id": STR,
                        "status": {"enum": ["recorded", "duplicate"]},
                        "seq": INT,
                    }
                )
            ),
        }
    ),
    "AuditEvent": obj(
        {
            "seq": INT,
            "client_event_id": NSTR,
            "recorded_at": TS,
            "occurred_at": TS,
            "actor": NSTR,
            "submitted_by": NSTR,
            "action": STR,
            "outcome": STR,
            "source_ip": NSTR,
            "workstation": NSTR,
            "study_instance_uid": NSTR,
            "details": {"type": "object"},
            "prev_hash": STR,
            "hash": STR,
        }
    ),
    "AuditEventList": obj(
        {"events": array(ref("AuditEvent")), "next_after_seq": {"type": ["integer", "null"]}}
    ),
    "AuditVerify": obj(
        {
            "ok": BOOL,
            "events": INT,
            "head_seq": INT,
            "head_hash": STR,
            "first_bad_seq": {"type": ["integer", "null"]},
            "problem": NSTR,
        }
    ),
    "ReportCreate": obj(
        {"study_instance_uid": UID}, {"title": {"type": "string", "maxLength": 200}}
    ),
    "ReportPatch": obj({"title": {"type": "string", "maxLength": 200}}),
    "ReportFinalize": obj(
        {"sop_instance_uid": UID, "pdf_sha256": SHA256},
        {"note": {"type": "string", "maxLength": 500}},
    ),
    "ReportAmend": obj(
        {
            "sop_instance_uid": UID,
            "pdf_sha256": SHA256,
            "reason": {"type": "string", "minLength": 1, "maxLength": 500},
        }
    ),
    "Report": obj(
        {
            "id": INT,
            "study_instance_uid": UID,
            "author": STR,
            "status": REPORT_STATUS,
            "title": STR,
            "sop_instance_uid": NUID,
            "pdf_sha256": NSHA256,
            "version": NINT,
            "signer_fingerprint": NSHA256,
            "predecessor_sop_instance_uid": NUID,
            "created_at": TS,
            "updated_at": TS,
            "revisions": array(REVISION),
        }
    ),
    "ReportList": obj({"reports": array(ref("Report"))}),
    "ReportDocument": obj(
        {
            "study_instance_uid": UID,
            "sop_instance_uid": UID,
            "pdf_sha256": SHA256,
            "version": {"type": "integer", "minimum": 1, "maximum": 100000},
            "status": REPORT_STATUS,
            "signer_fingerprint": SHA256,
        },
        {
            "predecessor_sop_instance_uid": UID,
            "title": {"type": "string", "maxLength": 200},
            "note": {"type": "string", "maxLength": 500},
        },
    ),
    "ReportDocumentBatch": obj(
        {"documents": array(ref("ReportDocument"), minItems=1, maxItems=MAX_REPORT_BATCH)}
    ),
    "ReportDocumentResults": obj(
        {
            "results": array(
                {
                    "type": "object",
                    "description": "per document, in the order sent: status 201 new, 200 "
                    "already recorded (with report_id), or an error's status, error and "
                    "message (that document was not recorded; the others were)",
                    "properties": {
                        "status": INT,
                        "report_id": INT,
                        "sop_instance_uid": UID,
                        "error": STR,
                        "message": STR,
                    },
                    "required": ["status"],
                }
            )
        }
    ),
    "EnrollRequest": obj(
        {
            "csr": {
                "type": "string",
                "minLength": 1,
                "maxLength": 16384,
                "description": "PEM PKCS#10 request; subject CN = your user name (O optional)",
            }
        },
        {"totp": TOTP},
    ),
    "RevokeRequest": obj(
        {"serial": {"type": "string", "pattern": "^[0-9a-fA-F]{1,48}$"}},
        {"reason": {"enum": list(REVOCATION_REASONS)}},
    ),
    "IssuedCertificate": obj(CERTIFICATE_FIELDS),
    "EnrolledCertificate": obj({**CERTIFICATE_FIELDS, "ca_certificate": STR}),
}

# -- operations -------------------------------------------------------------------------

ERROR_TEXT = {
    400: "the request is malformed or breaks a rule (see message)",
    401: "no valid access token (or wrong credentials)",
    403: "signed in, but not allowed",
    404: "no such object",
    409: "conflicts with the current state",
    413: "too large",
    429: "too many attempts; wait retry_after seconds",
    503: "the clinic CA is not set up (central-auth ca init, ca_key_passphrase)",
    507: "the server's disk is full: nothing was saved; send it again after Retry-After",
}


def _json(schema: dict[str, Any], text: str) -> dict[str, Any]:
    return {"description": text, "content": {"application/json": {"schema": schema}}}


def op(
    summary: str,
    tag: str,
    ok: tuple[int, str | None],
    *,
    permission: str | None = None,
    auth: bool = True,
    body: str | None = None,
    body_required: bool = True,
    errors: tuple[int, ...] = (),
    params: list[dict[str, Any]] | None = None,
    bearer_optional: bool = False,
    media: str | None = None,
    body_media: str | None = None,
) -> dict[str, Any]:
    status, schema = ok
    responses: dict[str, Any] = {
        str(status): _json(ref(schema), "success") if schema else {"description": "success"}
    }
    if media:  # a binary answer (DER): ``ok`` names no schema
        responses[str(status)] = {"description": "success", "content": {media: {"schema": BIN}}}
    codes = set(errors)
    if auth:
        codes |= {401, 403}
    if body or body_media or params:
        codes |= {400}
    if body or body_media:
        codes |= {413, 507}
    for code in sorted(codes):
        responses[str(code)] = _json(ref("Error"), ERROR_TEXT[code])
    operation: dict[str, Any] = {
        "summary": summary,
        "tags": [tag],
        "responses": responses,
        "security": [{"bearer": []}] if auth else ([{"bearer": []}, {}] if bearer_optional else []),
    }
    if auth:
        operation["x-permission"] = permission
    if body:
        operation["requestBody"] = {
            "required": body_required,
            "content": {"application/json": {"schema": ref(body)}},
        }
    if body_media:
        operation["requestBody"] = {"required": True, "content": {body_media: {"schema": BIN}}}
    if params:
        operation["parameters"] = params
    return operation


def query(name: str, schema: dict[str, Any], text: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": text}


def path_id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": INT}


USER_ID = [path_id("user_id")]
REPORT_ID = [path_id("report_id")]

PATHS: dict[str, dict[str, Any]] = {
    "/health": {"get": op("Liveness and database check", "meta", (200, "Health"), auth=False)},
    "/.well-known/jwks.json": {
        "get": op("Public signing keys (JWKS)", "meta", (200, "Jwks"), auth=False)
    },
    "/openapi.json": {"get": op("This document", "meta", (200, "OpenApi"), auth=False)},
    "/auth/login": {
        "post": op(
            "Sign in with user name, password and (when enrolled) a TOTP code",
            "auth",
            (200, "TokenResponse"),
            auth=False,
            body="LoginRequest",
            errors=(401, 403, 429),
        )
    },
    "/auth/refresh": {
        "post": op(
            "Exchange a refresh token for new tokens (the old one is spent)",
            "auth",
            (200, "TokenResponse"),
            auth=False,
            body="RefreshRequest",
            errors=(401,),
        )
    },
    "/auth/logout": {
        "post": op(
            "Sign out: revoke the session of the bearer token and/or refresh token",
            "auth",
            (204, None),
            auth=False,
            bearer_optional=True,
            body="LogoutRequest",
            body_required=False,
            errors=(401,),
        )
    },
    "/auth/me": {"get": op("Who am I", "auth", (200, "Me"))},
    "/auth/password": {
        "post": op(
            "Change my password (other sessions are signed out); a wrong current password "
            "counts toward the sign-in lockout",
            "auth",
            (204, None),
            body="PasswordChange",
            errors=(429,),
        )
    },
    "/auth/mfa/setup": {
        "post": op(
            "Start TOTP enrolment: a new secret (access or enrolment token, and the password; "
            "a wrong one counts toward the sign-in lockout)",
            "auth",
            (200, "MfaSetup"),
            body="MfaSetupRequest",
            errors=(409, 429),
        )
    },
    "/auth/mfa/confirm": {
        "post": op(
            "Finish TOTP enrolment with a current code",
            "auth",
            (200, "MfaStatus"),
            body="MfaConfirm",
            errors=(409,),
        )
    },
    "/admin/roles": {
        "get": op(
            "Roles and their permissions", "admin", (200, "RoleList"), permission="users.manage"
        )
    },
    "/admin/users": {
        "get": op("List users", "admin", (200, "UserList"), permission="users.manage"),
        "post": op(
            "Create a user",
            "admin",
            (201, "User"),
            permission="users.manage",
            body="UserCreate",
            errors=(409,),
        ),
    },
    "/admin/users/{user_id}": {
        "get": op(
            "One user",
            "admin",
            (200, "User"),
            permission="users.manage",
            errors=(404,),
            params=USER_ID,
        ),
        "patch": op(
            "Change role or disable/enable (the user's sessions are revoked)",
            "admin",
            (200, "User"),
            permission="users.manage",
            body="UserPatch",
            errors=(404, 409),
            params=USER_ID,
        ),
        "delete": op(
            "Delete a user (refused when they authored reports: disable instead)",
            "admin",
            (204, None),
            permission="users.manage",
            errors=(404, 409),
            params=USER_ID,
        ),
    },
    "/admin/users/{user_id}/password": {
        "post": op(
            "Set a new password (the user's sessions are revoked)",
            "admin",
            (204, None),
            permission="users.manage",
            body="PasswordReset",
            errors=(404,),
            params=USER_ID,
        )
    },
    "/admin/users/{user_id}/mfa-reset": {
        "post": op(
            "Turn off the user's TOTP so they can enrol again",
            "admin",
            (200, "User"),
            permission="users.manage",
            errors=(404,),
            params=USER_ID,
        )
    },
    "/admin/users/{user_id}/unlock": {
        "post": op(
            "Lift the sign-in locks of the user's name (from every address)",
            "admin",
            (200, "User"),
            permission="users.manage",
            errors=(404,),
            params=USER_ID,
        )
    },
    "/audit/events": {
        "post": op(
            "Submit audit events (idempotent by client_event_id); recorded with the token's "
            "user as actor and the server's time, the claimed ones kept in details",
            "audit",
            (200, "AuditBatchResult"),
            permission="audit.write",
            body="AuditBatch",
        ),
        "get": op(
            "Query the audit log (oldest first, paged by after_seq)",
            "audit",
            (200, "AuditEventList"),
            permission="audit.read",
            errors=(400,),
            params=[
                query("actor", STR, "user name"),
                query("action", STR, "e.g. auth.login"),
                query("outcome", STR, "success, failure or denied"),
                query("workstation", STR, "workstation id"),
                query("study", STR, "Study Instance UID"),
                query("since", TS, "occurred at or after"),
                query("until", TS, "occurred before"),
                query(
                    "after_seq",
                    {"type": "integer", "minimum": 0},
                    "page: events after this sequence number",
                ),
                query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}, "page size"),
            ],
        ),
    },
    "/audit/verify": {
        "get": op(
            "Recompute the hash chain; report the first damaged event",
            "audit",
            (200, "AuditVerify"),
            permission="audit.read",
        )
    },
    "/reports": {
        "post": op(
            "Create a draft report for a study",
            "reports",
            (201, "Report"),
            permission="reports.write",
            body="ReportCreate",
        ),
        "get": op(
            "List reports",
            "reports",
            (200, "ReportList"),
            permission="reports.read",
            params=[
                query("study", STR, "Study Instance UID"),
                query("status", STR, "draft, final or amended"),
            ],
        ),
    },
    "/reports/{report_id}": {
        "get": op(
            "One report with its revisions",
            "reports",
            (200, "Report"),
            permission="reports.read",
            errors=(404,),
            params=REPORT_ID,
        ),
        "patch": op(
            "Edit a draft (author only)",
            "reports",
            (200, "Report"),
            permission="reports.write",
            body="ReportPatch",
            errors=(404, 409),
            params=REPORT_ID,
        ),
    },
    "/reports/{report_id}/finalize": {
        "post": op(
            "Sign: record the signed PDF's SOP Instance UID and SHA-256 (author only)",
            "reports",
            (200, "Report"),
            permission="reports.sign",
            body="ReportFinalize",
            errors=(404, 409),
            params=REPORT_ID,
        )
    },
    "/reports/documents": {
        "post": op(
            "Publish a signed version from a workstation's outbox (idempotent by SOP "
            "Instance UID: 201 new, 200 already recorded); 409 final_held names the doctor "
            "who holds the study's final report, 403 when amending another's report",
            "reports",
            (201, "Report"),
            permission="reports.sign",
            body="ReportDocument",
            errors=(409,),
        )
    },
    "/reports/documents/batch": {
        "post": op(
            "Publish several signed versions at once (an outbox's batch): one transaction, "
            "in the order sent, each document recorded or refused on its own (the same "
            "rules and idempotence as POST /reports/documents) with a per-document result",
            "reports",
            (200, "ReportDocumentResults"),
            permission="reports.sign",
            body="ReportDocumentBatch",
        )
    },
    "/reports/{report_id}/amend": {
        "post": op(
            "Amend a signed report with a newly signed PDF (its author or an admin)",
            "reports",
            (200, "Report"),
            permission="reports.sign",
            body="ReportAmend",
            errors=(404, 409),
            params=REPORT_ID,
        )
    },
    "/ca/enroll": {
        "post": op(
            "Get a signing certificate from the clinic CA for a CSR whose subject is your "
            "user name (keyUsage digitalSignature + nonRepudiation, at most two years); "
            "with TOTP enrolled, a current code too (wrong codes count toward the sign-in "
            "lockout)",
            "ca",
            (201, "EnrolledCertificate"),
            permission="reports.sign",
            body="EnrollRequest",
            errors=(429, 503),
        )
    },
    "/ca/crl": {
        "get": op(
            "The clinic CA's current CRL (DER)",
            "ca",
            (200, None),
            auth=False,
            media="application/pkix-crl",
            errors=(503,),
        )
    },
    "/admin/ca/revoke": {
        "post": op(
            "Revoke a certificate the clinic CA issued (it is listed in the CRL at once)",
            "ca",
            (200, "IssuedCertificate"),
            permission="users.manage",
            body="RevokeRequest",
            errors=(404, 409),
        )
    },
    "/tsa": {
        "post": op(
            "RFC 3161 timestamp: a DER TimeStampReq in, a DER TimeStampResp out "
            "(a rejection is a 200 with its PKIStatus)",
            "ca",
            (200, None),
            media="application/timestamp-reply",
            body_media="application/timestamp-query",
            errors=(503,),
        )
    },
}
# A repeat of the same document (the outbox retried after a lost answer) changes nothing.
PATHS["/reports/documents"]["post"]["responses"]["200"] = _json(
    ref("Report"), "already recorded: a repeat changes nothing"
)


@functools.cache
def _document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Klinika central auth API",
            "version": VERSION,
            "description": (
                "Users, roles and permissions, RS256 JWT sign-in with rotating refresh "
                "tokens and JWKS, TOTP MFA, a hash-chained audit log, the report registry, "
                "the clinic CA and an RFC 3161 timestamp authority. "
                "Errors are JSON {error, message}; 'error' is a stable code."
            ),
        },
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }


def document() -> dict[str, Any]:
    return copy.deepcopy(_document())


def flask_rule_to_path(rule: str) -> str:
    """``/admin/users/<int:user_id>`` → ``/admin/users/{user_id}``."""
    return re.sub(r"<(?:[a-z_]+:)?([A-Za-z_][A-Za-z0-9_]*)>", r"{\1}", rule)


@functools.cache
def schema_validator(name: str) -> Draft202012Validator:
    """A validator for ``#/components/schemas/<name>`` (refs resolve inside the document)."""
    root = {"$ref": f"#/components/schemas/{name}", "components": _document()["components"]}
    return Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _field(error: ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "body"


def describe(error: ValidationError) -> str:
    """Say what is wrong without echoing the value sent (it may be a password)."""
    where, rule, value = _field(error), error.validator, error.validator_value
    texts = {
        "required": lambda: f"Field {error.message.split(' is ')[0]} is required.",
        "additionalProperties": lambda: (
            f"Unexpected field in {where}; allowed: "
            f"{', '.join(sorted(error.schema.get('properties', {}))) or 'none'}."  # type: ignore[union-attr]
        ),
        "type": lambda: f"Field '{where}' must be of type {value}.",
        "pattern": lambda: f"Field '{where}' has an invalid format.",
        "minLength": lambda: f"Field '{where}' must have at least {value} characters.",
        "maxLength": lambda: f"Field '{where}' must have at most {value} characters.",
        "enum": lambda: f"Field '{where}' must be one of: {', '.join(map(str, value))}.",
        "minItems": lambda: f"Field '{where}' must have at least {value} items.",
        "minProperties": lambda: f"Send at least {value} field(s) in {where}.",
        "format": lambda: f"Field '{where}' must be a {value} (e.g. 2026-01-31T08:00:00Z).",
    }
    text = texts.get(str(rule))
    return text() if text else f"Field '{where}' is invalid ({rule})."


def check_body(data: Any) -> None:
    """Check a request body against the schema of the operation being served."""
    rule = request.url_rule
    operation = (
        PATHS.get(flask_rule_to_path(rule.rule), {}).get(request.method.lower()) if rule else None
    )
    spec = (operation or {}).get("requestBody")
    if spec is None:
        raise LookupError(f"{request.method} {request.path} documents no request body")
    name = spec["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    error = best_match(schema_validator(name).iter_errors(data))
    if error is not None:
        raise ApiError(400, "invalid_body", describe(error))
