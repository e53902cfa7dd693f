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
