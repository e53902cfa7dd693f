"""The local archive: one object that stores, finds and deletes DICOM instances.

Typical use::

    archive = Archive.open(settings)
    result = archive.store_file(path)            # StoreResult, never raises for bad input
    studies = archive.find_studies(StudyQuery(patient_name="ivanov"))
    archive.close()

Every ``store_*`` call returns only when the instance is durable (file fsynced and
renamed, index row committed) or refused.  They are thread-safe: receivers call them from
many threads at once, and one writer thread commits whatever has queued up in one
transaction (group commit); a lone waiting store commits on its own thread when nothing
else is committing.  Reads run on pooled connections in the caller's thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Connection

from workstation.config import Settings
from workstation.events import Event
from workstation.i18n import _
from workstation.pacs_node.archive import part10, queries
from workstation.pacs_node.archive.blobstore import (
    abandoned_logs,
)
from workstation.pacs_node.archive.database import make_engine, upgrade_schema
from workstation.pacs_node.archive.errors import (
    ArchiveClosedError,
    NotFoundError,
)
from workstation.pacs_node.archive.index_writer import IndexWriter, PostCommit, Prepared
from workstation.pacs_node.archive.ingest import Preparer
from workstation.pacs_node.archive.models import (
    AttachedFile,
    Instance,
    Patient,
    PatientConflict,
    Series,
    Study,
)
from workstation.pacs_node.archive.records import (
    InstanceRecord,
    PatientConflictRecord,
    SeriesRecord,
    StudyRecord,
)
from workstation.pacs_node.archive.results import Received, StoreResult, StoreStatus

logger = logging.getLogger(__name__)

#: Called after each commit that changed studies, on the thread that committed (the
#: writer thread or a storing thread): keep it short.
ChangeCallback = Callable[[list["ChangeEvent"]], None]


@dataclass(frozen=True)
class ChangeEvent:
    change_type: str
    study_instance_uid: str
    series_instance_uid: str = ""


class Archive:
    """The local archive (index database + file store + quarantine)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store_root = settings.store_dir
        self.store_root.mkdir(parents=True, exist_ok=True)
        self.engine = make_engine(
            settings.database_url, sqlite_synchronous=settings.archive.sqlite_synchronous
        )
        upgrade_schema(self.engine)
        self.preparer = Preparer(settings, self.engine)
        self.blobs = self.preparer.blobs
        self.quarantine = self.preparer.quarantine
        self.changed = Event("archive changes")
        self._in_flight = 0
        self._flight_lock = threading.Lock()
        self._closed = False
        self.recover_abandoned_writes()
        self._writer = IndexWriter(
            self.engine,
            batch_size=settings.import_.batch_size,
            after_commit=self._after_commit,
            store_root=self.store_root,
        )

    @classmethod
    def open(cls, settings: Settings) -> Archive:
        """Open (creating or migrating as needed) the archive of ``settings``."""
        return cls(settings)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._writer.stop()
        self.blobs.close()
        self.engine.dispose()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ storing
    def store_file(self, path: Path | str, *, source: str = "import") -> StoreResult:
        """Store one file from disk (read whole, at most ``import.max_file_bytes``)."""
        path = Path(path)
        try:
            size = path.stat().st_size
            if size > self.settings.import_.max_file_bytes:
                return StoreResult(
                    StoreStatus.REJECTED,
                    reason=_("The file is larger than the import limit ({limit} bytes).").format(
                        limit=self.settings.import_.max_file_bytes
                    ),
                )
            data = path.read_bytes()
        except OSError as exc:
            return StoreResult(
                StoreStatus.FAILURE,
                reason=_("The file could not be read: {error}").format(error=exc.strerror or exc),
            )
        return self.store_bytes(data, source=source, origin=str(path))

    def store_bytes(
        self,
        data: bytes,
        *,
        source: str,
        calling_aet: str | None = None,
        origin: str = "",
        received: Received | None = None,
    ) -> StoreResult:
        """Store Part-10 bytes, or with ``received`` a data set as a peer sent it.

        With ``received`` (see :class:`~workstation.pacs_node.archive.results.Received`)
        ``data`` is the data set without file meta, e.g. pynetdicom's
        ``event.request.DataSet``: it is stored as sent behind our own file meta, and
        must hold the UIDs its request announced.  Durable on return; when no other
        store is committing, this thread commits its own index row (see
        :meth:`IndexWriter.store`).
        """
        outcome = self._prepare(data, source, calling_aet, origin, None, None, received, False)
        return self._index_now(outcome)

    def store_dataset(self, ds: Any, *, source: str, calling_aet: str | None = None) -> StoreResult:
        """Store a decoded pydicom Dataset (C-STORE/WADO receivers); durable on return."""
        try:
            data, tsyntax = part10.encode_dataset(ds)
        except Exception as exc:  # noqa: BLE001 - any encoding problem is a refusal
            logger.info("dataset could not be encoded: %s", type(exc).__name__)
            return StoreResult(
                StoreStatus.REJECTED,
                sop_instance_uid=_safe_get(ds, "SOPInstanceUID"),
                study_instance_uid=_safe_get(ds, "StudyInstanceUID"),
                reason=_("The dataset could not be encoded: {error}").format(error=exc),
            )
        outcome = self._prepare(data, source, calling_aet, source, None, (ds, tsyntax), None, False)
        return self._index_now(outcome)

    def _index_now(self, outcome: Prepared | StoreResult) -> StoreResult:
        """Commit a prepared file's index row and wait for it (a refusal is returned as is)."""
        if isinstance(outcome, StoreResult):
            return outcome
        try:
            return self._writer.store(outcome)
        finally:
            self._flight_done()

    def submit_bytes(
        self,
        data: bytes,
        *,
        source: str,
        calling_aet: str | None = None,
        origin: str = "",
        quarantine: bool | None = None,
    ) -> Future[StoreResult]:
        """Write the file now and queue its index row; the future completes when durable.

        The batch form used by the importer: keep many in flight for bigger commits.
        ``quarantine``: keep a refused input in quarantine (True), never (False), or only
        when it looks like DICOM, i.e. has the Part-10 marker (None, the default).
        """
        outcome = self._prepare(data, source, calling_aet, origin, quarantine, None, None, True)
        if isinstance(outcome, StoreResult):
            done: Future[StoreResult] = Future()
            done.set_result(outcome)
            return done
        future = self._writer.submit(outcome)
        future.add_done_callback(lambda _f: self._flight_done())
        return future

    def _prepare(
        self,
        data: bytes,
        source: str,
        calling_aet: str | None,
        origin: str,
        quarantine: bool | None,
        parsed: tuple[Any, str] | None,
        received: Received | None,
        wait: bool,
    ) -> Prepared | StoreResult:
        """Write the file (Prepared, counted in flight until indexed) or refuse it.

        ``wait=False``: the file may still be being fsynced (``Prepared.durable``); the
        index writer commits its row only once it is durable.
        """
        self._check_open()
        with self._flight_lock:
            self._in_flight += 1
        try:
            outcome = self.preparer.prepare(
                data, source, calling_aet or "", origin, quarantine, parsed, received, wait
            )
        except BaseException:
            self._flight_done()
            raise
        if isinstance(outcome, StoreResult):
            self._flight_done()
        return outcome

    def _flight_done(self) -> None:
        with self._flight_lock:
            self._in_flight -= 1
            if self._in_flight == 0:
                # No store of ours is between writing its file and committing its row:
                # a long pending log may start afresh.
                self.blobs.pending.rotate()

    def _after_commit(self, post: PostCommit) -> dict[int, Path]:
        for file_uuid in post.remove_uuids:
            self.blobs.remove(file_uuid)
        moved: dict[int, Path] = {}
        for file_uuid, reason, origin, index in post.quarantine:
            try:
                moved[index] = self.quarantine.keep_file(
                    self.blobs.path(file_uuid), reason, origin, move=True
                )
            except OSError:
                logger.exception("refused file %s could not be quarantined", file_uuid)
                self.blobs.remove(file_uuid)
        for old_uuid, sop_uid in post.superseded:
            try:
                dest = self.quarantine.keep_file(
                    self.blobs.path(old_uuid),
                    _("Replaced by a newer version of the same instance."),
                    f"archive (instance {sop_uid})",
                    move=True,
                )
                logger.info("superseded file of %s moved to %s", sop_uid, dest.name)
            except OSError:
                logger.exception("superseded file of %s could not be moved", sop_uid)
        if post.changes:
            self._notify(
                [
                    ChangeEvent(c["change_type"], c["study_instance_uid"], c["series_instance_uid"])
                    for c in post.changes
                ]
            )
        return moved

    # ------------------------------------------------------------------ reading
    def _check_open(self) -> None:
        if self._closed:
            raise ArchiveClosedError("the archive is closed")

    def _read(self, fn: Callable[[Connection], Any]) -> Any:
        self._check_open()
        with self.engine.connect() as conn:
            return fn(conn)

    def counts(self) -> dict[str, int]:
        """``{"patients": n, "studies": n, "series": n, "instances": n}``."""

        def count(conn: Connection) -> dict[str, int]:
            return {
                name: conn.execute(select(func.count()).select_from(model)).scalar_one()
                for name, model in (
                    ("patients", Patient),
                    ("studies", Study),
                    ("series", Series),
                    ("instances", Instance),
                )
            }

        return self._read(count)

    def find_studies(self, query: queries.StudyQuery | None = None) -> list[StudyRecord]:
        q = query or queries.StudyQuery()
        return self._read(lambda c: queries.find_studies(c, q))

    def get_study(self, study_uid: str) -> StudyRecord:
        rec = self._read(lambda c: queries.get_study(c, study_uid))
        if rec is None:
            raise NotFoundError(_("Study {uid} is not in the archive.").format(uid=study_uid))
        return rec

    def find_series(self, study_uid: str) -> list[SeriesRecord]:
        return self._read(lambda c: queries.find_series(c, study_uid))

    def find_instances(self, series_uid: str) -> list[InstanceRecord]:
        return self._read(lambda c: queries.find_instances(c, series_uid, self.store_root))

    def study_instances(self, study_uid: str) -> list[InstanceRecord]:
        """Every instance of a study, ordered by series then instance number."""
        return self._read(lambda c: queries.study_instances(c, study_uid, self.store_root))

    def get_instance(self, sop_uid: str) -> InstanceRecord:
        rec = self._read(lambda c: queries.get_instance(c, sop_uid, self.store_root))
        if rec is None:
            raise NotFoundError(_("Instance {uid} is not in the archive.").format(uid=sop_uid))
        return rec

    def instance_file(self, sop_uid: str) -> Path:
        """Absolute path of the stored Part-10 file of an instance."""
        return self.get_instance(sop_uid).path

    def query(
        self, level: str, identifier: Mapping[str, Any], *, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """C-FIND-style matching; see :func:`workstation.pacs_node.archive.cfind.match`."""
        from workstation.pacs_node.archive import cfind

        cap = limit if limit is not None else self.settings.node.max_find_results
        return self._read(lambda c: cfind.match(c, level, identifier, limit=cap))

    def match_instances(
        self, level: str, identifier: Mapping[str, Any], *, limit: int = 1_000_000
    ) -> list[InstanceRecord]:
        """Instances below the entities an identifier matches (for C-MOVE / C-GET)."""
        from workstation.pacs_node.archive import cfind

        return self._read(
            lambda c: cfind.match_instances(c, level, identifier, self.store_root, limit=limit)
        )

    def last_patient_conflict_id(self) -> int:
        """Id of the newest patient conflict (0 when none): pass it to patient_conflicts."""
        return self._read(lambda c: c.execute(select(func.max(PatientConflict.id))).scalar() or 0)

    def patient_conflicts(self, *, since_id: int = 0) -> list[PatientConflictRecord]:
        """Unresolved patient identity conflicts with id > ``since_id``, oldest first."""
        from sqlalchemy.orm import aliased

        old, new = aliased(Patient), aliased(Patient)
        pc = PatientConflict

        def run(conn: Connection) -> list[PatientConflictRecord]:
            rows = conn.execute(
                select(
                    pc,
                    old.patient_name.label("old_name"),
                    old.birth_date.label("old_birth"),
                    new.patient_name.label("new_name"),
                    new.birth_date.label("new_birth"),
                )
                .outerjoin(old, old.id == pc.existing_patient_pk)
                .outerjoin(new, new.id == pc.new_patient_pk)
                .where(pc.id > since_id, pc.resolved.is_(False))
                .order_by(pc.id)
            )
            return [
                PatientConflictRecord(
                    id=r.id,
                    kind=r.kind,
                    patient_id=r.patient_id,
                    existing_name=r.old_name or "",
                    existing_birth_date=r.old_birth or "",
                    new_name=r.new_name or "",
                    new_birth_date=r.new_birth or "",
                    study_instance_uid=r.study_instance_uid,
                    sop_instance_uid=r.sop_instance_uid,
                    source=r.source,
                    detected_at=r.detected_at,
                )
                for r in rows
            ]

        return self._read(run)

    # ------------------------------------------------------------------ changes
    def subscribe(self, callback: ChangeCallback) -> Callable[[], None]:
        """Call ``callback(events)`` after each commit that changed studies.

        It runs on the thread that committed (the archive's writer thread, or a thread
        that stored one instance): return quickly (hand work to your own thread or a Qt
        signal).  Returns a function that unsubscribes.
        """
        return self.changed.connect(callback)

    def _notify(self, events: list[ChangeEvent]) -> None:
        self.changed.emit(events)

    # ------------------------------------------------------------------ deleting
    def delete_study(self, study_uid: str) -> int:
        """Delete a study (index first, then files); returns its number of instances."""
        self._check_open()

        def run(conn: Connection) -> tuple[int, list[str]]:
            row = conn.execute(
                select(Study.id, Study.patient_pk).where(Study.study_instance_uid == study_uid)
            ).first()
            if row is None:
                raise NotFoundError(_("Study {uid} is not in the archive.").format(uid=study_uid))
            uuids = list(
                conn.execute(
                    select(AttachedFile.uuid)
                    .join(Instance, Instance.id == AttachedFile.instance_pk)
                    .join(Series, Series.id == Instance.series_pk)
                    .where(Series.study_pk == row.id)
                ).scalars()
            )
            conn.execute(delete(Study).where(Study.id == row.id))
            left = conn.execute(
                select(func.count()).select_from(Study).where(Study.patient_pk == row.patient_pk)
            ).scalar_one()
            if not left:
                conn.execute(delete(Patient).where(Patient.id == row.patient_pk))
            return len(uuids), uuids

        count, uuids = self._writer.call(run)
        for file_uuid in uuids:
            self.blobs.remove(file_uuid)
        logger.info("deleted study %s (%d instances)", study_uid, count)
        self._notify([ChangeEvent("study_deleted", study_uid)])
        return count

    # ------------------------------------------------------------------ maintenance
    def write_call(self, fn: Callable[[Connection], Any]) -> Any:
        """Run ``fn(conn)`` in a write transaction on the writer thread (for maintenance)."""
        self._check_open()
        return self._writer.call(fn)

    def known_file_uuids(self, uuids: Iterable[str]) -> set[str]:
        """Those of ``uuids`` that have an index row."""
        wanted = list(uuids)
        found: set[str] = set()
        with self.engine.connect() as conn:
            for i in range(0, len(wanted), 500):
                chunk = wanted[i : i + 500]
                found.update(
                    conn.execute(
                        select(AttachedFile.uuid).where(AttachedFile.uuid.in_(chunk))
                    ).scalars()
                )
        return found

    def recover_abandoned_writes(self) -> int:
        """Delete files that a crashed writer left without index rows; returns how many."""
        removed = 0
        for log_path, uuids in abandoned_logs(self.blobs.pending.directory):
            known = self.known_file_uuids(uuids)
            for file_uuid in uuids:
                if file_uuid in known:
                    continue
                for path in (self.blobs.path(file_uuid), self.blobs.tmp_path(file_uuid)):
                    if path.exists():
                        path.unlink()
                        removed += 1
            log_path.unlink(missing_ok=True)
        cutoff = time.time() - 24 * 3600
        for tmp in self.blobs.tmp_dir.glob("*.part"):
            try:
                if tmp.stat().st_mtime < cutoff:
                    tmp.unlink()
                    removed += 1
            except OSError:
                continue
        if removed:
            logger.warning("removed %d file(s) left behind by an interrupted write", removed)
        return removed


def _safe_get(ds: Any, keyword: str) -> str | None:
    try:
        value = ds.get(keyword)
    except Exception:  # noqa: BLE001
        return None
    return None if value is None else str(value)
