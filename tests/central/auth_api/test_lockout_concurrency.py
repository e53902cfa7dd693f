"""Sign-in lockout under parallel guessing, against the real server (gunicorn, 2 workers x
4 threads) on SQLite and PostgreSQL: exactly ``lockout_threshold`` (5) guesses are
evaluated however they arrive, the audited failure count runs 1..5 in order, a wrong
current password (password change, MFA enrolment) counts too, the lock holds only for the
address that earned it, and an administrator can lift it (API and CLI)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import requests

from tests.central.auth_api.hostile_client import burst, events_since, raw_request

pytestmark = pytest.mark.network

THRESHOLD = 5  # the documented default


def _now() -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)).isoformat()


def _login(central, name: str, password: str) -> int:  # type: ignore[no-untyped-def]
    response = requests.post(
        central.url + "/auth/login", json={"username": name, "password": password}, timeout=60
    )
    return response.status_code


def test_parallel_guesses_evaluate_exactly_the_threshold(central) -> None:  # type: ignore[no-untyped-def]
    user, password = central.new_user("doctor")
    name, since = user["username"], _now()
    first = _login(central, name, "Wrong-guess-0")
    bursts = [
        burst(8, lambda i, b=b: _login(central, name, f"Wrong-guess-{b}-{i}")) for b in (1, 2)
    ]
    answers = [first, *bursts[0], *bursts[1]]
    assert answers.count(401) == THRESHOLD, answers  # evaluated (and wrong)
    assert answers.count(429) == 17 - THRESHOLD, answers  # refused unevaluated
    assert _login(central, name, password) == 429  # the lock holds for the right one too

    failures = [
        e
        for e in events_since(central, since, action="auth.login", actor=name)
        if e["outcome"] == "failure"
    ]
    # One event per evaluated guess; the count neither repeats nor runs backwards.
    assert [e["details"]["failures"] for e in failures] == list(range(1, THRESHOLD + 1))
    assert sorted(e["details"]["attempt"] for e in failures) == list(range(1, THRESHOLD + 1))
    locked = [
        e
        for e in events_since(central, since, action="auth.login", outcome="denied", actor=name)
        if e["details"]["reason"] == "locked"
    ]
    assert locked and all(e["source_ip"] == "127.0.0.1" for e in locked)


def test_unknown_and_impossible_names_lock_the_same_way(central) -> None:  # type: ignore[no-untyped-def]
    """Names no account can have (too long once lower-cased, non-ASCII) are throttled
    like real ones and answered 401/429, never 500 (PostgreSQL: VARCHAR(64))."""
    for name in ("İ" * 40, "nobody-" + "x" * 50, "Ωmega-user"):
        answers = burst(8, lambda i, n=name: _login(central, n, f"Whatever-{i}"))
        assert sorted(answers) == [401] * THRESHOLD + [429] * (8 - THRESHOLD), (name, answers)


def test_a_lock_binds_only_the_address_that_earned_it(central) -> None:  # type: ignore[no-untyped-def]
    user, password = central.new_user("operator")
    name = user["username"]
    answers = burst(8, lambda i: _login(central, name, f"Wrong-{i}"))
    assert answers.count(429) == 8 - THRESHOLD
    body = json.dumps({"username": name, "password": password}).encode()
    here = raw_request(central.server, "POST", "/auth/login", body)
    assert here.status == 429 and int(here.headers["Retry-After"]) > 0
    elsewhere = raw_request(central.server, "POST", "/auth/login", body, source="127.0.0.2")
    assert elsewhere.status == 200, elsewhere.text  # the owner at their own desk


def test_admin_lifts_a_lock_by_api_and_cli(central) -> None:  # type: ignore[no-untyped-def]
    user, password = central.new_user("doctor")
    name = user["username"]
    burst(6, lambda i: _login(central, name, f"Wrong-{i}"))
    assert _login(central, name, password) == 429
    operator = central.token_for("operator")
    refused = central.post(f"/admin/users/{user['id']}/unlock", token=operator)
    assert refused.status_code == 403
    lifted = central.post(f"/admin/users/{user['id']}/unlock", token=central.admin_token())
    assert lifted.status_code == 200 and lifted.json()["username"] == name
    central.login_ok(name, password)

    burst(6, lambda i: _login(central, name, f"Wrong-again-{i}"))
    assert _login(central, name, password) == 429
    cli = central.server.cli("unlock", "--username", name.upper())
    assert cli.returncode == 0, cli.stderr
    central.login_ok(name, password)
    trail = central.get(
        "/audit/events", token=central.admin_token(), params={"action": "user.unlocked"}
    ).json()["events"]
    mine = [e for e in trail if e["details"]["username"] == name]
    assert len(mine) == 2 and mine[0]["actor"] == central.admin_username
    assert mine[1]["details"]["via"] == "cli"


def test_wrong_current_password_counts_toward_the_lockout(central) -> None:  # type: ignore[no-untyped-def]
    """A stolen access token is no password oracle: wrong current passwords are throttled
    with sign-ins (same name and address), and each is audited as denied."""
    user, password = central.new_user("doctor")
    name, since = user["username"], _now()
    token = central.login_ok(name, password)["access_token"]

    def change(i: int) -> int:
        return requests.post(
            central.url + "/auth/password",
            headers={"Authorization": f"Bearer {token}"},
            json={"current_password": f"Guess-{i}-xyz", "new_password": "Brand-new-pass-42"},
            timeout=60,
        ).status_code

    answers = burst(8, change)
    assert sorted(answers) == [403] * THRESHOLD + [429] * (8 - THRESHOLD), answers
    # Locked now: the right current password is refused, and so is a sign-in from here.
    right = central.post(
        "/auth/password",
        token=token,
        json={"current_password": password, "new_password": "Brand-new-pass-42"},
    )
    assert right.status_code == 429 and right.json()["error"] == "account_locked"
    assert _login(central, name, password) == 429
    denied = events_since(central, since, action="auth.password_change", actor=name)
    wrong = [e for e in denied if e["details"]["reason"] == "bad_password"]
    assert [e["details"]["failures"] for e in wrong] == list(range(1, THRESHOLD + 1))
    assert all(e["outcome"] == "denied" for e in denied)
    assert any(e["details"]["reason"] == "locked" for e in denied)

    central.post(f"/admin/users/{user['id']}/unlock", token=central.admin_token())
    weak = central.post(
        "/auth/password", token=token, json={"current_password": password, "new_password": "short"}
    )
    assert weak.status_code == 400 and weak.json()["error"] == "weak_password"
    ok = central.post(
        "/auth/password",
        token=token,
        json={"current_password": password, "new_password": "Brand-new-pass-42"},
    )
    assert ok.status_code == 204
    reasons = [
        e["details"]["reason"]
        for e in events_since(central, since, action="auth.password_change", actor=name)
    ]
    assert reasons.count("weak_password") == 1


def test_mfa_enrolment_password_counts_toward_the_lockout(central) -> None:  # type: ignore[no-untyped-def]
    user, password = central.new_user("doctor")
    token = central.login_ok(user["username"], password)["access_token"]

    def setup(i: int) -> int:
        return requests.post(
            central.url + "/auth/mfa/setup",
            headers={"Authorization": f"Bearer {token}"},
            json={"password": f"Guess-{i}-abc"},
            timeout=60,
        ).status_code

    answers = burst(8, setup)
    assert sorted(answers) == [403] * THRESHOLD + [429] * (8 - THRESHOLD), answers
    locked = central.post("/auth/mfa/setup", token=token, json={"password": password})
    assert locked.status_code == 429
