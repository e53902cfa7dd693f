"""Malformed and hostile input gets a 4xx whose message does not echo what was sent (on
SQLite and PostgreSQL); refusals are audited as ``denied``, floods of them within a budget;
audit events cannot be written in someone else's name or backdated."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator

import pytest

from tests.central.auth_api.hostile_client import burst, events_since, raw_request

pytestmark = pytest.mark.network

MARK = "ECHO-" + uuid.uuid4().hex[:8]


def _post_raw(central, path: str, body: bytes, **kwargs):  # type: ignore[no-untyped-def]
    response = raw_request(central.server, "POST", path, body, **kwargs)
    assert response.status < 500, (path, response.status, response.text[:300])
    assert MARK not in response.text
    return response


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b'{"username": "\\ud800' + MARK.encode() + b'", "password": "x"}', 400, "surrogate"),
        (b'{"username": "a", "password": "\\udfff"}', 400, "surrogate"),
        (b"[" * 50_000 + b"]" * 50_000, 400, "nests deeper"),
        (b'{"a":' * 40 + b"1" + b"}" * 40, 400, "nests deeper"),
        (b'{"username": "ab\\u0000' + MARK.encode() + b'", "password": "x"}', 400, "NUL"),
        (b'{"username": "ab", "password": "' + MARK.encode() + b'\\u0000"}', 400, "NUL"),
        (b"\xff\xfe" + MARK.encode(), 400, "UTF-8"),
        (b'{"username": "' + MARK.encode() + b'", "password": ', 400, "not valid JSON"),
    ],
)
def test_malformed_login_bodies(central, body: bytes, status: int, words: str) -> None:  # type: ignore[no-untyped-def]
    response = _post_raw(central, "/auth/login", body)
    assert response.status == status
    assert words in json.loads(response.body)["message"]


def test_a_chunked_body_over_the_cap_is_413(central) -> None:  # type: ignore[no-untyped-def]
    def chunks() -> Iterator[bytes]:
        yield b'{"username": "' + MARK.encode()
        for _ in range(20 * 16):  # 20 MiB
            yield b"x" * 65536
        yield b'", "password": "x"}'

    response = _post_raw(central, "/auth/login", chunks(), chunked=True)  # type: ignore[arg-type]
    assert response.status == 413 and json.loads(response.body)["error"] == "too_large"
    fits = _post_raw(
        central,
        "/auth/login",
        iter([b'{"username": "chunked-', b'nobody", "password": "Some-pass-123"}']),  # type: ignore[arg-type]
        chunked=True,
    )
    assert fits.status == 401  # a chunked body that fits is read whole


def test_names_that_are_no_user_name_are_4xx(central) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL refused a NUL or a name longer than 64 once lower-cased with a 500."""
    for name in ("İ" * 64, "ǅ" * 60 + MARK[:4], "a\u202eb" + MARK):
        response = central.post("/auth/login", json={"username": name, "password": "Pw-1234567"})
        assert response.status_code in (400, 401, 429), response.text
        assert MARK not in response.text


def test_out_of_range_ids_and_queries(central) -> None:  # type: ignore[no-untyped-def]
    admin = central.admin_token()
    for path in (
        "/reports/99999999999999999999",
        "/reports/2147483648",
        "/admin/users/99999999999999999999",
        "/admin/users/9223372036854775808/password",
    ):
        method = "POST" if path.endswith("password") else "GET"
        kwargs = {"json": {"new_password": "Long-enough-pass-9"}} if method == "POST" else {}
        response = central.call(method, path, token=admin, **kwargs)
        assert response.status_code == 404 and response.json()["error"] == "not_found", path
    for params in (
        {"after_seq": "99999999999999999999999"},
        {"after_seq": "-1"},
        {"after_seq": MARK},
        {"limit": "0"},
        {"limit": "100000000000000000000"},
        {"since": "9999-12-31T23:59:59-01:00"},
        {"since": "0001-01-01T00:00:00+01:00"},
        {"until": "0001-01-01T00:30:00+01:00"},
        {"since": MARK},
        {"actor": "a\x00b"},
        {"study": "1" * 2000},
    ):
        response = central.get("/audit/events", token=admin, params=params)
        assert response.status_code == 400, (params, response.text)
        assert MARK not in response.text
    listed = central.get("/reports", token=admin, params={"study": "1.2\x003"})
    assert listed.status_code == 400


def test_refusals_never_echo_what_was_sent(central) -> None:  # type: ignore[no-untyped-def]
    admin = central.admin_token()
    big = MARK * 5000  # 60 kB
    cases = [
        ("/admin/users", {"username": "okname", "password": "x" * 20, "role": "r", big: 1}),
        ("/admin/users", {"username": "ok-" + MARK.lower(), "password": "x" * 20, "role": MARK}),
        ("/admin/users", {"username": big, "password": "x", "role": "doctor"}),
        ("/auth/login", {"username": "someone", "password": "x", big: 1}),
        ("/audit/events", {"events": [{"client_event_id": MARK, big: 1}]}),
        ("/reports", {"study_instance_uid": big}),
    ]
    for path, payload in cases:
        response = central.post(path, token=admin, json=payload)
        assert 400 <= response.status_code < 500, (path, response.text[:200])
        assert MARK not in response.text and len(response.content) < 1000, path
    role = central.post(
        "/admin/users",
        token=admin,
        json={"username": "ok-" + MARK.lower(), "password": "Some-strong-99", "role": MARK},
    )
    assert role.status_code == 400 and role.json()["error"] == "unknown_role"
    garbage = central.get("/auth/me", token="x." + MARK * 300 + ".y")
    assert garbage.status_code == 401 and MARK not in garbage.text


def test_audit_events_are_recorded_as_the_token_user_at_server_time(central) -> None:  # type: ignore[no-untyped-def]
    operator = central.token_for("operator")
    forged = {
        "client_event_id": str(uuid.uuid4()),
        "occurred_at": "2001-01-01T00:00:00Z",
        "action": "report.final",
        "actor": central.admin_username,
    }
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2)
    answer = central.post("/audit/events", token=operator, json={"events": [forged]})
    assert answer.status_code == 200
    seq = answer.json()["results"][0]["seq"]
    event = central.get(
        "/audit/events", token=central.admin_token(), params={"after_seq": seq - 1, "limit": 1}
    ).json()["events"][0]
    operator_name = central.user_for("operator")[0]
    assert event["actor"] == event["submitted_by"] == operator_name
    occurred = dt.datetime.fromisoformat(event["occurred_at"].replace("Z", "+00:00"))
    assert occurred >= before and event["occurred_at"] == event["recorded_at"]
    assert event["details"] == {
        "claimed_actor": central.admin_username,
        "claimed_occurred_at": "2001-01-01T00:00:00.000000Z",
    }


def test_refusals_are_audited_as_denied(central) -> None:  # type: ignore[no-untyped-def]
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)).isoformat()
    user, password = central.new_user("operator")
    token = central.login_ok(user["username"], password)["access_token"]
    assert central.get("/admin/users", token=token).status_code == 403
    assert central.post("/reports", token=token, json={}).status_code == 403
    denied = events_since(central, since, action="access.denied", actor=user["username"])
    assert [(e["details"]["status"], e["details"].get("permission")) for e in denied] == [
        (403, "users.manage"),
        (403, "reports.write"),
    ]
    assert all(e["outcome"] == "denied" and e["source_ip"] == "127.0.0.1" for e in denied)
    assert denied[0]["details"]["endpoint"] == "GET /admin/users"

    # An invalid token, from an address of its own (the flood budget is per address).
    bad = raw_request(
        central.server, "GET", "/auth/me", headers={"Authorization": "Bearer x.y.z"},
        source="127.0.0.4",
    )  # fmt: skip
    assert bad.status == 401
    rejected = [
        e
        for e in events_since(central, since, action="access.denied")
        if e["source_ip"] == "127.0.0.4"
    ]
    assert len(rejected) == 1 and rejected[0]["details"]["token"] == "bearer"
    assert rejected[0]["actor"] is None and rejected[0]["details"]["status"] == 401


def test_a_flood_of_invalid_tokens_is_audited_within_a_budget(central) -> None:  # type: ignore[no-untyped-def]
    """At most ``denied_audit_per_minute`` (20) events per worker (2), reason, address and
    actor; the rest are counted and reported as ``suppressed`` by the next event."""
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)).isoformat()
    source = "127.0.0.5"

    def bad(i: int) -> int:
        headers = {"Authorization": f"Bearer forged.{i}.token"}
        return raw_request(central.server, "GET", "/auth/me", headers=headers, source=source).status

    answers = []
    for _ in range(10):
        answers += burst(8, bad)
    assert answers == [401] * 80
    written = [
        e for e in events_since(central, since, action="access.denied") if e["source_ip"] == source
    ]
    assert 20 <= len(written) <= 40, len(written)
    assert central.get("/audit/verify", token=central.admin_token()).json()["ok"] is True
