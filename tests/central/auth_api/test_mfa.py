"""TOTP second factor: enrolment, sign-in with a code, replay refused, admin reset, and the
site policy that requires MFA for administrators."""

from __future__ import annotations

import time

import pyotp
import pytest

pytestmark = pytest.mark.network


def _enrol(client, token: str, password: str) -> pyotp.TOTP:  # type: ignore[no-untyped-def]
    without = client.post("/auth/mfa/setup", token=token)
    assert without.status_code == 400  # the password is asked again
    wrong = client.post("/auth/mfa/setup", token=token, json={"password": "Not-the-password-1"})
    assert wrong.status_code == 403 and wrong.json()["error"] == "invalid_credentials"
    setup = client.post("/auth/mfa/setup", token=token, json={"password": password})
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secret"]
    assert setup.json()["otpauth_uri"].startswith("otpauth://totp/")
    totp = pyotp.TOTP(secret)
    wrong = client.post(
        "/auth/mfa/confirm",
        token=token,
        json={"totp": "000000" if totp.now() != "000000" else "111111"},
    )
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_totp"
    ok = client.post("/auth/mfa/confirm", token=token, json={"totp": totp.now()})
    assert ok.status_code == 200 and ok.json() == {"mfa_enabled": True}
    return totp


def _next_code(totp: pyotp.TOTP) -> str:
    """The code of the next 30 s step (accepted: one step of clock skew either way)."""
    return totp.at(time.time() + 30)


def test_enrol_then_sign_in_with_a_code(central) -> None:  # type: ignore[no-untyped-def]
    user, password = central.new_user("doctor")
    tokens = central.login_ok(user["username"], password)
    totp = _enrol(central, tokens["access_token"], password)
    assert central.get("/auth/me", token=tokens["access_token"]).json()["mfa_enabled"] is True

    without = central.post("/auth/login", json={"username": user["username"], "password": password})
    assert without.status_code == 401 and without.json()["error"] == "mfa_required"
    code = _next_code(totp)
    central.login_ok(user["username"], password, totp=code)
    replay = central.post(
        "/auth/login", json={"username": user["username"], "password": password, "totp": code}
    )
    assert replay.status_code == 401 and replay.json()["error"] == "invalid_totp"
    older = central.post(
        "/auth/login",
        json={
            "username": user["username"],
            "password": password,
            "totp": totp.at(time.time() - 30),
        },
    )
    assert older.status_code == 401
    again = central.post(
        "/auth/mfa/setup", token=tokens["access_token"], json={"password": password}
    )
    assert again.status_code == 409


def test_admin_mfa_reset_lets_the_user_enrol_again(central) -> None:  # type: ignore[no-untyped-def]
    user, password = central.new_user("operator")
    tokens = central.login_ok(user["username"], password)
    _enrol(central, tokens["access_token"], password)
    reset = central.post(f"/admin/users/{user['id']}/mfa-reset", token=central.admin_token())
    assert reset.status_code == 200 and reset.json()["mfa_enabled"] is False
    assert central.get("/auth/me", token=tokens["access_token"]).status_code == 401  # signed out
    central.login_ok(user["username"], password)
    actions = [
        e["action"]
        for e in central.get(
            "/audit/events", token=central.admin_token(), params={"action": "user.mfa_reset"}
        ).json()["events"]
        if e["details"]["user_id"] == user["id"]
    ]
    assert actions == ["user.mfa_reset"]


def test_site_policy_requires_mfa_for_admins(auth_api_factory) -> None:  # type: ignore[no-untyped-def]
    from tests.central.auth_api.contract import ContractClient

    site = ContractClient(auth_api_factory(name="mfa_policy", require_mfa_for_admins="true"))
    name, password = site.admin_username, site.admin_password
    first = site.post("/auth/login", json={"username": name, "password": password})
    assert first.status_code == 403
    body = first.json()
    assert body["error"] == "mfa_enrollment_required"
    enrol_token = body["enrollment_token"]
    # The enrolment token opens the enrolment endpoints and nothing else.
    assert site.get("/auth/me", token=enrol_token).status_code == 401
    assert site.get("/admin/users", token=enrol_token).status_code == 401
    totp = _enrol(site, enrol_token, password)
    tokens = site.login_ok(name, password, totp=_next_code(totp))
    assert site.get("/admin/users", token=tokens["access_token"]).status_code == 200
    # Doctors are not bound by the admin policy.
    doctor_pw = "Doc-policy-" + "x7Q2m9"
    made = site.post(
        "/admin/users",
        token=tokens["access_token"],
        json={"username": "policy-doctor", "password": doctor_pw, "role": "doctor"},
    )
    assert made.status_code == 201
    site.login_ok("policy-doctor", doctor_pw)
