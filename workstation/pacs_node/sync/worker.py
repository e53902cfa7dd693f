"""The worker that drains the sync queue: sends upstream, fetches downstream, retries.

One background thread claims due jobs from :class:`SyncQueue` and runs the handler for
their kind.  Built in:

- ``send_study`` / ``send_instances``: the pending instances go in batches to the
  target's :meth:`RemoteNode.send`; each instance the receiver confirms is marked sent
  at once, one it refuses for good (e.g. "cannot understand") is marked refused, and
  everything else stays pending.  A batch that fails as a whole (link down, server
  error) ends the run: the job goes back to the queue with exponential back-off and is
  resumed later with only what is still pending, so nothing is sent twice once
  confirmed, and nothing confirmed is ever lost.
- ``retrieve_study``: a study is brought in from the target (e.g. DICOMweb) into the
  local archive; duplicates are harmless, so a retry simply runs it again.

More kinds (reports, audit batches) register with :meth:`SyncWorker.register`, or with
:meth:`SyncWorker.register_batch` to run several due jobs of a kind and target in one
call (each still settled on its own).

``concurrency`` threads drain the queue together (default one).  Jobs of one study
never run at the same time: a thread skips a study another thread is working on, so a
study's jobs still run one after the other, in queue order; different studies' jobs
overlap (each waits mostly on the network).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from workstation.i18n import _, ngettext
from workstation.pacs_node.remote import InstanceOutcome, Progress, RemoteNode
from workstation.pacs_node.sync.jobs import Backoff, ItemState, JobState, JobView, Kind
from workstation.pacs_node.sync.queue import SyncQueue

if TYPE_CHECKING:
    from workstation.pacs_node.archive.archive import Archive

logger = logging.getLogger(__name__)

RemoteResolver = Callable[[str], RemoteNode]


@dataclass(frozen=True)
class RunResult:
    """How one run of a job ended."""

    state: JobState  # DONE, FAILED (for good) or QUEUED (retry later)
    error: str = ""


class JobContext:
    """What a handler gets: the job, the queue, the archive, the remote, a stop check."""

    def __init__(
        self, job: JobView, queue: SyncQueue, archive: Archive, resolve: RemoteResolver,
        stopping: threading.Event,
    ) -> None:  # fmt: skip
        self.job = job
        self.queue = queue
        self.archive = archive
        self._resolve = resolve
        self._stopping = stopping

    def remote(self) -> RemoteNode:
        return self._resolve(self.job.target)

    def should_stop(self) -> bool:
        """True when the worker stops or the job is no longer ours (cancelled)."""
        return self._stopping.is_set() or not self.queue.renew(self.job.id)


JobHandler = Callable[[JobContext], RunResult]
#: Runs several claimed jobs of one kind and target together; one result per job, in order.
BatchHandler = Callable[[list[JobContext]], list[RunResult]]


def is_permanent_refusal(outcome: InstanceOutcome) -> bool:
    """A refusal no retry can change: the receiver cannot understand or take the object."""
    code = outcome.status
    if outcome.ok or code is None:
        return False
    return code in (0x0122, 0xA900) or 0xC000 <= code <= 0xCFFF


class SyncWorker:
    """Background thread draining the queue (see the module docstring)."""

    def __init__(
        self,
        queue: SyncQueue,
        archive: Archive,
        resolve_remote: RemoteResolver,
        *,
        backoff: Backoff | None = None,
        poll_s: float = 2.0,
        batch_size: int = 50,
        concurrency: int = 1,
    ) -> None:
        self.queue = queue
        self.archive = archive
        self.resolve_remote = resolve_remote
        self.backoff = backoff or Backoff()
        self.poll_s = poll_s
        self.batch_size = batch_size
        self._stop = threading.Event()
        self._wake = threading.Event()
        self.concurrency = max(1, concurrency)
        self._threads: list[threading.Thread] = []
        #: Studies a thread of this worker is running a job of (claimed under the lock).
        self._busy_studies: set[str] = set()
        self._claim_lock = threading.Lock()
        self.handlers: dict[str, JobHandler] = {
            str(Kind.SEND_STUDY): self._send,
            str(Kind.SEND_INSTANCES): self._send,
            str(Kind.RETRIEVE_STUDY): _retrieve,
        }
        #: kind -> (handler, most jobs per run) for kinds that run in batches.
        self.batch_handlers: dict[str, tuple[BatchHandler, int]] = {}

    def register(self, kind: str, handler: JobHandler) -> None:
        self.handlers[kind] = handler
        self.batch_handlers.pop(kind, None)

    def register_batch(self, kind: str, handler: BatchHandler, *, limit: int) -> None:
        """Run jobs of ``kind`` in batches: with each claimed job, up to ``limit - 1``
        more due jobs of its kind and target go to ``handler`` together (a study's jobs
        in queue order; studies other threads are working on are left to them)."""
        self.handlers[kind] = lambda ctx: handler([ctx])[0]
        self.batch_handlers[kind] = (handler, max(1, limit))

    # -- thread ----------------------------------------------------------------------
    def start(self) -> SyncWorker:
        self._stop.clear()
        self._threads = [
            threading.Thread(target=self._loop, name=f"sync-worker-{i}", daemon=True)
            for i in range(self.concurrency)
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []

    def wake(self) -> None:
        """Look for due jobs now (call after enqueueing)."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                worked = self.run_once()
            except Exception:  # keep the worker alive whatever a job does
                logger.exception("sync worker iteration failed")
                worked = False
            if not worked:
                self._wake.wait(self.poll_s)
                self._wake.clear()

    # -- one job ---------------------------------------------------------------------
    def run_once(self) -> bool:
        """Run one due job (or one batch of them) if there is one; True if a job ran."""
        with self._claim_lock:
            job = self.queue.claim_next(kinds=list(self.handlers), busy_studies=self._busy_studies)
            if job is None:
                return False
            jobs = [job]
            batch = self.batch_handlers.get(job.kind)
            if batch is not None:
                jobs += self.queue.claim_batch(
                    job, limit=batch[1] - 1, busy_studies=self._busy_studies
                )
                jobs.sort(key=lambda j: j.id)  # queue order, so a study's jobs run in order
            studies = {j.study_instance_uid for j in jobs} - {""}
            self._busy_studies |= studies
        try:
            ctxs = [JobContext(j, self.queue, self.archive, self.resolve_remote, self._stop)
                    for j in jobs]  # fmt: skip
            try:
                if batch is not None:
                    results = batch[0](ctxs)
                    if len(results) != len(jobs):
                        raise RuntimeError(f"{len(results)} results for {len(jobs)} jobs")
                else:
                    results = [self.handlers[job.kind](ctxs[0])]
            except Exception as exc:  # a handler bug must not lose the jobs
                logger.exception("sync job(s) %s (%s) failed unexpectedly",
                                 [j.id for j in jobs], job.kind)  # fmt: skip
                results = [RunResult(JobState.QUEUED, f"{type(exc).__name__}: {exc}")] * len(jobs)
            self._conclude(list(zip(jobs, results, strict=True)))
        finally:
            with self._claim_lock:
                self._busy_studies -= studies
        return True

    def _conclude(self, runs: list[tuple[JobView, RunResult]]) -> None:
        """Settle the runs in one transaction (a job cancelled meanwhile stays so)."""
        ends: list[tuple[int, JobState, str, float]] = []
        for job, result in runs:
            state, delay = result.state, 0.0
            if state is JobState.QUEUED:
                if 0 < job.max_attempts <= job.attempts:
                    state = JobState.FAILED
                else:
                    delay = self.backoff.delay(job.attempts)
                    logger.info("sync job %d retries in %.0f s: %s", job.id, delay, result.error)
            ends.append((job.id, state, result.error, delay))
        self.queue.settle(ends)

    # -- send ------------------------------------------------------------------------
    def _send(self, ctx: JobContext) -> RunResult:
        job = ctx.job
        if job.kind == Kind.SEND_STUDY and job.total == 0:
            ctx.queue.add_items(
                job.id,
                [r.sop_instance_uid for r in ctx.archive.study_instances(job.study_instance_uid)],
            )
        pending = ctx.queue.items(job.id, ItemState.PENDING)
        if pending:
            remote = ctx.remote()
            for start in range(0, len(pending), self.batch_size):
                if ctx.should_stop():
                    return RunResult(JobState.QUEUED, _("Interrupted; will resume."))
                error = _send_batch(ctx, remote, pending[start : start + self.batch_size])
                if error:
                    return RunResult(JobState.QUEUED, error)
        return _send_verdict(ctx)


def _send_batch(ctx: JobContext, remote: RemoteNode, uids: list[str]) -> str:
    """Send one batch; record what the receiver confirmed.  Returns a run-ending error."""
    files, by_path, missing = [], {}, []
    for uid in uids:
        try:
            path = ctx.archive.instance_file(uid)
        except LookupError:
            missing.append((uid, _("No longer in the local archive.")))
            continue
        files.append(path)
        by_path[str(path)] = uid
    result = remote.send(files)
    sent, refused = [], list(missing)
    for outcome in result.outcomes:
        uid = by_path.get(outcome.sop_instance_uid, outcome.sop_instance_uid)
        if outcome.ok:
            sent.append(uid)
        elif is_permanent_refusal(outcome):
            refused.append((uid, outcome.reason))
    ctx.queue.record_items(ctx.job.id, sent, refused)
    if result.error:
        return result.error
    unconfirmed = len(files) - len(sent) - (len(refused) - len(missing))
    if unconfirmed:
        return ngettext(
            "{n} instance was not confirmed; it will be sent again.",
            "{n} instances were not confirmed; they will be sent again.",
            unconfirmed,
        ).format(n=unconfirmed)
    return ""


def _send_verdict(ctx: JobContext) -> RunResult:
    if ctx.queue.items(ctx.job.id, ItemState.PENDING):
        return RunResult(JobState.QUEUED, _("Some instances are still waiting to be sent."))
    refused = ctx.queue.items(ctx.job.id, ItemState.REFUSED)
    if refused:
        return RunResult(
            JobState.FAILED,
            ngettext(
                "{n} instance was refused by the receiver.",
                "{n} instances were refused by the receiver.",
                len(refused),
            ).format(n=len(refused)),
        )
    return RunResult(JobState.DONE)


def _retrieve(ctx: JobContext) -> RunResult:
    job = ctx.job

    def _progress(p: Progress) -> None:
        ctx.queue.progress(job.id, done=p.done, total=p.total or p.done)

    result = ctx.remote().retrieve(job.study_instance_uid, progress=_progress)
    if result.error:
        return RunResult(JobState.QUEUED, result.error)
    if result.failed:
        return RunResult(
            JobState.QUEUED,
            ngettext(
                "{n} instance could not be stored; retrying.",
                "{n} instances could not be stored; retrying.",
                result.failed,
            ).format(n=result.failed),
        )
    return RunResult(JobState.DONE)
