"""Password policy, lockout with exponential back-off, disable, and equal timing for
unknown names and wrong passwords."""

from __future__ import annotations

import statistics
import time
import uuid

import pytest
from klinika_auth.passwords import policy_problems

pytestmark = pytest.mark.network


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Short-1a", "at least 12"),
        ("aaaaaaaaaaaaaaaa", "five different"),
        ("Password2024!!", "too common"),
        ("P@ssw0rd123456", "too common"),
        ("qwertyuiop1234", "too common"),
        ("123456789012345", "too common"),
        ("xx-CLARA.jones-77", "user name"),
        ("x" * 100 + "yzabcdefghijklmnopqrstuvwxyz" * 7, "at most 256"),
    ],
)
def test_policy_refuses(password: str, problem: str) -> None:
    problems = policy_problems(password, "clara.jones", 12)
    assert any(problem in p for p in problems), problems


def test_policy_accepts_a_decent_passphrase() -> None:
    assert policy_problems("correct-Horse-battery-17", "clara.jones", 12) == []


def test_api_applies_the_policy(central) -> None:  # type: ignore[no-untyped-def]
    name = f"pol-{uuid.uuid4().hex[:8]}"
    response = central.post(
        "/admin/users",
        token=central.admin_token(),
        json={"username": name, "password": f"{name}-Secret-99", "role": "doctor"},
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "weak_password"
    assert body["problems"] == ["Do not use the user name in the password."]
    assert f"{name}-Secret-99" not in response.text


def test_user_names_are_unique(central) -> None:  # type: ignore[no-untyped-def]
    user, password = central.new_user("operator")
    again = central.post(
        "/admin/users",
        token=central.admin_token(),
        json={"username": user["username"].upper(), "password": password, "role": "doctor"},
    )
    assert again.status_code == 409 and again.json()["error"] == "username_taken"


def _attempt(client, name: str, password: str):  # type: ignore[no-untyped-def]
    return client.post("/auth/login", json={"username": name, "password": password})


def test_lockout_backs_off_exponentially(short_timers) -> None:  # type: ignore[no-untyped-def]
    """threshold 3, base 1 s, max 4 s: locks of 1, 2, 4, 4 s; success resets the count."""
    user, password = short_timers.new_user("doctor")
    name = user["username"]
    for _ in range(3):
        assert _attempt(short_timers, name, "wrong-password").status_code == 401
    locked = _attempt(short_timers, name, password)  # even the right password
    assert locked.status_code == 429
    assert locked.json()["error"] == "account_locked"
    assert locked.json()["retry_after"] == 1
    assert locked.headers["Retry-After"] == "1"
    time.sleep(1.1)
    assert _attempt(short_timers, name, "wrong-password").status_code == 401
    second = _attempt(short_timers, name, password)
    assert second.status_code == 429 and second.json()["retry_after"] == 2
    time.sleep(2.1)
    assert _attempt(short_timers, name, password).status_code == 200
    # The count starts again after a success.
    assert _attempt(short_timers, name, "wrong-password").status_code == 401
    assert _attempt(short_timers, name, password).status_code == 200


def test_unknown_names_lock_the_same_way(short_timers) -> None:  # type: ignore[no-untyped-def]
    name = f"ghost-{uuid.uuid4().hex[:8]}"
    answers = [_attempt(short_timers, name, "whatever-it-is").status_code for _ in range(4)]
    assert answers == [401, 401, 401, 429]


def test_disabled_user_cannot_sign_in_and_loses_sessions(central) -> None:  # type: ignore[no-untyped-def]
    user, password = central.new_user("operator")
    tokens = central.login_ok(user["username"], password)
    admin = central.admin_token()
    off = central.patch(f"/admin/users/{user['id']}", token=admin, json={"disabled": True})
    assert off.status_code == 200 and off.json()["disabled"] is True
    assert central.get("/auth/me", token=tokens["access_token"]).status_code == 401
    refused = central.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refused.status_code == 401
    denied = _attempt(central, user["username"], password)
    assert denied.status_code == 403 and denied.json()["error"] == "account_disabled"
    # A wrong password does not reveal that the account is disabled.
    assert (
        _attempt(central, user["username"], "Wrong-password-1").json()["error"]
        == "invalid_credentials"
    )
    central.patch(f"/admin/users/{user['id']}", token=admin, json={"disabled": False})
    central.login_ok(user["username"], password)


def test_unknown_user_costs_as_much_as_a_wrong_password(central_sqlite) -> None:  # type: ignore[no-untyped-def]
    """The dummy argon2 check: medians within a factor of two (a skipped hash would be ~50x)."""
    user, password = central_sqlite.new_user("doctor")
    known, unknown = [], []
    for i in range(8):
        if i % 3 == 2:
            central_sqlite.login_ok(user["username"], password)  # stay below the lockout
        pair = [(known, user["username"]), (unknown, f"nobody-{uuid.uuid4().hex[:8]}")]
        for bucket, name in pair if i % 2 else pair[::-1]:  # alternate who goes first
            t0 = time.perf_counter()
            assert _attempt(central_sqlite, name, "Not-the-password-9").status_code == 401
            bucket.append(time.perf_counter() - t0)
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.5 < ratio < 2.0, (known, unknown)
