"""Several worker threads drain the real queue (the archive's SQLite database): jobs
of different studies overlap, jobs of one study run one at a time and in queue order."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.harness.ports import wait_until
from workstation.config import Settings
from workstation.pacs_node.sync.jobs import ACTIVE_STATES, JobState
from workstation.pacs_node.sync.queue import SyncQueue
from workstation.pacs_node.sync.worker import JobContext, RunResult, SyncWorker


@pytest.fixture
def archive(settings: Settings) -> Iterator[Any]:
    from workstation.pacs_node.archive.archive import Archive

    with Archive.open(settings) as a:
        yield a


class Recorder:
    """A handler that takes its time and notes when each job of each study ran."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.lock = threading.Lock()
        self.spans: dict[str, list[tuple[int, float, float]]] = {}
        self.running = 0
        self.most_at_once = 0

    def __call__(self, ctx: JobContext) -> RunResult:
        with self.lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        start = time.monotonic()
        time.sleep(self.seconds)
        end = time.monotonic()
        with self.lock:
            self.running -= 1
            self.spans.setdefault(ctx.job.study_instance_uid, []).append((ctx.job.id, start, end))
        return RunResult(JobState.DONE)


def test_studies_overlap_and_one_studys_jobs_keep_their_order(archive: Any) -> None:
    queue = SyncQueue(archive.engine)
    studies = [f"1.2.826.0.1.3680043.2.1125.9.{i}" for i in range(4)]
    queued: dict[str, list[int]] = {s: [] for s in studies}
    for version in range(3):
        for study in studies:
            queued[study].append(
                queue.enqueue("test_job", target="central", study_uid=study,
                              description=f"v{version}")
            )  # fmt: skip
    recorder = Recorder(0.15)
    worker = SyncWorker(queue, archive, lambda _t: None, poll_s=0.05, concurrency=3)  # type: ignore[arg-type,return-value]
    worker.register("test_job", recorder)
    worker.start()
    try:
        wait_until(lambda: not queue.jobs(states=ACTIVE_STATES, limit=1), 60, "the queue to drain")
    finally:
        worker.stop()
    assert all(j.state is JobState.DONE for j in queue.jobs())
    assert recorder.most_at_once >= 2  # different studies ran side by side
    assert recorder.most_at_once <= 3  # bounded by the worker's concurrency
    for study, spans in recorder.spans.items():
        assert [job_id for job_id, _s, _e in spans] == queued[study]  # in queue order
        for (_a, _s, end), (_b, start, _e) in itertools.pairwise(spans):
            assert start >= end  # never two of one study at once


def test_a_busy_study_is_skipped_by_claim(archive: Any) -> None:
    queue = SyncQueue(archive.engine)
    first = queue.enqueue("test_job", target="central", study_uid="1.2.3")
    queue.enqueue("test_job", target="central", study_uid="1.2.3")
    other = queue.enqueue("test_job", target="central", study_uid="1.2.4")
    claimed = queue.claim_next(kinds=["test_job"])
    assert claimed is not None and claimed.id == first
    nxt = queue.claim_next(kinds=["test_job"], busy_studies={"1.2.3"})
    assert nxt is not None and nxt.id == other
    assert queue.claim_next(kinds=["test_job"], busy_studies={"1.2.3", "1.2.4"}) is None


class BatchRecorder:
    """A batch handler that takes its time and notes each batch: its jobs' studies,
    when it ran and how many batches ran at once."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.lock = threading.Lock()
        self.batches: list[tuple[list[int], set[str], float, float]] = []
        self.running = 0
        self.most_at_once = 0

    def __call__(self, ctxs: list[JobContext]) -> list[RunResult]:
        with self.lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        start = time.monotonic()
        time.sleep(self.seconds)
        end = time.monotonic()
        with self.lock:
            self.running -= 1
            studies = {c.job.study_instance_uid for c in ctxs}
            self.batches.append(([c.job.id for c in ctxs], studies, start, end))
        return [RunResult(JobState.DONE)] * len(ctxs)


def test_a_batch_takes_its_share_of_the_studies_so_threads_share_the_work(archive: Any) -> None:
    queue = SyncQueue(archive.engine)
    studies = [f"1.2.826.0.1.3680043.2.1125.8.{i}" for i in range(2)]
    queued: dict[str, list[int]] = {s: [] for s in studies}
    for _version in range(4):
        for study in studies:
            queued[study].append(queue.enqueue("batch_job", target="central", study_uid=study))
    recorder = BatchRecorder(0.5)
    # poll_s far beyond the test: the second thread must be woken, not find work by polling.
    worker = SyncWorker(queue, archive, lambda _t: None, poll_s=60, concurrency=2)  # type: ignore[arg-type,return-value]
    worker.register_batch("batch_job", recorder, limit=50)
    worker.start()
    try:
        wait_until(lambda: not queue.jobs(states=ACTIVE_STATES, limit=1), 30, "the queue to drain")
    finally:
        worker.stop()
    assert all(j.state is JobState.DONE for j in queue.jobs())
    # One batch per study (each thread took half the due studies), side by side.
    assert sorted(sorted(s) for _ids, s, _a, _b in recorder.batches) == [[s] for s in studies]
    assert recorder.most_at_once == 2
    for ids, (study,), _start, _end in recorder.batches:
        assert ids == queued[study]  # the study's jobs, in queue order


def test_an_idle_worker_sleeps_and_is_woken_by_a_queued_job(archive: Any) -> None:
    queue = SyncQueue(archive.engine)
    recorder = Recorder(0.0)
    worker = SyncWorker(queue, archive, lambda _t: None, poll_s=60, concurrency=3)  # type: ignore[arg-type,return-value]
    worker.register("test_job", recorder)
    worker.start()
    try:
        time.sleep(0.3)  # the threads found nothing and went to sleep
        cpu = time.process_time()
        time.sleep(2.0)
        idle_cpu = time.process_time() - cpu
        assert idle_cpu < 0.05, f"an idle outbox used {idle_cpu:.3f} s of CPU in 2 s"
        queued = time.monotonic()
        job = queue.enqueue("test_job", target="central", study_uid="1.2.3")
        wait_until(lambda: queue.job(job).state is JobState.DONE, 10, "the job to run")  # type: ignore[union-attr]
        assert time.monotonic() - queued < 5  # woken by the enqueue, not after poll_s
    finally:
        worker.stop()


def test_an_idle_worker_wakes_when_a_retry_becomes_due(archive: Any) -> None:
    from workstation.pacs_node.sync.jobs import Backoff

    queue = SyncQueue(archive.engine)
    runs: list[float] = []

    def flaky(ctx: JobContext) -> RunResult:
        runs.append(time.monotonic())
        return RunResult(JobState.QUEUED if len(runs) == 1 else JobState.DONE, "link down")

    worker = SyncWorker(
        queue, archive, lambda _t: None, poll_s=60, backoff=Backoff(base_s=1.0, jitter=0),  # type: ignore[arg-type,return-value]
    )  # fmt: skip
    worker.register("test_job", flaky)
    job = queue.enqueue("test_job", target="central", study_uid="1.2.3")
    worker.start()
    try:
        wait_until(lambda: queue.job(job).state is JobState.DONE, 20, "the retry to run")  # type: ignore[union-attr]
    finally:
        worker.stop()
    assert len(runs) == 2
    assert 0.9 <= runs[1] - runs[0] < 10  # when due, not after poll_s (60 s)
