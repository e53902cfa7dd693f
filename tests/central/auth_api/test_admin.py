"""User administration: CRUD, role change, password reset, guards, and every change audited."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.network


def _audit(central, action: str, user_id: int) -> list[dict]:  # type: ignore[no-untyped-def]
    events = central.get(
        "/audit/events", token=central.admin_token(), params={"action": action, "limit": 1000}
    ).json()["events"]
    return [e for e in events if e["details"].get("user_id") == user_id]


def test_user_lifecycle_is_audited(central) -> None:  # type: ignore[no-untyped-def]
    admin = central.admin_token()
    user, password = central.new_user("operator")
    uid = user["id"]
    assert user["role"] == "operator" and user["disabled"] is False
    assert user["mfa_enabled"] is False and user["last_login_at"] is None
    listed = central.get("/admin/users", token=admin).json()["users"]
    assert user["username"] in [u["username"] for u in listed]
    assert central.get(f"/admin/users/{uid}", token=admin).json() == user

    tokens = central.login_ok(user["username"], password)
    assert "reports.write" not in tokens["permissions"]
    promoted = central.patch(f"/admin/users/{uid}", token=admin, json={"role": "doctor"})
    assert promoted.status_code == 200 and promoted.json()["role"] == "doctor"
    # The change takes effect at once: the old session is revoked.
    assert central.get("/auth/me", token=tokens["access_token"]).status_code == 401
    as_doctor = central.login_ok(user["username"], password)
    assert "reports.write" in as_doctor["permissions"] and as_doctor["role"] == "doctor"

    bad_role = central.patch(f"/admin/users/{uid}", token=admin, json={"role": "superuser"})
    assert bad_role.status_code == 400 and "doctor" in bad_role.json()["message"]

    new_pw = "Reset-" + password
    reset = central.post(f"/admin/users/{uid}/password", token=admin, json={"new_password": new_pw})
    assert reset.status_code == 204
    assert central.get("/auth/me", token=as_doctor["access_token"]).status_code == 401
    central.login_ok(user["username"], new_pw)

    assert central.delete(f"/admin/users/{uid}", token=admin).status_code == 204
    assert central.get(f"/admin/users/{uid}", token=admin).status_code == 404
    assert (
        central.post(
            "/auth/login", json={"username": user["username"], "password": new_pw}
        ).status_code
        == 401
    )

    for action in ("user.created", "user.updated", "user.password_reset", "user.deleted"):
        events = _audit(central, action, uid)
        assert events, action
        assert all(e["actor"] == central.admin_username for e in events)
        assert all(e["source_ip"] == "127.0.0.1" for e in events)
    (change,) = _audit(central, "user.updated", uid)
    assert change["details"]["changes"] == {"role": ["operator", "doctor"]}
    # Passwords never reach the audit log.
    dump = central.get("/audit/events", token=admin, params={"limit": 1000}).text
    assert new_pw not in dump and password not in dump


def test_last_admin_cannot_be_removed_or_demoted(auth_api_factory) -> None:  # type: ignore[no-untyped-def]
    from tests.central.auth_api.contract import ContractClient

    site = ContractClient(auth_api_factory(name="admin_guards"))  # exactly one admin
    admin = site.admin_token()
    me = site.get("/auth/me", token=admin).json()
    assert site.delete(f"/admin/users/{me['id']}", token=admin).json()["error"] == "self_delete"
    off = site.patch(f"/admin/users/{me['id']}", token=admin, json={"disabled": True})
    assert off.json()["error"] == "self_disable"
    demote = site.patch(f"/admin/users/{me['id']}", token=admin, json={"role": "doctor"})
    assert demote.status_code == 409 and demote.json()["error"] == "last_admin"
    # With a second admin the first may be demoted; then the second is the last one.
    second, password = site.new_user("admin")
    second_token = site.login_ok(second["username"], password)["access_token"]
    demoted = site.patch(f"/admin/users/{me['id']}", token=second_token, json={"role": "doctor"})
    assert demoted.status_code == 200
    assert site.get("/admin/users", token=admin).status_code == 401  # its session was revoked
    last = site.patch(f"/admin/users/{second['id']}", token=second_token, json={"role": "operator"})
    assert last.status_code == 409 and last.json()["error"] == "last_admin"


def test_author_of_reports_is_disabled_not_deleted(central) -> None:  # type: ignore[no-untyped-def]
    doctor, password = central.new_user("doctor")
    token = central.login_ok(doctor["username"], password)["access_token"]
    made = central.post("/reports", token=token, json={"study_instance_uid": "1.2.3.4.5"})
    assert made.status_code == 201
    refused = central.delete(f"/admin/users/{doctor['id']}", token=central.admin_token())
    assert refused.status_code == 409 and refused.json()["error"] == "user_has_reports"


def test_validation_messages_are_actionable(central) -> None:  # type: ignore[no-untyped-def]
    admin = central.admin_token()
    missing = central.post("/admin/users", token=admin, json={"username": "abc", "role": "doctor"})
    assert missing.status_code == 400
    assert missing.json() == {"error": "invalid_body", "message": "Field 'password' is required."}
    extra = central.post(
        "/admin/users",
        token=admin,
        json={"username": "abc", "password": "Sekrit-value-123", "role": "doctor", "admin": True},
    )
    assert extra.status_code == 400  # the fields it knows, not the one sent (never echoed)
    assert extra.json()["message"] == "Unexpected field in body; allowed: password, role, username."
    bad_name = central.post(
        "/admin/users",
        token=admin,
        json={"username": "a b", "password": "Sekrit-value-123", "role": "doctor"},
    )
    assert bad_name.json()["message"] == "Field 'username' has an invalid format."
    too_long = central.post(
        "/auth/login", json={"username": "x", "password": "Sekrit-value-123" * 100}
    )
    assert too_long.status_code == 400 and "Sekrit" not in too_long.text
    not_json = central.post(
        "/auth/login", data="username=x", headers={"Content-Type": "text/plain"}
    )
    assert not_json.status_code == 400 and "JSON" in not_json.json()["message"]
    nowhere = central.server.request("GET", "/no/such/thing")
    assert nowhere.status_code == 404 and nowhere.json()["error"] == "not_found"
    wrong_method = central.server.request("PUT", "/auth/login")
    assert wrong_method.status_code == 405 and "POST" in wrong_method.headers["Allow"]
