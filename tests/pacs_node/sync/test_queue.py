"""The sync queue on a real archive database: persistence, leases, claims, item states."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.pacs_node.dimse.data import write_study
from workstation.config import Settings
from workstation.pacs_node.remote import InstanceOutcome, Outcome, TransferResult
from workstation.pacs_node.sync.jobs import Backoff, ItemState, JobState, Kind
from workstation.pacs_node.sync.queue import SyncQueue
from workstation.pacs_node.sync.worker import SyncWorker


@pytest.fixture
def archive(settings: Settings) -> Iterator[Any]:
    from workstation.pacs_node.archive.archive import Archive

    with Archive.open(settings) as a:
        yield a


class FlakyReceiver:
    """A real in-process RemoteNode: confirms what it is told to, refuses one UID for good
    and drops the link after ``link_fails_after`` instances."""

    name = "flaky"

    def __init__(self, refuse: set[str], link_fails_after: int | None = None) -> None:
        self.refuse = refuse
        self.link_fails_after = link_fails_after
        self.received: list[str] = []

    def send(self, files: list[Path], **_: Any) -> TransferResult:
        from pydicom import dcmread

        result = TransferResult()
        for path in files:
            uid = str(dcmread(path, stop_before_pixels=True).SOPInstanceUID)
            if self.link_fails_after is not None and len(self.received) >= self.link_fails_after:
                result.error = "link down"
                result.add(InstanceOutcome(uid, Outcome.FAILED, "link down"))
                continue
            if uid in self.refuse:
                result.add(InstanceOutcome(uid, Outcome.FAILED, "cannot understand", status=0xC000))
                continue
            self.received.append(uid)
            result.add(InstanceOutcome(uid, Outcome.STORED))
        return result


def _stored_study(archive: Any, tmp_path: Path, n: int) -> tuple[str, list[str]]:
    files = write_study(tmp_path / "s", n)
    results = [archive.store_file(f) for f in files]
    return results[0].study_instance_uid, [r.sop_instance_uid for r in results]


def test_jobs_persist_and_leases_expire(archive: Any, tmp_path: Path) -> None:
    study, uids = _stored_study(archive, tmp_path, 3)
    first = SyncQueue(archive.engine, lease_s=0.5)
    job_id = first.enqueue_send_study(study, uids, target="central")
    claimed = first.claim_next()
    assert claimed is not None and claimed.id == job_id and claimed.state is JobState.RUNNING
    # Another process (a second queue object) cannot take it while the lease holds...
    second = SyncQueue(archive.engine, lease_s=0.5)
    second.owner = "otherhost:1:x"  # not a local process: only the lease decides
    assert second.claim_next() is None
    time.sleep(0.6)
    # ...and takes it once the lease ran out: the first worker "died".
    again = second.claim_next()
    assert again is not None and again.id == job_id and again.attempts == 2
    assert second.items(job_id, ItemState.PENDING) == uids


def test_a_dead_local_owner_is_released_at_once(archive: Any, tmp_path: Path) -> None:
    study, uids = _stored_study(archive, tmp_path, 1)
    q = SyncQueue(archive.engine, lease_s=3600)
    job_id = q.enqueue_send_study(study, uids, target="central")
    assert q.claim_next() is not None
    dead = SyncQueue(archive.engine)
    host = q.owner.split(":")[0]
    with archive.engine.begin() as conn:  # pretend a killed process (pid 2**22+7) held it
        from sqlalchemy import update

        from workstation.pacs_node.sync import schema as t

        conn.execute(update(t.jobs).values(lease_owner=f"{host}:{2**22 + 7}:dead"))
    assert dead.claim_next().id == job_id  # type: ignore[union-attr]


def test_partial_success_retries_only_what_failed(archive: Any, tmp_path: Path) -> None:
    study, uids = _stored_study(archive, tmp_path, 10)
    q = SyncQueue(archive.engine)
    job_id = q.enqueue_send_study(study, uids, target="flaky")
    receiver = FlakyReceiver(refuse={uids[7]}, link_fails_after=4)
    seen: list[Any] = []
    q.subscribe(seen.append)
    worker = SyncWorker(
        q, archive, lambda _t: receiver, backoff=Backoff(base_s=0.01, max_s=0.02), batch_size=3
    )
    assert worker.run_once()
    job = q.job(job_id)
    assert job is not None and job.state is JobState.QUEUED and "link down" in job.last_error
    assert job.done == 4 and len(receiver.received) == 4
    receiver.link_fails_after = None
    time.sleep(0.05)
    assert worker.run_once()
    job = q.job(job_id)
    assert job is not None and job.state is JobState.FAILED  # one refused for good
    assert job.done == 9 and job.failed == 1
    assert sorted(receiver.received) == sorted(u for u in uids if u != uids[7])  # each once
    assert q.items(job_id, ItemState.REFUSED) == [uids[7]]
    assert seen and seen[-1].state is JobState.FAILED
    # The user fixes the cause and retries: only the refused one goes again.
    receiver.refuse.clear()
    assert q.retry(job_id)
    assert worker.run_once()
    assert q.job(job_id).state is JobState.DONE  # type: ignore[union-attr]
    assert receiver.received.count(uids[7]) == 1 and len(receiver.received) == 10


def test_cancel_and_kinds(archive: Any, tmp_path: Path) -> None:
    study, uids = _stored_study(archive, tmp_path, 2)
    q = SyncQueue(archive.engine)
    job_id = q.enqueue_send_study(study, uids, target="central")
    assert q.cancel(job_id)
    assert q.claim_next() is None
    assert q.job(job_id).state is JobState.CANCELLED  # type: ignore[union-attr]
    inbox = q.enqueue_retrieve_study("1.2.3", target="central")
    assert q.job(inbox).kind == Kind.RETRIEVE_STUDY  # type: ignore[union-attr]
    assert q.pending_count() == 1
    assert [j.id for j in q.jobs(states=[JobState.QUEUED])] == [inbox]


def test_backoff_grows_and_is_capped() -> None:
    b = Backoff(base_s=10, factor=2, max_s=60, jitter=0)
    assert [b.delay(n) for n in (1, 2, 3, 4, 5)] == [10, 20, 40, 60, 60]


def test_a_batch_kind_runs_due_jobs_together_keeping_each_studys_order(archive: Any) -> None:
    """``register_batch``: one run takes the due jobs of the kind and target, oldest
    first; a batch does not take a job ahead of an older job of its study that is not
    due (backing off); another target's jobs wait for their own run; each job ends on its own, and a
    job cancelled meanwhile stays cancelled."""
    queue = SyncQueue(archive.engine)
    ids = {
        name: queue.enqueue("bundle", target=target, study_uid=study, payload={"n": name})
        for name, study, target in [
            ("a1", "1.1", "up"), ("b1", "1.2", "up"), ("a2", "1.1", "up"),
            ("c1", "1.3", "up"), ("c2", "1.3", "up"), ("b2", "1.2", "up"), ("x1", "1.4", "other"),
        ]
    }  # fmt: skip
    assert queue.claim_next(kinds=["bundle"]).id == ids["a1"]  # type: ignore[union-attr]
    queue.postpone(ids["a1"], 3600, "backing off")  # a1 not due: a2 must wait for it
    runs: list[list[str]] = []

    def handler(ctxs: list[Any]) -> list[Any]:
        from workstation.pacs_node.sync.worker import RunResult

        names = [ctx.queue.payload(ctx.job.id)["n"] for ctx in ctxs]
        runs.append(names)
        if "c1" in names:
            queue.cancel(ids["c2"])  # cancelled while its batch runs
        return [
            RunResult(JobState.FAILED, "refused") if n == "b2" else RunResult(JobState.DONE)
            for n in names
        ]

    worker = SyncWorker(queue, archive, lambda target: None)  # type: ignore[arg-type,return-value]
    worker.register_batch("bundle", handler, limit=10)
    assert worker.run_once()
    assert runs == [["b1", "c1", "c2", "b2"]]  # oldest first; not a2, not the other target
    state = {name: queue.job(i).state for name, i in ids.items()}  # type: ignore[union-attr]
    assert state == {
        "a1": JobState.QUEUED, "a2": JobState.QUEUED, "b1": JobState.DONE, "b2": JobState.FAILED,
        "c1": JobState.DONE, "c2": JobState.CANCELLED, "x1": JobState.QUEUED,
    }  # fmt: skip
    # A batch never takes a2 ahead of a1; on its own, as any due job, it runs next (a
    # version waiting for its signer's login must not hold back the study's others).
    assert worker.run_once() and runs[-1] == ["a2"]
    assert worker.run_once() and runs[-1] == ["x1"]
    assert not worker.run_once()  # a1 backs off
