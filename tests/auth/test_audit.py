"""The local audit log: append-only (the database refuses edits), hash-chained (a forged
row breaks the chain), forwarded in order with a confirmed cursor."""

from __future__ import annotations

import itertools
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from workstation.auth.audit import GENESIS_HASH, AuditAction, AuditLog, Outcome
from workstation.auth.audit_forwarder import AuditForwarder, ForwardError
from workstation.auth.db import AUTH_SCRIPTS, VERSION_TABLE, AuthDatabase
from workstation.storage.migrate import current_revisions, ensure_schema, script_heads


def _fill(audit: AuditLog, n: int) -> None:
    for i in range(n):
        audit.record(
            AuditAction.STUDY_OPEN,
            actor="dmitri",
            role="doctor",
            study_uid=f"1.2.826.0.1.{i}",
            series=i,
        )


def test_chain_links_every_event(audit: AuditLog) -> None:
    _fill(audit, 5)
    events = audit.events()
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))
    assert audit.verify_chain() is None
    assert events[2].detail == {"series": 2}


def test_database_refuses_update_and_delete(audit: AuditLog) -> None:
    _fill(audit, 2)
    for statement in (
        "UPDATE auth_audit_events SET actor='eve' WHERE seq=1",
        "DELETE FROM auth_audit_events WHERE seq=2",
    ):
        with pytest.raises(DatabaseError, match="append-only"), audit.db.write() as conn:
            conn.execute(text(statement))
    assert audit.count() == 2 and audit.verify_chain() is None


def test_an_edited_row_breaks_the_chain(audit: AuditLog, tmp_path: Path) -> None:
    _fill(audit, 4)
    # Someone with the database file drops the trigger and rewrites history.
    con = sqlite3.connect(tmp_path / "auth.sqlite3")
    con.execute("DROP TRIGGER auth_audit_events_no_update")
    con.execute("UPDATE auth_audit_events SET study_uid='1.2.3' WHERE seq=3")
    con.commit()
    con.close()
    assert audit.verify_chain() == 3


def test_auth_lineage_reaches_the_scripts_head_once(tmp_path: Path) -> None:
    db = AuthDatabase.open(f"sqlite:///{tmp_path / 'h.sqlite3'}")
    try:
        heads = script_heads(AUTH_SCRIPTS)
        assert heads and current_revisions(db.engine, VERSION_TABLE) == heads
        assert ensure_schema(db.engine, AUTH_SCRIPTS, VERSION_TABLE) is False  # current
    finally:
        db.close()


def test_reopen_keeps_the_chain(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    first = AuthDatabase.open(url)
    AuditLog(first).record(AuditAction.LOGIN, actor="a", role="admin")
    first.close()
    again = AuthDatabase.open(url)
    log = AuditLog(again)
    log.record(AuditAction.LOGOUT, actor="a", role="admin", outcome=Outcome.SUCCESS)
    assert log.verify_chain() is None and log.count() == 2
    again.close()


def test_forwarder_sends_in_order_and_resumes(audit: AuditLog) -> None:
    _fill(audit, 7)
    received: list[dict[str, Any]] = []
    refuse = {"now": True}

    def post(batch: list[dict[str, Any]]) -> None:
        if refuse["now"]:
            raise ForwardError("central down")
        json.dumps(batch)  # what goes on the wire must be JSON
        received.extend(batch)

    fwd = AuditForwarder(audit, post, target="https://central.test", batch_size=3)
    with pytest.raises(ForwardError):
        fwd.forward_pending()
    assert fwd.confirmed_seq() == 0 and fwd.pending() == 7
    refuse["now"] = False
    assert fwd.forward_pending() == 7
    assert [e["details"]["local_seq"] for e in received] == list(range(1, 8))
    assert len({e["client_event_id"] for e in received}) == 7
    _fill(audit, 2)
    assert fwd.forward_pending() == 2 and fwd.pending() == 0
    # a new forwarder for the same target continues from the stored cursor
    assert AuditForwarder(audit, post, target="https://central.test").forward_pending() == 0


@pytest.mark.postgres
def test_audit_on_postgresql(postgres: Any) -> None:
    db = AuthDatabase.open(postgres.new_database())
    try:
        log = AuditLog(db)
        _fill(log, 3)
        assert log.verify_chain() is None
        with pytest.raises(DatabaseError, match="append-only"), db.write() as conn:
            conn.execute(text("DELETE FROM auth_audit_events"))
        assert log.count() == 3
    finally:
        db.close()
