"""Login, refresh with rotation, reuse detection, logout and revocation (SQLite and PostgreSQL)."""

from __future__ import annotations

import time

import jwt
import pytest

pytestmark = pytest.mark.network


def _me(central, token: str) -> int:  # type: ignore[no-untyped-def]
    return central.get("/auth/me", token=token).status_code


def test_login_answers_the_contract(central) -> None:  # type: ignore[no-untyped-def]
    user, password = central.new_user("doctor")
    tokens = central.login_ok(user["username"].upper(), password)  # names are case-insensitive
    assert tokens["token_type"] == "Bearer"
    assert tokens["role"] == "doctor"
    assert tokens["user"]["username"] == user["username"]
    assert tokens["user"]["last_login_at"] is not None
    assert set(tokens["permissions"]) == {
        "audit.write",
        "measurements.write",
        "reports.read",
        "reports.sign",
        "reports.write",
        "studies.read",
    }
    header = jwt.get_unverified_header(tokens["access_token"])
    assert header["alg"] == "RS256" and header["kid"]
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert {"iss", "aud", "sub", "uid", "role", "perms", "iat", "nbf", "exp", "jti"} <= set(claims)
    assert claims["uid"] == user["id"] and claims["sub"] == user["username"]
    assert claims["exp"] - claims["iat"] == tokens["expires_in"] == 300
    me = central.get("/auth/me", token=tokens["access_token"]).json()
    assert me["username"] == user["username"] and me["permissions"] == sorted(claims["perms"])


def test_wrong_password_and_unknown_user_answer_alike(central) -> None:  # type: ignore[no-untyped-def]
    user, _password = central.new_user("operator")
    bad = central.post("/auth/login", json={"username": user["username"], "password": "nope-nope"})
    ghost = central.post("/auth/login", json={"username": "ghost-user-x", "password": "nope-nope"})
    assert bad.status_code == ghost.status_code == 401
    assert bad.json() == ghost.json()


def test_refresh_rotates_and_reuse_revokes_the_family(central) -> None:  # type: ignore[no-untyped-def]
    user, password = central.new_user("operator")
    first = central.login_ok(user["username"], password)
    second = central.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200, second.text
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert _me(central, second["access_token"]) == 200
    third = central.post("/auth/refresh", json={"refresh_token": second["refresh_token"]}).json()

    # The first token was spent: presenting it again revokes the whole session.
    reuse = central.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reuse.status_code == 401
    assert reuse.json()["error"] == "invalid_refresh_token"
    assert "already used" in reuse.json()["message"]
    again = central.post("/auth/refresh", json={"refresh_token": third["refresh_token"]})
    assert again.status_code == 401
    for tokens in (first, second, third):
        assert _me(central, tokens["access_token"]) == 401
    # Another login of the same user is unaffected.
    fresh = central.login_ok(user["username"], password)
    assert _me(central, fresh["access_token"]) == 200

    events = central.get(
        "/audit/events",
        token=central.admin_token(),
        params={"actor": user["username"], "action": "auth.refresh_reuse"},
    ).json()["events"]
    assert len(events) == 1 and events[0]["outcome"] == "failure"


def test_a_refresh_whose_answer_was_lost_may_be_repeated_once(central) -> None:  # type: ignore[no-untyped-def]
    """A client that timed out presents the same refresh token again (issue 16): within
    the grace it gets another successor; once one of them is used the others are
    withdrawn, and presenting one later is reuse (the session is revoked)."""
    user, password = central.new_user("doctor")
    first = central.login_ok(user["username"], password)
    lost = central.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert lost.status_code == 200  # ...but the client never read it
    again = central.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert again.status_code == 200, again.text
    again = again.json()
    assert again["refresh_token"] != lost.json()["refresh_token"]
    assert _me(central, again["access_token"]) == 200
    nxt = central.post("/auth/refresh", json={"refresh_token": again["refresh_token"]})
    assert nxt.status_code == 200
    # The sibling it never received turning up later means a copy: the session ends.
    stolen = central.post("/auth/refresh", json={"refresh_token": lost.json()["refresh_token"]})
    assert stolen.status_code == 401 and "already used" in stolen.json()["message"]
    assert _me(central, nxt.json()["access_token"]) == 401
    # Once the successor was used, the first token is plain reuse as before.
    other = central.login_ok(user["username"], password)
    second = central.post("/auth/refresh", json={"refresh_token": other["refresh_token"]}).json()
    central.post("/auth/refresh", json={"refresh_token": second["refresh_token"]})
    reuse = central.post("/auth/refresh", json={"refresh_token": other["refresh_token"]})
    assert reuse.status_code == 401


def test_unknown_refresh_token_is_refused(central) -> None:  # type: ignore[no-untyped-def]
    response = central.post("/auth/refresh", json={"refresh_token": "not-a-real-token"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_refresh_token"


def test_logout_with_bearer_revokes_access_and_refresh(central) -> None:  # type: ignore[no-untyped-def]
    user, password = central.new_user("doctor")
    tokens = central.login_ok(user["username"], password)
    other = central.login_ok(user["username"], password)
    assert central.post("/auth/logout", token=tokens["access_token"]).status_code == 204
    assert _me(central, tokens["access_token"]) == 401
    refused = central.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refused.status_code == 401
    assert _me(central, other["access_token"]) == 200  # only that session ended


def test_logout_with_refresh_token_only(central) -> None:  # type: ignore[no-untyped-def]
    user, password = central.new_user("doctor")
    tokens = central.login_ok(user["username"], password)
    response = central.post("/auth/logout", json={"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 204
    assert _me(central, tokens["access_token"]) == 401
    nothing = central.post("/auth/logout")
    assert nothing.status_code == 400 and nothing.json()["error"] == "nothing_to_revoke"


def test_change_own_password_signs_out_other_sessions(central) -> None:  # type: ignore[no-untyped-def]
    user, password = central.new_user("operator")
    keep = central.login_ok(user["username"], password)
    other = central.login_ok(user["username"], password)
    wrong = central.post(
        "/auth/password",
        token=keep["access_token"],
        json={"current_password": "wrong-one", "new_password": "Fresh-" + password},
    )
    assert wrong.status_code == 403
    weak = central.post(
        "/auth/password",
        token=keep["access_token"],
        json={"current_password": password, "new_password": "password1234"},
    )
    assert weak.status_code == 400 and weak.json()["error"] == "weak_password"
    ok = central.post(
        "/auth/password",
        token=keep["access_token"],
        json={"current_password": password, "new_password": "Fresh-" + password},
    )
    assert ok.status_code == 204
    assert _me(central, keep["access_token"]) == 200
    assert _me(central, other["access_token"]) == 401
    assert (
        central.post(
            "/auth/login", json={"username": user["username"], "password": password}
        ).status_code
        == 401
    )
    central.login_ok(user["username"], "Fresh-" + password)


def test_short_lived_tokens_expire(short_timers) -> None:  # type: ignore[no-untyped-def]
    user, password = short_timers.new_user("doctor")
    tokens = short_timers.login_ok(user["username"], password)
    assert tokens["expires_in"] == 2
    time.sleep(2.2)
    expired = short_timers.get("/auth/me", token=tokens["access_token"])
    assert expired.status_code == 401 and "expired" in expired.json()["message"]
    renewed = short_timers.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert renewed.status_code == 200, renewed.text
    time.sleep(3.2)  # the refresh token lives 3 s
    late = short_timers.post(
        "/auth/refresh", json={"refresh_token": renewed.json()["refresh_token"]}
    )
    assert late.status_code == 401 and "expired" in late.json()["message"]
