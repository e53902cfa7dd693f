"""What a remote archive looks like to the rest of the workstation, by DIMSE or DICOMweb.

:class:`RemoteNode` is implemented by :class:`workstation.pacs_node.dimse.scu.DimseNode`
and :class:`workstation.pacs_node.dicomweb.client.DicomWebNode`.  Searches return pydicom
data sets (what C-FIND answers, or DICOM JSON turned into data sets); transfers return a
:class:`TransferResult` with one :class:`InstanceOutcome` per instance where the
protocol tells us about each (C-GET, C-STORE, STOW-RS, WADO-RS) and counts where it
only gives counts (C-MOVE).
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from pydicom.dataset import Dataset


class QueryLevel(enum.StrEnum):
    PATIENT = "PATIENT"
    STUDY = "STUDY"
    SERIES = "SERIES"
    IMAGE = "IMAGE"


class Matches(list[Dataset]):
    """Search matches; ``truncated`` when the peer had more than ``cap`` and we stopped.

    Searches without an explicit ``limit`` stop at a cap from the settings
    (``node.max_find_results``) so a huge or hostile peer cannot make us hold without end.
    """

    def __init__(self, items: Iterable[Dataset] = (), *, cap: int | None = None) -> None:
        super().__init__(items)
        self.cap = cap
        self.truncated = False


class Outcome(enum.StrEnum):
    #: Stored at the receiving end (here: in our archive; upstream: confirmed by it).
    STORED = "stored"
    #: Already there with the same content.
    DUPLICATE = "duplicate"
    #: Stored with a warning (coercion, elements discarded).
    WARNING = "warning"
    FAILED = "failed"


@dataclass(frozen=True)
class InstanceOutcome:
    sop_instance_uid: str
    outcome: Outcome
    #: A sentence a person can act on (empty when stored).
    reason: str = ""
    #: The DIMSE status or HTTP status behind the outcome, when there was one.
    status: int | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is not Outcome.FAILED


@dataclass
class TransferResult:
    """The end of a retrieve or send: counts, and per-instance outcomes where known."""

    completed: int = 0
    failed: int = 0
    warning: int = 0
    outcomes: list[InstanceOutcome] = field(default_factory=list)
    cancelled: bool = False
    #: Set when the whole operation failed (peer unreachable, refused, ...).
    error: str = ""
    #: The final DIMSE status, when the protocol has one.
    status: int | None = None
    bytes_transferred: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.error and not self.failed and not self.cancelled

    def add(self, outcome: InstanceOutcome) -> None:
        self.outcomes.append(outcome)
        if outcome.outcome is Outcome.FAILED:
            self.failed += 1
        elif outcome.outcome is Outcome.WARNING:
            self.warning += 1
        else:
            self.completed += 1

    def failed_uids(self) -> list[str]:
        return [o.sop_instance_uid for o in self.outcomes if not o.ok]

    def as_dict(self) -> dict[str, object]:
        return {
            "completed": self.completed,
            "failed": self.failed,
            "warning": self.warning,
            "cancelled": self.cancelled,
            "error": self.error,
            "status": None if self.status is None else f"0x{self.status:04X}",
            "bytes": self.bytes_transferred,
            "seconds": round(self.seconds, 3),
            "instances": [
                {"sop_instance_uid": o.sop_instance_uid, "outcome": str(o.outcome),
                 "reason": o.reason}
                for o in self.outcomes
            ],
        }  # fmt: skip


@dataclass(frozen=True)
class Progress:
    """Where a transfer stands; ``total`` is None until the peer tells us."""

    done: int
    total: int | None
    failed: int = 0
    bytes_done: int = 0
    elapsed_s: float = 0.0

    @property
    def rate(self) -> float:
        return self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        if not self.total or not self.rate:
            return None
        return max(self.total - self.done, 0) / self.rate


ProgressCallback = Callable[[Progress], None]


class CancelToken:
    """Set from any thread to stop a transfer between instances."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


class ProgressTracker:
    """Counts instances and bytes and reports to an optional callback."""

    def __init__(self, callback: ProgressCallback | None, total: int | None = None) -> None:
        self._callback = callback
        self._start = time.monotonic()
        self.total = total
        self.done = 0
        self.failed = 0
        self.bytes_done = 0

    def step(self, *, ok: bool = True, nbytes: int = 0, total: int | None = None) -> None:
        if total is not None:
            self.total = total
        self.done += 1
        self.failed += 0 if ok else 1
        self.bytes_done += nbytes
        self.report()

    def report(self) -> None:
        if self._callback is not None:
            self._callback(
                Progress(self.done, self.total, self.failed, self.bytes_done, self.elapsed)
            )

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._start

    def finish(self, result: TransferResult) -> TransferResult:
        """Stamp ``result`` with the bytes counted and the time taken; return it."""
        result.bytes_transferred = self.bytes_done
        result.seconds = self.elapsed
        return result


@runtime_checkable
class RemoteNode(Protocol):
    """A remote archive we can search, retrieve from into our archive, and send to."""

    name: str

    def find(
        self,
        level: QueryLevel,
        filters: Mapping[str, str],
        *,
        limit: int | None = None,
        cancel: CancelToken | None = None,
    ) -> list[Dataset]:
        """Search at ``level`` with attribute-keyword filters (DICOM matching rules)."""
        ...

    def retrieve(
        self,
        study_uid: str,
        series_uid: str | None = None,
        sop_uids: Iterable[str] | None = None,
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> TransferResult:
        """Bring a study, a series or some instances into the local archive."""
        ...

    def send(
        self,
        files: Iterable[Path],
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> TransferResult:
        """Send Part 10 files; each instance's outcome is the peer's answer for it."""
        ...
