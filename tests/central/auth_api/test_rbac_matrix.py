"""The full role × endpoint matrix, allowed and denied, on SQLite and PostgreSQL.

The expectations are written here from the seed RBAC (system-architecture.md), not read
from the implementation: admin has every permission; doctor views studies, measures,
writes and signs reports; operator uploads, sends, imports and views, no reports.
Requests carry bodies that fail validation and ids that do not exist, so an allowed call
answers 400/404 (or 200 for reads) without changing anything, while a denied one is 403.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.network

SEED_RBAC = {
    "admin": {
        "users.manage", "audit.read", "audit.write", "settings.manage", "studies.read",
        "studies.upload", "studies.send", "studies.delete", "import", "reports.read",
        "reports.write", "reports.sign", "measurements.write",
    },
    "doctor": {
        "studies.read", "reports.read", "reports.write", "reports.sign",
        "measurements.write", "audit.write",
    },
    "operator": {
        "studies.read", "studies.upload", "studies.send", "import", "reports.read",
        "audit.write",
    },
}  # fmt: skip

PUBLIC = "public"
SIGNED_IN = "signed-in"
MISSING = 987654321

# (method, path, required permission | SIGNED_IN | PUBLIC, json body or None)
ENDPOINTS = [
    ("GET", "/health", PUBLIC, None),
    ("GET", "/.well-known/jwks.json", PUBLIC, None),
    ("GET", "/openapi.json", PUBLIC, None),
    ("POST", "/auth/login", PUBLIC, {}),
    ("POST", "/auth/refresh", PUBLIC, {}),
    ("GET", "/auth/me", SIGNED_IN, None),
    ("POST", "/auth/password", SIGNED_IN, {}),
    ("POST", "/auth/mfa/confirm", SIGNED_IN, {}),
    ("GET", "/admin/roles", "users.manage", None),
    ("GET", "/admin/users", "users.manage", None),
    ("POST", "/admin/users", "users.manage", {}),
    ("GET", f"/admin/users/{MISSING}", "users.manage", None),
    ("PATCH", f"/admin/users/{MISSING}", "users.manage", {}),
    ("DELETE", f"/admin/users/{MISSING}", "users.manage", None),
    ("POST", f"/admin/users/{MISSING}/password", "users.manage", {}),
    ("POST", f"/admin/users/{MISSING}/mfa-reset", "users.manage", None),
    ("POST", f"/admin/users/{MISSING}/unlock", "users.manage", None),
    ("POST", "/audit/events", "audit.write", {}),
    ("GET", "/audit/events", "audit.read", None),
    ("GET", "/audit/verify", "audit.read", None),
    ("POST", "/reports", "reports.write", {}),
    ("GET", "/reports", "reports.read", None),
    ("GET", f"/reports/{MISSING}", "reports.read", None),
    ("PATCH", f"/reports/{MISSING}", "reports.write", {}),
    ("POST", f"/reports/{MISSING}/finalize", "reports.sign", {}),
    ("POST", f"/reports/{MISSING}/amend", "reports.sign", {}),
    ("POST", "/reports/documents", "reports.sign", {}),
    ("POST", "/reports/documents/batch", "reports.sign", {}),
    ("POST", "/ca/enroll", "reports.sign", {}),
    ("GET", "/ca/crl", PUBLIC, None),
    ("POST", "/admin/ca/revoke", "users.manage", {}),
    ("POST", "/tsa", SIGNED_IN, None),
]
# Not in the matrix: /auth/logout and /auth/mfa/setup change the caller's own session or
# secret; test_sessions and test_mfa cover them.
UNTESTED = {("POST", "/auth/logout"), ("POST", "/auth/mfa/setup")}
ROLES = ["anonymous", "operator", "doctor", "admin"]


def _allowed(role: str, need: str) -> bool:
    if need == PUBLIC:
        return True
    if role == "anonymous":
        return False
    return need == SIGNED_IN or need in SEED_RBAC[role]


def test_matrix_covers_every_documented_operation(central_sqlite) -> None:  # type: ignore[no-untyped-def]
    documented = {
        (method.upper(), path)
        for path, ops in central_sqlite.doc["paths"].items()
        for method in ops
    }
    covered = {
        (m, p.replace(str(MISSING), "{user_id}" if "/admin/" in p else "{report_id}"))
        for m, p, _n, _b in ENDPOINTS
    }
    assert covered | UNTESTED == documented


def test_documented_permissions_match_the_seed(central_sqlite) -> None:  # type: ignore[no-untyped-def]
    for method, path, need, _body in ENDPOINTS:
        template = path.replace(str(MISSING), "{user_id}" if "/admin/" in path else "{report_id}")
        op = central_sqlite.doc["paths"][template][method.lower()]
        if need == PUBLIC:
            assert not op["security"] or {} in op["security"], (method, path)
        else:
            assert op["x-permission"] == (None if need == SIGNED_IN else need), (method, path)


def test_roles_in_the_database_match_the_seed(central) -> None:  # type: ignore[no-untyped-def]
    roles = central.get("/admin/roles", token=central.admin_token()).json()["roles"]
    assert {r["name"]: set(r["permissions"]) for r in roles} == SEED_RBAC


@pytest.mark.parametrize("role", ROLES)
def test_role_endpoint_matrix(central, role: str) -> None:  # type: ignore[no-untyped-def]
    token = None if role == "anonymous" else central.token_for(role)
    wrong = []
    for method, path, need, body in ENDPOINTS:
        response = central.call(method, path, token=token, json=body)
        allowed = _allowed(role, need)
        if allowed:
            ok = response.status_code not in (401, 403)
        elif role == "anonymous":
            ok = response.status_code == 401 and response.json()["error"] == "unauthorized"
        else:
            ok = response.status_code == 403 and response.json()["permission"] == need
        if not ok:
            wrong.append(f"{role} {method} {path}: {response.status_code} {response.text[:120]}")
    assert not wrong, "\n".join(wrong)
