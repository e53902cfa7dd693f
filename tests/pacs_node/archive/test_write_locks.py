"""Several writers on one SQLite archive file never lose a write to "database is locked".

A deferred SQLite transaction that has read and then wants to write fails at once
(SQLITE_BUSY, no busy-timeout wait) when another connection committed since its read:
the lock-upgrade failure of WAL mode.  The archive's index writer, the sync queue
(schema creation, claims, item records) and any other writer of the file therefore begin
their write transactions with ``BEGIN IMMEDIATE``.  Here all of them run at once on one
file - the index writer committing batches, the sync queue created on the fresh file and
then claiming and recording, and a third, audit-like writer - and none may fail.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from io import BytesIO
from typing import Any

from pydicom.uid import generate_uid

from tests.pacs_node.archive.synth import make_ct
from workstation.config import Settings
from workstation.pacs_node.archive import Archive
from workstation.pacs_node.archive.results import StoreStatus
from workstation.pacs_node.sync.jobs import JobState
from workstation.pacs_node.sync.queue import SyncQueue


def _instances(n_studies: int, per_series: int) -> list[bytes]:
    out = []
    for s in range(n_studies):
        study, series = generate_uid(), generate_uid()
        for i in range(1, per_series + 1):
            ds = make_ct(
                patient_id=f"LOCK{s}", study_uid=study, series_uid=series, instance_number=i
            )
            buf = BytesIO()
            ds.save_as(buf, enforce_file_format=True)
            out.append(buf.getvalue())
    return out


def _audit_writer(
    path: str, stop: threading.Event, errors: list[BaseException], written: list[int]
) -> None:
    """Another program's writer: a hash-chain-like insert that reads before it writes
    (``written[0]`` counts its commits as they happen)."""
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS probe_audit (id INTEGER PRIMARY KEY, prev INT)")
        while not stop.is_set():
            conn.execute("BEGIN IMMEDIATE")
            last = conn.execute("SELECT max(id) FROM probe_audit").fetchone()[0] or 0
            conn.execute("INSERT INTO probe_audit (prev) VALUES (?)", (last,))
            conn.execute("COMMIT")
            written[0] += 1
            time.sleep(0.001)  # a busy writer, not one that never lets go
    except BaseException as exc:  # noqa: BLE001 - reported by the test
        errors.append(exc)
    finally:
        conn.close()


def test_index_writer_sync_queue_and_a_third_writer_share_one_file(settings: Settings) -> None:
    assert settings.database_url.startswith("sqlite")
    payloads = _instances(n_studies=6, per_series=40)
    archive = Archive.open(settings)
    path = str(archive.engine.url.database)
    stop = threading.Event()
    errors: list[BaseException] = []
    audit_count = [0]
    sync_rounds = [0]

    def audit() -> None:
        _audit_writer(path, stop, errors, audit_count)

    def sync() -> None:
        try:
            # Created while the archive writes: the queue's schema is made on this file now.
            queue = SyncQueue(archive.engine, lease_s=30)
            while not stop.is_set():
                uids = [generate_uid() for _ in range(20)]
                job = queue.enqueue_send_study("1.2.3", uids, target="central")
                claimed = queue.claim_next()
                assert claimed is not None
                queue.record_items(job, uids[:10], [(uids[10], "refused")])
                queue.add_items(job, [generate_uid()])
                queue.finish(claimed.id, JobState.DONE)
                sync_rounds[0] += 1
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    def store(chunk: list[bytes], results: list[Any]) -> None:
        futures = [archive.submit_bytes(data, source="test") for data in chunk]
        results.extend(f.result() for f in futures)

    threads = [threading.Thread(target=audit), threading.Thread(target=sync)]
    for t in threads:
        t.start()
    time.sleep(0.05)
    results: list[Any] = []
    try:
        storers = [threading.Thread(target=store, args=(payloads[k::4], results)) for k in range(4)]
        for t in storers:
            t.start()
        for t in storers:
            t.join()
        # Every writer must get its turns: the third one's busy handler backs off and may
        # first get the lock once the archive's burst is over (bounded by its 30 s timeout).
        deadline = time.monotonic() + 30
        while (sync_rounds[0] < 3 or audit_count[0] < 1) and not errors:
            if time.monotonic() > deadline or not all(t.is_alive() for t in threads):
                break
            time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join()
    counts = archive.counts()
    archive.close()

    failed = [r.reason for r in results if r.status is not StoreStatus.STORED]
    assert failed == [], failed[:3]
    assert errors == [], errors[:3]
    assert counts["instances"] == len(payloads) and counts["studies"] == 6
    assert audit_count[0] > 0 and sync_rounds[0] >= 3
