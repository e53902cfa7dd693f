"""Audit writes never cost the archive a write: an import running while events are
recorded stores every file (the auth tables are in their own SQLite file because a
second writer on the archive's file makes its index writer fail with "locked")."""

from __future__ import annotations

import threading
from pathlib import Path

from tests.app.synthetic import write_study
from workstation.auth.audit import AuditLog
from workstation.auth.db import AuthDatabase, auth_database_url
from workstation.pacs_node.archive.archive import Archive
from workstation.pacs_node.archive.importing import Importer


def test_import_while_auditing_loses_nothing(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert auth_database_url(settings) != settings.database_url
    source = tmp_path / "src"
    for k in range(10):
        write_study(source / f"s{k}", patient_name=f"C^{k}", patient_id=f"C{k}", images=10, size=32)
    archive = Archive.open(settings)
    db = AuthDatabase.from_settings(settings)
    log = AuditLog(db)
    stop, written = threading.Event(), [0]

    def audit_continuously() -> None:
        while not stop.is_set():
            log.record("study_open", actor="dmitri", role="doctor")
            written[0] += 1

    worker = threading.Thread(target=audit_continuously)
    worker.start()
    try:
        summary = Importer(archive).run([source])
    finally:
        stop.set()
        worker.join()
        archive.close()
    assert summary.stored == 100 and summary.rejected == []
    assert written[0] > 0 and log.verify_chain() is None
    db.close()
