"""Values of the sync queue: job states, what the activity panel reads, back-off."""

from __future__ import annotations

import datetime as dt
import enum
import random
from dataclasses import dataclass
from typing import Any

from workstation.job_state import ACTIVE_STATES, JobState

__all__ = ["ACTIVE_STATES", "Backoff", "Direction", "ItemState", "JobState", "JobView", "Kind"]


class Direction(enum.StrEnum):
    OUT = "out"  # outbox: from here to the central archive
    IN = "in"  # inbox: from the central archive to here


class ItemState(enum.StrEnum):
    PENDING = "pending"
    #: Confirmed by the receiving side.
    SENT = "sent"
    #: Refused for good (e.g. the server cannot read it); not retried.
    REFUSED = "refused"


class Kind(enum.StrEnum):
    SEND_STUDY = "send_study"
    SEND_INSTANCES = "send_instances"
    RETRIEVE_STUDY = "retrieve_study"


@dataclass(frozen=True)
class JobView:
    """One job as the activity panel shows it."""

    id: int
    direction: Direction
    kind: str
    target: str
    state: JobState
    description: str
    study_instance_uid: str
    total: int
    done: int
    failed: int
    attempts: int
    #: 0 means: retry until it works.
    max_attempts: int
    last_error: str
    next_attempt_at: dt.datetime
    created_at: dt.datetime
    updated_at: dt.datetime

    @property
    def progress(self) -> float:
        return (self.done / self.total) if self.total else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "direction": str(self.direction),
            "kind": self.kind,
            "target": self.target,
            "state": str(self.state),
            "description": self.description,
            "study_instance_uid": self.study_instance_uid,
            "total": self.total,
            "done": self.done,
            "failed": self.failed,
            "attempts": self.attempts,
            "max_attempts": self.max_attempts,
            "last_error": self.last_error,
            "next_attempt_at": self.next_attempt_at.isoformat(),
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


@dataclass(frozen=True)
class Backoff:
    """Exponential back-off with jitter: ``base * factor**(attempt-1)``, capped."""

    base_s: float = 10.0
    factor: float = 2.0
    max_s: float = 15 * 60.0
    jitter: float = 0.2

    def delay(self, attempt: int) -> float:
        raw = min(self.max_s, self.base_s * self.factor ** max(0, attempt - 1))
        return raw * (1 + random.uniform(-self.jitter, self.jitter))


def utcnow() -> dt.datetime:
    """Naive UTC, as stored (the archive's convention)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
