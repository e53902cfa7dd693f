"""``JobState``: the one set of states of every job, local or queued for sync.

The in-process jobs (:mod:`workstation.services.jobs`: imports, exports, interactive
sends) and the persistent sync outbox/inbox (:mod:`workstation.pacs_node.sync`) share it,
so the activity panel shows both alike.  The sync queue stores the value (a string) in
its table; ``PARTIAL`` is what a finished job with failed items shows as.
"""

from __future__ import annotations

import enum

from workstation.i18n import _


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    #: Finished, but some items failed (see ``failures``).
    PARTIAL = "partial"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self not in (JobState.QUEUED, JobState.RUNNING)

    @property
    def label(self) -> str:
        return {
            JobState.QUEUED: _("Queued"),
            JobState.RUNNING: _("Running"),
            JobState.DONE: _("Done"),
            JobState.PARTIAL: _("Done with failures"),
            JobState.FAILED: _("Failed"),
            JobState.CANCELLED: _("Cancelled"),
        }[self]


#: Jobs that may still change: waiting or being worked on.
ACTIVE_STATES = (JobState.QUEUED, JobState.RUNNING)
