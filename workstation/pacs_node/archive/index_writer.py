"""The one writer of the index: group commit for stores, and serialized write calls.

Receivers on many threads hand in *prepared* instances (file already durable in the
store).  One thread takes whatever has queued up, indexes it all in one transaction
(one savepoint per instance, so one bad instance does not spoil the rest), commits once,
and then completes every caller's future.  A commit therefore costs one fsync for the
whole group, which is what makes durable C-STORE fast.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from workstation.i18n import _
from workstation.pacs_node.archive.header import InstanceHeader
from workstation.pacs_node.archive.models import (
    AttachedFile,
    Change,
    Instance,
    Patient,
    PatientConflict,
    Series,
    Study,
    utcnow,
)
from workstation.pacs_node.archive.normalize import fold
from workstation.pacs_node.archive.results import StoreResult, StoreStatus

logger = logging.getLogger(__name__)

P, ST, SE, IN, F = (
    Patient.__table__,
    Study.__table__,
    Series.__table__,
    Instance.__table__,
    AttachedFile.__table__,
)
C, PC = Change.__table__, PatientConflict.__table__


@dataclass
class Prepared:
    """An instance whose file is durable in the store, waiting for its index row."""

    header: InstanceHeader
    file_uuid: str
    relative_path: str
    size: int
    sha256: str
    source: str
    calling_aet: str
    #: "keep" or "replace": what to do if the SOP Instance UID shows up meanwhile.
    conflict_policy: str
    #: Where the input came from (for a quarantine reason file).
    origin: str = ""
    future: Future[StoreResult] = field(default_factory=Future)


@dataclass
class PostCommit:
    """Work that may only happen after the transaction committed."""

    remove_uuids: list[str] = field(default_factory=list)
    #: (uuid, reason, origin, result index) of written files to move to quarantine.
    quarantine: list[tuple[str, str, str, int]] = field(default_factory=list)
    #: (old uuid, sop uid) of files superseded under policy "replace".
    superseded: list[tuple[str, str]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Call:
    fn: Callable[[Connection], Any]
    future: Future[Any] = field(default_factory=Future)


_STOP = object()


class IndexWriter:
    def __init__(
        self,
        engine: Engine,
        *,
        batch_size: int,
        after_commit: Callable[[PostCommit], dict[int, Path]],
    ) -> None:
        self.engine = engine
        self.batch_size = max(1, batch_size)
        self.after_commit = after_commit
        self._queue: queue.Queue[Any] = queue.Queue()
        self._in_flight = 0
        self._thread = threading.Thread(target=self._run, name="archive-writer", daemon=True)
        self._thread.start()

    # -- public -----------------------------------------------------------------------
    def submit(self, item: Prepared) -> Future[StoreResult]:
        self._queue.put(item)
        return item.future

    def call(self, fn: Callable[[Connection], Any]) -> Any:
        """Run ``fn(conn)`` in its own transaction on the writer thread; return its result."""
        task = _Call(fn)
        self._queue.put(task)
        return task.future.result()

    def stop(self) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout=60)

    # -- loop -------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            if isinstance(first, _Call):
                self._run_call(first)
                continue
            batch = [first]
            stop_after = False
            pending_call: _Call | None = None
            while len(batch) < self.batch_size:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    stop_after = True
                    break
                if isinstance(nxt, _Call):
                    pending_call = nxt
                    break
                batch.append(nxt)
            self._run_batch(batch)
            if pending_call is not None:
                self._run_call(pending_call)
            if stop_after:
                return

    def _run_call(self, task: _Call) -> None:
        try:
            with self.engine.begin() as conn:
                result = task.fn(conn)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            task.future.set_exception(exc)
        else:
            task.future.set_result(result)

    def _run_batch(self, batch: list[Prepared]) -> None:
        post = PostCommit()
        results: list[StoreResult] = []
        try:
            with self.engine.begin() as conn:
                touched: dict[int, _Touched] = {}
                for index, item in enumerate(batch):
                    results.append(self._index_one(conn, item, post, touched, index))
                _finish_studies(conn, touched, post)
        except SQLAlchemyError as exc:
            logger.exception("index commit failed for a batch of %d instances", len(batch))
            for item in batch:
                post.remove_uuids.append(item.file_uuid)
            results = [
                _failure(
                    item, _("The archive index could not be written: {error}").format(error=exc)
                )
                for item in batch
            ]
            post.superseded.clear()
            post.changes.clear()
        try:
            self.after_commit(post)
        except Exception:
            logger.exception("post-commit work failed")
        for item, result in zip(batch, results):
            item.future.set_result(result)

    # -- one instance -------------------------------------------------------------------
    def _index_one(
        self,
        conn: Connection,
        item: Prepared,
        post: PostCommit,
        touched: dict[int, _Touched],
        index: int,
    ) -> StoreResult:
        for attempt in (1, 2):
            local: dict[int, _Touched] = {}
            local_post = PostCommit()
            try:
                with conn.begin_nested():
                    result = _insert_instance(conn, item, local_post, local)
            except _Refused as refused:
                if refused.status is StoreStatus.CONFLICT:
                    post.quarantine.append((item.file_uuid, refused.reason, item.origin, index))
                else:
                    post.remove_uuids.append(item.file_uuid)
                return _result(item, refused.status, refused.reason)
            except IntegrityError as exc:
                # Another process stored the same UID between our check and our insert:
                # the second attempt sees its row.
                logger.info("concurrent insert of %s", item.header.sop_instance_uid)
                if attempt == 2:
                    post.remove_uuids.append(item.file_uuid)
                    return _failure(item, str(exc.orig))
                continue
            _merge(touched, local)
            post.superseded.extend(local_post.superseded)
            post.changes.extend(local_post.changes)
            return result
        raise AssertionError("unreachable")


def _merge(touched: dict[int, _Touched], local: dict[int, _Touched]) -> None:
    for pk, t in local.items():
        into = touched.get(pk)
        if into is None:
            touched[pk] = t
            continue
        into.created = into.created or t.created
        into.added_instances += t.added_instances
        into.added_bytes += t.added_bytes
        into.new_series.extend(t.new_series)


class _Refused(Exception):
    def __init__(self, status: StoreStatus, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class _Touched:
    study_uid: str
    created: bool
    added_instances: int = 0
    added_bytes: int = 0
    new_series: list[str] = field(default_factory=list)


def _result(item: Prepared, status: StoreStatus, reason: str = "", **kw: Any) -> StoreResult:
    h = item.header
    return StoreResult(
        status=status,
        sop_instance_uid=h.sop_instance_uid,
        study_instance_uid=h.study_instance_uid,
        series_instance_uid=h.series_instance_uid,
        reason=reason,
        **kw,
    )


def _failure(item: Prepared, reason: str) -> StoreResult:
    return _result(item, StoreStatus.FAILURE, reason)


def _insert_instance(
    conn: Connection, item: Prepared, post: PostCommit, touched: dict[int, _Touched]
) -> StoreResult:
    h = item.header
    existing = conn.execute(
        select(IN.c.id, IN.c.series_pk, F.c.uuid, F.c.sha256, F.c.size)
        .join(F, F.c.instance_pk == IN.c.id)
        .where(IN.c.sop_instance_uid == h.sop_instance_uid)
    ).first()
    if existing is not None:
        if existing.sha256 == item.sha256:
            raise _Refused(StoreStatus.DUPLICATE, _("Already in the archive."))
        if item.conflict_policy != "replace":
            raise _Refused(
                StoreStatus.CONFLICT,
                _(
                    "Another version of this instance (same SOP Instance UID, different "
                    "content) is already stored; the stored one was kept."
                ),
            )
        return _replace_instance(conn, item, existing, post, touched)
    patient_pk, conflict = _patient(conn, item)
    study_pk = _study(conn, item, patient_pk, touched)
    conflict = _study_patient_check(conn, item, study_pk, patient_pk) or conflict
    series_pk = _series(conn, item, study_pk, touched)
    instance_pk = conn.execute(
        insert(IN).values(
            series_pk=series_pk,
            sop_instance_uid=h.sop_instance_uid,
            sop_class_uid=h.sop_class_uid,
            transfer_syntax_uid=h.transfer_syntax_uid,
            source=item.source[:32],
            calling_aet=item.calling_aet[:16],
            created_at=utcnow(),
            **h.instance,
        )
    ).inserted_primary_key[0]
    conn.execute(
        insert(F).values(
            instance_pk=instance_pk,
            uuid=item.file_uuid,
            relative_path=item.relative_path,
            size=item.size,
            sha256=item.sha256,
            transfer_syntax_uid=h.transfer_syntax_uid,
            created_at=utcnow(),
        )
    )
    conn.execute(
        update(SE).where(SE.c.id == series_pk).values(num_instances=SE.c.num_instances + 1)
    )
    t = touched[study_pk]
    t.added_instances += 1
    t.added_bytes += item.size
    return _result(item, StoreStatus.STORED, patient_conflict=conflict)


def _replace_instance(
    conn: Connection, item: Prepared, existing: Any, post: PostCommit, touched: dict[int, _Touched]
) -> StoreResult:
    h = item.header
    conn.execute(
        update(IN)
        .where(IN.c.id == existing.id)
        .values(
            sop_class_uid=h.sop_class_uid,
            transfer_syntax_uid=h.transfer_syntax_uid,
            source=item.source[:32],
            calling_aet=item.calling_aet[:16],
            **h.instance,
        )
    )
    conn.execute(
        update(F)
        .where(F.c.instance_pk == existing.id)
        .values(
            uuid=item.file_uuid,
            relative_path=item.relative_path,
            size=item.size,
            sha256=item.sha256,
            transfer_syntax_uid=h.transfer_syntax_uid,
            created_at=utcnow(),
        )
    )
    study_row = conn.execute(
        select(ST.c.id, ST.c.study_instance_uid)
        .join(SE, SE.c.study_pk == ST.c.id)
        .where(SE.c.id == existing.series_pk)
    ).one()
    t = touched.setdefault(study_row.id, _Touched(study_row.study_instance_uid, created=False))
    t.added_bytes += item.size - existing.size
    post.superseded.append((existing.uuid, h.sop_instance_uid))
    post.changes.append(
        {
            "change_type": "instance_replaced",
            "study_instance_uid": study_row.study_instance_uid,
            "series_instance_uid": h.series_instance_uid,
        }
    )
    return _result(item, StoreStatus.STORED, replaced=True)


def _patient(conn: Connection, item: Prepared) -> tuple[int, bool]:
    """The patient row for this identity, created if new; flags a Patient ID conflict."""
    pk = item.header.patient
    name_key = fold(pk.patient_name)
    row = conn.execute(
        select(P.c.id).where(
            P.c.patient_id == pk.patient_id,
            P.c.patient_name_key == name_key,
            P.c.birth_date == pk.birth_date,
        )
    ).first()
    if row is not None:
        return row.id, False
    new_pk = conn.execute(
        insert(P).values(
            patient_id=pk.patient_id,
            patient_name=pk.patient_name,
            patient_name_key=name_key,
            birth_date=pk.birth_date,
            sex=item.header.patient_sex,
            issuer_of_patient_id=item.header.issuer_of_patient_id,
            created_at=utcnow(),
        )
    ).inserted_primary_key[0]
    if not pk.patient_id:
        return new_pk, False
    other = conn.execute(
        select(P.c.id).where(P.c.patient_id == pk.patient_id, P.c.id != new_pk).limit(1)
    ).first()
    if other is None:
        return new_pk, False
    conn.execute(
        insert(PC).values(
            patient_id=pk.patient_id,
            kind="identity",
            existing_patient_pk=other.id,
            new_patient_pk=new_pk,
            study_instance_uid=item.header.study_instance_uid,
            sop_instance_uid=item.header.sop_instance_uid,
            source=item.source[:32],
            resolved=False,
            detected_at=utcnow(),
            note="",
        )
    )
    logger.warning(
        "patient identity conflict: a known Patient ID arrived with another name or birth "
        "date (study %s); kept as a separate patient",
        item.header.study_instance_uid,
    )
    return new_pk, True


def _study(conn: Connection, item: Prepared, patient_pk: int, touched: dict[int, _Touched]) -> int:
    h = item.header
    row = conn.execute(
        select(ST.c.id).where(ST.c.study_instance_uid == h.study_instance_uid)
    ).first()
    if row is not None:
        touched.setdefault(row.id, _Touched(h.study_instance_uid, created=False))
        return int(row.id)
    values = dict(h.study)
    now = utcnow()
    study_pk = conn.execute(
        insert(ST).values(
            patient_pk=patient_pk,
            study_instance_uid=h.study_instance_uid,
            patient_id=h.patient.patient_id,
            patient_name_key=fold(h.patient.patient_name),
            study_description_key=fold(values["study_description"]),
            referring_physician_key=fold(values["referring_physician"]),
            character_set=h.character_set,
            modalities_in_study="",
            num_series=0,
            num_instances=0,
            size_bytes=0,
            created_at=now,
            updated_at=now,
            **values,
        )
    ).inserted_primary_key[0]
    touched[study_pk] = _Touched(h.study_instance_uid, created=True)
    return int(study_pk)


def _study_patient_check(conn: Connection, item: Prepared, study_pk: int, patient_pk: int) -> bool:
    """Flag an instance whose patient differs from its stored study's patient (once)."""
    owner = conn.execute(select(ST.c.patient_pk).where(ST.c.id == study_pk)).scalar_one()
    if owner == patient_pk:
        return False
    seen = conn.execute(
        select(PC.c.id).where(
            PC.c.kind == "study_patient",
            PC.c.study_instance_uid == item.header.study_instance_uid,
            PC.c.new_patient_pk == patient_pk,
        )
    ).first()
    if seen is None:
        conn.execute(
            insert(PC).values(
                patient_id=item.header.patient.patient_id,
                kind="study_patient",
                existing_patient_pk=owner,
                new_patient_pk=patient_pk,
                study_instance_uid=item.header.study_instance_uid,
                sop_instance_uid=item.header.sop_instance_uid,
                source=item.source[:32],
                resolved=False,
                detected_at=utcnow(),
                note="",
            )
        )
        logger.warning(
            "study %s received an instance of another patient identity; flagged",
            item.header.study_instance_uid,
        )
    return True


def _series(conn: Connection, item: Prepared, study_pk: int, touched: dict[int, _Touched]) -> int:
    h = item.header
    row = conn.execute(
        select(SE.c.id, SE.c.study_pk).where(SE.c.series_instance_uid == h.series_instance_uid)
    ).first()
    if row is not None:
        if row.study_pk != study_pk:
            raise _Refused(
                StoreStatus.REJECTED,
                _("Its series is already stored under another study; the file is inconsistent."),
            )
        return int(row.id)
    series_pk = conn.execute(
        insert(SE).values(
            study_pk=study_pk,
            series_instance_uid=h.series_instance_uid,
            num_instances=0,
            created_at=utcnow(),
            **h.series,
        )
    ).inserted_primary_key[0]
    touched[study_pk].new_series.append(h.series_instance_uid)
    return int(series_pk)


def _finish_studies(conn: Connection, touched: dict[int, _Touched], post: PostCommit) -> None:
    """Update per-study counters and modalities once per batch; log the changes."""
    now = utcnow()
    rows: list[dict[str, Any]] = list(post.changes)
    for study_pk, t in touched.items():
        if not t.added_instances and not t.added_bytes and not t.created:
            continue
        mods = conn.execute(
            select(SE.c.modality).where(SE.c.study_pk == study_pk).distinct()
        ).scalars()
        modalities = "\\".join(sorted(m for m in mods if m))[:128]
        num_series = conn.execute(
            select(func.count()).select_from(SE).where(SE.c.study_pk == study_pk)
        ).scalar_one()
        conn.execute(
            update(ST)
            .where(ST.c.id == study_pk)
            .values(
                num_instances=ST.c.num_instances + t.added_instances,
                size_bytes=ST.c.size_bytes + t.added_bytes,
                num_series=num_series,
                modalities_in_study=modalities,
                updated_at=now,
            )
        )
        rows.extend(
            {
                "change_type": "series_added",
                "study_instance_uid": t.study_uid,
                "series_instance_uid": s,
            }
            for s in t.new_series
        )
        if t.added_instances:
            rows.append(
                {
                    "change_type": "study_added" if t.created else "study_updated",
                    "study_instance_uid": t.study_uid,
                    "series_instance_uid": "",
                }
            )
    for r in rows:
        r["created_at"] = now
    if rows:
        conn.execute(insert(C), rows)
    post.changes = rows
