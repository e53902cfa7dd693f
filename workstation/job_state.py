"""``JobState``: the one set of states of every job, local or queued for sync.

The in-process jobs (:mod:`workstation.services.jobs`: imports, exports, interactive
sends) and the persistent sync outbox/inbox (:mod:`workstation.pacs_node.sync`) share it,
so the activity panel shows both alike.  The sync queue stores the value (a string) in
its table; ``PARTIAL`` is what a finished job with failed items shows as.
"""

from __future__ import annotations

from workstation.i18n.labelled_enum import N_, LabelledStrEnum


class JobState(LabelledStrEnum):
    QUEUED = "queued", N_("Queued")
    RUNNING = "running", N_("Running")
    DONE = "done", N_("Done")
    #: Finished, but some items failed (see ``failures``).
    PARTIAL = "partial", N_("Done with failures")
    FAILED = "failed", N_("Failed")
    CANCELLED = "cancelled", N_("Cancelled")

    @property
    def finished(self) -> bool:
        return self not in (JobState.QUEUED, JobState.RUNNING)


#: Jobs that may still change: waiting or being worked on.
ACTIVE_STATES = (JobState.QUEUED, JobState.RUNNING)
