"""The import pipeline: plan inputs, read them on worker threads, store, summarise.

Worker threads read an input and hand its bytes to ``Archive.submit_bytes`` (header-only
parse, file written and fsynced); the archive's writer thread indexes whatever has queued
up in one transaction.  Keeping many inputs in flight makes those batches large.

Every input ends as *stored*, *duplicate* or *rejected* (with a reason a person can act
on; every rejected input is copied to quarantine beside its reason, up to
``import.max_quarantine_bytes``; larger ones, and inputs refused unread such as zip
bombs, leave the reason file alone and the summary says so).  A SOP Instance UID that
is already stored with other content is a *conflict*, handled by
``import.conflict_policy`` ("keep": the stored one stays and the newcomer goes to
quarantine; "replace": the newcomer wins and the old file goes to quarantine).  Patients
whose Patient ID is known under another name or birth date are listed in the summary
and never merged.  Importing the same media twice stores nothing new.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workstation.i18n import _, ngettext
from workstation.pacs_node.archive import part10
from workstation.pacs_node.archive.archive import Archive
from workstation.pacs_node.archive.importing.items import InputItem, RefusedInput
from workstation.pacs_node.archive.importing.planner import plan_inputs
from workstation.pacs_node.archive.records import PatientConflictRecord
from workstation.pacs_node.archive.results import StoreResult, StoreStatus

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportProgress:
    """Where an import stands; rate and ETA follow from the counts and the time taken."""

    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int
    elapsed_seconds: float
    stored: int
    duplicates: int
    rejected: int

    @property
    def rate(self) -> float:
        """Files per second so far."""
        return self.files_done / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0

    @property
    def eta_seconds(self) -> float | None:
        """Seconds left at the current rate, None until known."""
        rate = self.rate
        if not self.files_done or rate <= 0:
            return None
        return (self.files_total - self.files_done) / rate


@dataclass
class RejectedInput:
    origin: str
    reason: str
    status: str = "rejected"
    quarantine_path: Path | None = None
    #: Set when only the reason is in quarantine, not a copy of the input (and why).
    quarantine_note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "reason": self.reason,
            "status": self.status,
            "quarantine_path": str(self.quarantine_path) if self.quarantine_path else None,
            "quarantine_note": self.quarantine_note,
        }


@dataclass
class ImportSummary:
    stored: int = 0
    duplicates: int = 0
    rejected: list[RejectedInput] = field(default_factory=list)
    #: Inputs that are not DICOM at all (a readme beside the images): noted, not failures.
    skipped: list[str] = field(default_factory=list)
    #: Instances refused because another version is stored (policy "keep"), or replaced.
    conflicts: int = 0
    replaced: int = 0
    patient_conflicts: list[PatientConflictRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    study_uids: set[str] = field(default_factory=set)
    files_total: int = 0
    bytes_total: int = 0
    elapsed_seconds: float = 0.0
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return not self.rejected and not self.cancelled

    def to_json(self) -> dict[str, Any]:
        return {
            "stored": self.stored,
            "duplicates": self.duplicates,
            "rejected": len(self.rejected),
            "skipped": len(self.skipped),
            "conflicts": self.conflicts,
            "replaced": self.replaced,
            "files_total": self.files_total,
            "bytes_total": self.bytes_total,
            "elapsed_seconds": round(self.elapsed_seconds, 3),
            "cancelled": self.cancelled,
            "studies": sorted(self.study_uids),
            "rejected_files": [r.to_json() for r in self.rejected],
            "skipped_files": list(self.skipped),
            "patient_conflicts": [c.to_json() for c in self.patient_conflicts],
            "notes": list(self.notes),
        }


ProgressCallback = Callable[[ImportProgress], None]


class Importer:
    """Imports paths into an archive; one instance per import run or reused serially."""

    def __init__(
        self,
        archive: Archive,
        *,
        workers: int = 16,
        max_in_flight: int = 256,
    ) -> None:
        self.archive = archive
        self.settings = archive.settings.import_
        self.workers = max(1, workers)
        self.max_in_flight = max(self.workers, max_in_flight)

    def run(
        self,
        paths: Sequence[Path | str],
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        source: str = "import",
    ) -> ImportSummary:
        started = time.monotonic()
        cancel = cancel or threading.Event()
        conflicts_before = self.archive.last_patient_conflict_id()
        plan = plan_inputs([Path(p) for p in paths], self.settings)
        summary = ImportSummary(
            notes=list(plan.notes),
            files_total=len(plan.items) + len(plan.refused),
            bytes_total=plan.total_bytes,
        )
        for refusal in plan.refused:
            rejected = RejectedInput(refusal.origin, refusal.reason)
            if refusal.keep:
                self._record_without_copy(rejected, _("refused before it was read"))
            summary.rejected.append(rejected)
        logger.info("import started: %d inputs, %d bytes", len(plan.items), plan.total_bytes)
        tracker = _Tracker(summary, started, len(plan.refused), progress)
        tracker.report()
        self._process(plan.items, summary, tracker, cancel, source)
        summary.cancelled = cancel.is_set()
        if summary.skipped:
            summary.notes.append(_skipped_note(summary.skipped))
        summary.patient_conflicts = [
            c
            for c in self.archive.patient_conflicts(since_id=conflicts_before)
            if c.study_instance_uid in summary.study_uids
        ]
        summary.elapsed_seconds = time.monotonic() - started
        logger.info(
            "import finished: stored %d, duplicates %d, rejected %d, conflicts %d, "
            "patient conflicts %d, cancelled %s, %.1f s",
            summary.stored,
            summary.duplicates,
            len(summary.rejected),
            summary.conflicts,
            len(summary.patient_conflicts),
            summary.cancelled,
            summary.elapsed_seconds,
        )
        return summary

    def _process(
        self,
        items: list[InputItem],
        summary: ImportSummary,
        tracker: _Tracker,
        cancel: threading.Event,
        source: str,
    ) -> None:
        """Read on worker threads, keep up to ``max_in_flight`` inputs on their way."""
        window: collections.deque[tuple[InputItem, Future[_Submitted]]] = collections.deque()
        with ThreadPoolExecutor(self.workers, thread_name_prefix="import") as pool:
            for item in items:
                if cancel.is_set():
                    break
                window.append((item, pool.submit(self._read_and_submit, item, source)))
                while len(window) >= self.max_in_flight:
                    self._collect(*window.popleft(), summary, tracker)
            while window:
                self._collect(*window.popleft(), summary, tracker)

    def _read_and_submit(self, item: InputItem, source: str) -> _Submitted:
        """Read one input and hand it to the archive (runs on a worker thread).

        Never raises: whatever happens to this input (``MemoryError`` included) ends it
        alone, with a reason, and the import goes on with the next.
        """
        try:
            data = item.read()
        except RefusedInput as exc:
            result = StoreResult(StoreStatus.REJECTED, reason=str(exc))
            return _Submitted(_done(result), item.size, unread=_("refused before it was read"))
        except OSError as exc:
            reason = _("The file could not be read: {error}").format(error=exc.strerror or exc)
            result = StoreResult(StoreStatus.FAILURE, reason=reason)
            return _Submitted(_done(result), item.size, unread=_("it could not be read"))
        except Exception as exc:  # noqa: BLE001 - MemoryError and the like end this input only
            result = _internal_failure(exc)
            return _Submitted(_done(result), item.size, unread=_("it could not be read"))
        if not item.named_dicom and not part10.could_be_dicom(data):
            # A readme, thumbnail or autorun file beside the images: a note, not a failure.
            return _Submitted(_done(StoreResult(StoreStatus.REJECTED)), len(data), skipped=True)
        # Every rejected input is copied to quarantine, up to import.max_quarantine_bytes.
        keep = len(data) <= self.settings.max_quarantine_bytes
        try:
            future = self.archive.submit_bytes(
                data, source=source, origin=item.origin, quarantine=keep
            )
        except Exception as exc:  # noqa: BLE001 - see above
            result = _internal_failure(exc)
            if keep:
                result = self._quarantined(data, result, item.origin)
            return _Submitted(_done(result), len(data))
        return _Submitted(future, len(data))

    def _quarantined(self, data: bytes, result: StoreResult, origin: str) -> StoreResult:
        try:
            path = self.archive.quarantine.keep_bytes(data, result.reason, origin)
        except OSError as exc:
            logger.error("a failed input could not be quarantined (%s)", exc.strerror)
            return result
        return dataclasses.replace(result, quarantine_path=path)

    def _collect(
        self,
        item: InputItem,
        outer: Future[_Submitted],
        summary: ImportSummary,
        tracker: _Tracker,
    ) -> None:
        submitted = _Submitted(_done(StoreResult(StoreStatus.FAILURE)), item.size)
        try:
            submitted = outer.result()
            result: StoreResult = submitted.future.result()
        except Exception as exc:  # noqa: BLE001 - one input's failure ends that input only
            result = _internal_failure(exc)
        nbytes = submitted.nbytes
        if submitted.skipped:
            logger.info("input skipped: not DICOM")
            logger.debug("input %s skipped: not DICOM", item.origin)
            summary.skipped.append(item.origin)
            tracker.advance(nbytes)
            return
        rejected = _account(summary, item, result)
        if rejected is not None and rejected.quarantine_path is None:
            self._record_without_copy(rejected, self._why_no_copy(result, submitted))
        tracker.advance(nbytes)

    def _why_no_copy(self, result: StoreResult, submitted: _Submitted) -> str:
        """Why a rejected input has no copy in quarantine (the note must not lie)."""
        if result.status is StoreStatus.STORAGE_FULL:
            return _("the archive disk is full")
        if submitted.unread:
            return submitted.unread
        if submitted.nbytes > self.settings.max_quarantine_bytes:
            return _("larger than {limit} bytes").format(limit=self.settings.max_quarantine_bytes)
        return _("the quarantine could not take it")

    def _record_without_copy(self, rejected: RejectedInput, why: str) -> None:
        """Leave the reason in quarantine without the file, and say so in the summary."""
        try:
            rejected.quarantine_path = self.archive.quarantine.keep_reason(
                rejected.reason, rejected.origin, why
            )
        except OSError as exc:
            logger.error("a rejection could not be recorded in quarantine (%s)", exc.strerror)
            return
        rejected.quarantine_note = _("Not copied to quarantine ({why}); the reason is.").format(
            why=why
        )


@dataclass(frozen=True)
class _Submitted:
    """One input handed on: its store result (to come), its size, or skipped unread."""

    future: Future[StoreResult]
    nbytes: int
    #: Not DICOM at all (no Part-10 marker, no data set start, not named .dcm).
    skipped: bool = False
    #: Set when the input could not be read (why, for the quarantine note).
    unread: str = ""


def _internal_failure(exc: BaseException) -> StoreResult:
    """A store result for an exception that ended one input (never its text at INFO)."""
    # Exception text and traceback may quote DICOM values: only at DEBUG.
    logger.error("import of one input failed (%s)", type(exc).__name__)
    logger.debug("import of one input failed", exc_info=exc)
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return StoreResult(
        StoreStatus.FAILURE,
        reason=_("The file could not be processed ({error}).").format(error=detail[:300]),
    )


def _done(result: StoreResult) -> Future[StoreResult]:
    f: Future[StoreResult] = Future()
    f.set_result(result)
    return f


def _account(summary: ImportSummary, item: InputItem, result: StoreResult) -> RejectedInput | None:
    if result.study_instance_uid and result.ok:
        summary.study_uids.add(result.study_instance_uid)
    if result.status is StoreStatus.STORED:
        summary.stored += 1
        summary.replaced += int(result.replaced)
    elif result.status is StoreStatus.DUPLICATE:
        summary.duplicates += 1
    else:
        if result.status is StoreStatus.CONFLICT:
            summary.conflicts += 1
        logger.info("input rejected (%s)", result.status.value)
        logger.debug("input %s rejected: %s", item.origin, result.reason)
        rejected = RejectedInput(
            item.origin, result.reason, result.status.value, result.quarantine_path
        )
        summary.rejected.append(rejected)
        return rejected
    return None


def _skipped_note(origins: list[str]) -> str:
    names = ", ".join(Path(o).name or o for o in origins[:5])
    if len(origins) > 5:
        names += ", ..."
    return ngettext(
        "{n} file skipped, not DICOM: {names}",
        "{n} files skipped, not DICOM: {names}",
        len(origins),
    ).format(n=len(origins), names=names)


class _Tracker:
    def __init__(
        self,
        summary: ImportSummary,
        started: float,
        done: int,
        callback: ProgressCallback | None,
    ) -> None:
        self.summary = summary
        self.started = started
        self.files_done = done
        self.bytes_done = 0
        self.callback = callback

    def advance(self, nbytes: int) -> None:
        self.files_done += 1
        self.bytes_done += nbytes
        self.report()

    def report(self) -> None:
        if self.callback is None:
            return
        s = self.summary
        self.callback(
            ImportProgress(
                files_done=self.files_done,
                files_total=s.files_total,
                bytes_done=self.bytes_done,
                bytes_total=s.bytes_total,
                elapsed_seconds=max(time.monotonic() - self.started, 1e-6),
                stored=s.stored,
                duplicates=s.duplicates,
                rejected=len(s.rejected),
            )
        )
