"""What the activity panel lists: in-process jobs (imports, exports, interactive
retrieves and sends) and the persistent sync outbox/inbox, as one list of snapshots."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from workstation.i18n import _
from workstation.services.jobs import ItemFailure, JobKind, JobRegistry, JobSnapshot, JobState

if TYPE_CHECKING:
    from workstation.pacs_node.sync.queue import SyncQueue

logger = logging.getLogger(__name__)


def sync_snapshot(view: Any) -> JobSnapshot:
    """A sync-queue job as a snapshot; its id is negative (``-queue id``)."""
    state = JobState(view.state)
    if state is JobState.DONE and view.failed:
        state = JobState.PARTIAL
    inbound = str(view.direction) == "in"
    title = (
        _("Retrieve from {target} when online: {what}")
        if inbound
        else _("Send to {target} (outbox): {what}")
    ).format(target=view.target, what=view.description or view.study_instance_uid)
    message = ""
    if state in (JobState.DONE, JobState.PARTIAL):
        message = _("{done} of {total} confirmed by {target}").format(
            done=view.done, total=view.total, target=view.target
        )
    if state is JobState.QUEUED and view.attempts:
        message = _("Waiting to retry (attempt {n}): {error}").format(
            n=view.attempts, error=view.last_error or "-"
        )
    failures = (ItemFailure(view.study_instance_uid, view.last_error),) if view.failed else ()
    return JobSnapshot(
        id=-int(view.id),
        kind=JobKind.SYNC,
        title=title,
        state=state,
        done=int(view.done),
        total=int(view.total) or None,
        message=message,
        error=view.last_error if state is JobState.FAILED else "",
        failed_count=int(view.failed),
        failures=failures,
        created_at=view.created_at.timestamp(),
        finished_at=None,
        can_retry=state in (JobState.FAILED, JobState.CANCELLED),
    )


class Activity:
    """One list of every job; cancel and retry go to whichever side owns the job."""

    def __init__(self, jobs: JobRegistry, sync: SyncQueue | None = None) -> None:
        self.jobs = jobs
        self.sync = sync

    def subscribe(self, listener: Callable[[int], None]) -> None:
        self.jobs.subscribe(listener)
        if self.sync is not None:
            self.sync.subscribe(lambda view: listener(-int(view.id)))

    def snapshots(self) -> list[JobSnapshot]:
        out = self.jobs.snapshots()
        if self.sync is not None:
            try:
                out += [sync_snapshot(v) for v in self.sync.jobs(limit=200)]
            except Exception:
                logger.exception("the sync queue could not be read")
        return out

    def cancel(self, job_id: int) -> None:
        if job_id < 0 and self.sync is not None:
            self.sync.cancel(-job_id)
        else:
            self.jobs.cancel(job_id)

    def retry(self, job_id: int) -> int:
        """Retry; the id of the job that now runs (the same one for the outbox)."""
        if job_id < 0 and self.sync is not None:
            self.sync.retry(-job_id)
            return job_id
        return self.jobs.retry(job_id).id

    def clear_finished(self) -> None:
        self.jobs.clear_finished()
