"""Background jobs with progress, cancel, failure reasons and retry (no Qt).

The activity panel lists :meth:`JobRegistry.snapshots`; listeners hear about every change
(from the worker thread: hand over to the GUI thread with a queued signal).

::

    job = registry.submit(JobKind.IMPORT, "Import from /media/cdrom", run_import)
    # run_import(ctx) calls ctx.progress(done, total), checks ctx.cancelled,
    # ctx.fail_item(name, reason) for each failure, and returns a summary string.
"""

from __future__ import annotations

import enum
import itertools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from workstation.events import Event
from workstation.i18n import _
from workstation.job_state import JobState

logger = logging.getLogger(__name__)

#: At most this many failed items are kept per job (the count is always exact).
MAX_FAILURES_KEPT = 1000


class JobKind(enum.StrEnum):
    IMPORT = "import"
    RETRIEVE = "retrieve"
    SEND = "send"
    EXPORT = "export"
    DELETE = "delete"
    SYNC = "sync"

    @property
    def label(self) -> str:
        return {
            JobKind.IMPORT: _("Import"),
            JobKind.RETRIEVE: _("Retrieve"),
            JobKind.SEND: _("Send"),
            JobKind.EXPORT: _("Export"),
            JobKind.DELETE: _("Delete"),
            JobKind.SYNC: _("Sync"),
        }[self]


@dataclass(frozen=True)
class ItemFailure:
    #: What failed: a file name, a SOP Instance UID.
    item: str
    #: Why, in words a person can act on.
    reason: str


@dataclass(frozen=True)
class JobSnapshot:
    """A job as it stands (a new value after every change; a new job is queued)."""

    id: int
    kind: JobKind
    title: str
    state: JobState = JobState.QUEUED
    done: int = 0
    total: int | None = None
    message: str = ""
    error: str = ""
    failed_count: int = 0
    failures: tuple[ItemFailure, ...] = ()
    created_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    can_retry: bool = False
    #: Free-form result of the job (e.g. an ImportSummary), for dialogs that show it.
    result: object = None

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, self.done / self.total)


class JobCancelled(Exception):
    """Raise from a job function to end it as cancelled."""


class JobContext:
    """What a running job function gets: report progress, record failures, see cancel."""

    def __init__(self, job: Job) -> None:
        self._job = job

    @property
    def cancelled(self) -> bool:
        return self._job.cancel_event.is_set()

    @property
    def cancel_event(self) -> threading.Event:
        return self._job.cancel_event

    def progress(self, done: int, total: int | None = None, message: str = "") -> None:
        self._job.update(done=done, total=total, message=message)

    def fail_item(self, item: str, reason: str) -> None:
        self._job.add_failure(ItemFailure(item, reason))

    def check_cancelled(self) -> None:
        if self.cancelled:
            raise JobCancelled()


JobFunction = Callable[[JobContext], object]


#: A job in one of these states may run again (when its kind is retryable).
RETRYABLE_STATES = frozenset({JobState.FAILED, JobState.PARTIAL, JobState.CANCELLED})


@dataclass(eq=False)
class Job:
    """A job's function and its state, a :class:`JobSnapshot` replaced under a lock."""

    registry: JobRegistry = field(repr=False)
    id: int
    kind: JobKind
    title: str
    fn: JobFunction
    retryable: bool
    cancel_event: threading.Event = field(default_factory=threading.Event, init=False)
    future: Future[None] | None = field(default=None, init=False)
    _now: JobSnapshot = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self._now = JobSnapshot(self.id, self.kind, self.title)

    def snapshot(self) -> JobSnapshot:
        with self._lock:
            return self._now

    def update(self, *, done: int, total: int | None, message: str) -> None:
        with self._lock:
            now = self._now
            self._now = replace(
                now,
                done=done,
                total=now.total if total is None else total,
                message=message or now.message,
            )
        self.registry._changed(self.id)

    def add_failure(self, failure: ItemFailure) -> None:
        with self._lock:
            now = self._now
            kept = len(now.failures) < MAX_FAILURES_KEPT
            self._now = replace(
                now,
                failed_count=now.failed_count + 1,
                failures=(*now.failures, failure) if kept else now.failures,
            )
        self.registry._changed(self.id)

    def _set(self, state: JobState, *, error: str = "", result: object = None) -> None:
        with self._lock:
            now = self._now
            self._now = replace(
                now,
                state=state,
                error=error or now.error,
                result=now.result if result is None else result,
                finished_at=time.time() if state.finished else now.finished_at,
                can_retry=self.retryable and state in RETRYABLE_STATES,
            )
        self.registry._changed(self.id)

    def run(self) -> None:
        if self.cancel_event.is_set():
            self._set(JobState.CANCELLED)
            return
        self._set(JobState.RUNNING)
        try:
            result = self.fn(JobContext(self))
        except JobCancelled:
            self._set(JobState.CANCELLED)
            return
        except Exception as exc:
            logger.exception("job %d (%s) failed", self.id, self.kind)
            self._set(JobState.FAILED, error=_error_text(exc))
            return
        if self.cancel_event.is_set():
            self._set(JobState.CANCELLED, result=result)
        elif self.snapshot().failed_count:
            self._set(JobState.PARTIAL, result=result)
        else:
            self._set(JobState.DONE, result=result)

    def cancel(self) -> None:
        self.cancel_event.set()
        self.registry._changed(self.id)


def _error_text(exc: Exception) -> str:
    text = str(exc).strip()
    return text or _("An unexpected error occurred ({kind}); details are in the log.").format(
        kind=type(exc).__name__
    )


@dataclass
class JobRegistry:
    """Runs jobs on a small thread pool and keeps their history for the activity panel."""

    max_workers: int = 2
    _executor: ThreadPoolExecutor = field(init=False)
    _jobs: dict[int, Job] = field(default_factory=dict, init=False)
    changed: Event = field(default_factory=lambda: Event("jobs"), init=False)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1), init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self._executor = ThreadPoolExecutor(self.max_workers, thread_name_prefix="job")

    def subscribe(self, listener: Callable[[int], None]) -> None:
        """Call ``listener(job_id)`` after every change of a job (from its thread)."""
        self.changed.connect(listener)

    def _changed(self, job_id: int) -> None:
        self.changed.emit(job_id)

    def submit(self, kind: JobKind, title: str, fn: JobFunction, *, retryable: bool = True) -> Job:
        with self._lock:
            job = Job(self, next(self._ids), kind, title, fn, retryable)
            self._jobs[job.id] = job
        job.future = self._executor.submit(job.run)
        self._changed(job.id)
        return job

    def get(self, job_id: int) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def snapshots(self) -> list[JobSnapshot]:
        with self._lock:
            jobs = list(self._jobs.values())
        return [j.snapshot() for j in jobs]

    def cancel(self, job_id: int) -> None:
        job = self.get(job_id)
        if job is not None:
            job.cancel()

    def retry(self, job_id: int) -> Job:
        """Run a failed, partial or cancelled job's function again as a new job."""
        job = self.get(job_id)
        if job is None or not job.snapshot().can_retry:
            raise ValueError(f"job {job_id} cannot be retried")
        return self.submit(job.kind, job.title, job.fn, retryable=job.retryable)

    def clear_finished(self) -> None:
        with self._lock:
            for job_id in [i for i, j in self._jobs.items() if j.snapshot().state.finished]:
                del self._jobs[job_id]

    def wait(self, job: Job, timeout: float | None = None) -> JobSnapshot:
        if job.future is not None:
            job.future.result(timeout)
        return job.snapshot()

    def shutdown(self) -> None:
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            job.cancel_event.set()
        self._executor.shutdown(wait=True, cancel_futures=True)
