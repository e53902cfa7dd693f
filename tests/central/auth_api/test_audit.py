"""The audit log: batches buffered offline are idempotent, admins query it, the hash chain
verifies, the database refuses UPDATE/DELETE, and an edited or deleted row breaks the chain
(seen by the API and by ``central-auth verify-audit``), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from contextlib import closing
from typing import Any

import pytest
import sqlalchemy as sa

from tests.central.auth_api.contract import ContractClient

pytestmark = pytest.mark.network

STUDY = "1.2.826.0.1.3680043.8.498.1"


def _event(study: str = STUDY, **extra: Any) -> dict[str, Any]:
    return {
        "client_event_id": str(uuid.uuid4()),
        "occurred_at": "2026-03-01T08:15:30.250000+02:00",
        "action": "study.opened",
        "workstation": "ws-reading-1",
        "study_instance_uid": study,
        "details": {"series": 3, "offline": True},
        **extra,
    }


def test_offline_batch_is_idempotent(central) -> None:  # type: ignore[no-untyped-def]
    doctor = central.token_for("doctor")
    study = f"{STUDY}.{uuid.uuid4().int % 10**12}"
    batch = [_event(study), _event(study, action="measurement.added"), _event(study)]
    batch.append(dict(batch[0]))  # the same event twice in one batch
    first = central.post("/audit/events", token=doctor, json={"events": batch})
    assert first.status_code == 200, first.text
    assert first.json()["recorded"] == 3 and first.json()["duplicates"] == 1
    seqs = [r["seq"] for r in first.json()["results"]]
    assert seqs[3] == seqs[0]
    # The workstation did not hear the answer and sends everything again.
    again = central.post("/audit/events", token=doctor, json={"events": batch})
    assert again.json()["recorded"] == 0 and again.json()["duplicates"] == 4
    assert [r["seq"] for r in again.json()["results"]] == seqs

    found = central.get(
        "/audit/events", token=central.admin_token(), params={"study": study}
    ).json()["events"]
    assert [e["seq"] for e in found] == sorted(set(seqs))
    e = found[0]
    assert e["actor"] == e["submitted_by"] == "harness-doctor"
    # The time is the server's; the client's claim is kept (in UTC) beside its details.
    assert e["occurred_at"] == e["recorded_at"]
    assert e["workstation"] == "ws-reading-1"
    assert e["details"] == {
        "offline": True,
        "series": 3,
        "claimed_occurred_at": "2026-03-01T06:15:30.250000Z",
    }


def test_query_filters_and_pages(central) -> None:  # type: ignore[no-untyped-def]
    operator = central.token_for("operator")
    tag = uuid.uuid4().hex[:8]
    events = [_event(action=f"import.file-{tag}") for _ in range(5)]
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    assert central.post("/audit/events", token=operator, json={"events": events}).status_code == 200
    after = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
    admin = central.admin_token()
    page = central.get(
        "/audit/events", token=admin, params={"action": f"import.file-{tag}", "limit": 2}
    ).json()
    assert len(page["events"]) == 2 and page["next_after_seq"] == page["events"][-1]["seq"]
    rest = central.get(
        "/audit/events",
        token=admin,
        params={"action": f"import.file-{tag}", "after_seq": page["next_after_seq"], "limit": 10},
    ).json()
    assert len(rest["events"]) == 3 and rest["next_after_seq"] is None
    assert {e["client_event_id"] for e in page["events"] + rest["events"]} == {
        e["client_event_id"] for e in events
    }
    window = central.get(
        "/audit/events",
        token=admin,
        params={
            "action": f"import.file-{tag}",
            "since": before.isoformat(),
            "until": after.isoformat(),
        },
    ).json()
    assert len(window["events"]) == 5
    assert (
        central.get("/audit/events", token=admin, params={"since": "yesterday"}).status_code == 400
    )


def test_batch_limits(central) -> None:  # type: ignore[no-untyped-def]
    token = central.token_for("operator")
    no_zone = central.post(
        "/audit/events", token=token, json={"events": [_event(occurred_at="2026-03-01T08:00:00")]}
    )
    assert no_zone.status_code == 400 and "time zone" in no_zone.json()["message"]
    huge = central.post(
        "/audit/events", token=token, json={"events": [_event(details={"x": "y" * 9000})]}
    )
    assert huge.status_code == 413
    too_many = central.post(
        "/audit/events", token=token, json={"events": [_event() for _ in range(1001)]}
    )
    assert too_many.status_code == 413 and "1000" in too_many.json()["message"]


def test_chain_verifies(central) -> None:  # type: ignore[no-untyped-def]
    report = central.get("/audit/verify", token=central.admin_token()).json()
    assert report["ok"] is True and report["problem"] is None
    assert report["events"] == report["head_seq"] > 0


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def tamper_site(request, auth_api_factory) -> ContractClient:  # type: ignore[no-untyped-def]
    """A private instance: these tests damage its audit log on purpose."""
    url = None
    if request.param == "postgres":
        url = request.getfixturevalue("postgres").new_database("tamper")
    return ContractClient(auth_api_factory(name=f"tamper_{request.param}", database_url=url))


def _engine(site: ContractClient) -> sa.Engine:
    url = site.server.database_url or f"sqlite:///{site.server.data_dir / 'central-auth.db'}"
    return sa.create_engine(url)


def _as_attacker(engine: sa.Engine, *statements: str) -> None:
    """Drop the append-only triggers and run raw SQL, as someone with database access."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        else:
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_update")
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_delete")
        for statement in statements:
            conn.exec_driver_sql(statement)


def _verify(site: ContractClient) -> dict[str, Any]:
    return site.get("/audit/verify", token=site.admin_token()).json()


def _verify_cli(site: ContractClient) -> tuple[int, dict[str, Any]]:
    cli = site.server.cli("verify-audit", "--json")
    return cli.returncode, json.loads(cli.stdout)


def test_edited_row_breaks_the_chain(tamper_site: ContractClient) -> None:
    token = tamper_site.token_for("doctor")
    sent = tamper_site.post(
        "/audit/events", token=token, json={"events": [_event() for _ in range(4)]}
    )
    target = sent.json()["results"][1]["seq"]
    assert _verify(tamper_site)["ok"] is True

    engine = _engine(tamper_site)
    with closing(engine.connect()) as conn, pytest.raises(sa.exc.DBAPIError, match="append-only"):
        conn.exec_driver_sql(f"UPDATE audit_events SET actor = 'someone-else' WHERE seq = {target}")
    with closing(engine.connect()) as conn, pytest.raises(sa.exc.DBAPIError, match="append-only"):
        conn.exec_driver_sql(f"DELETE FROM audit_events WHERE seq = {target}")

    _as_attacker(engine, f"UPDATE audit_events SET actor = 'someone-else' WHERE seq = {target}")
    api = _verify(tamper_site)
    assert api["ok"] is False and api["first_bad_seq"] == target and "edited" in api["problem"]
    assert _verify_cli(tamper_site) == (3, api)  # the command sees the same damage

    # Restored, the chain holds again.
    _as_attacker(engine, f"UPDATE audit_events SET actor = 'harness-doctor' WHERE seq = {target}")
    assert _verify(tamper_site)["ok"] is True

    # A deleted event in the middle leaves a gap.
    with engine.connect() as conn:
        saved = (
            conn.execute(sa.text(f"SELECT * FROM audit_events WHERE seq = {target}"))
            .mappings()
            .one()
        )
    _as_attacker(engine, f"DELETE FROM audit_events WHERE seq = {target}")
    api = _verify(tamper_site)
    assert api["ok"] is False and api["first_bad_seq"] == target and "missing" in api["problem"]
    with engine.begin() as conn:
        columns = ", ".join(saved.keys())
        values = ", ".join(f":{k}" for k in saved)
        conn.execute(
            sa.text(f"INSERT INTO audit_events ({columns}) VALUES ({values})"), dict(saved)
        )
    assert _verify(tamper_site)["ok"] is True

    # Deleting the newest event is noticed at the chain's head.
    _as_attacker(engine, "DELETE FROM audit_events WHERE seq = (SELECT max(seq) FROM audit_events)")
    api = _verify(tamper_site)
    assert api["ok"] is False and "end of the log" in api["problem"]
    engine.dispose()
