"""Index SQL: put prepared instances into the Patient/Study/Series/Instance tables.

Two paths, both called by :class:`~workstation.pacs_node.archive.index_writer.IndexWriter`
inside one transaction per batch:

- :func:`index_batch` (the fast path): one query finds the batch's already-stored SOP
  Instance UIDs, entities are looked up once per batch (a series already stored: one
  query finds it with its study and patient), instances and file rows are inserted with
  one statement each.  A few statements per *batch*, built once at import (a statement
  built per call costs more to construct than to run on SQLite); those every instance
  runs go straight to SQLite's cursor (:mod:`hot_sql`).
- :func:`index_one` (the careful path): a savepoint per instance.  Used when the fast
  path hit a unique-constraint race with another process, so that one instance's
  trouble cannot spoil the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from workstation.i18n import _
from workstation.pacs_node.archive.header import InstanceHeader
from workstation.pacs_node.archive.hot_sql import HotStatement
from workstation.pacs_node.archive.models import (
    FILES,
    INSTANCES,
    PATIENT_CONFLICTS,
    PATIENTS,
    SERIES,
    STUDIES,
    utcnow,
)
from workstation.pacs_node.archive.normalize import fold
from workstation.pacs_node.archive.results import StoreResult, StoreStatus

logger = logging.getLogger(__name__)

P, ST, SE, IN, F = PATIENTS, STUDIES, SERIES, INSTANCES, FILES
PC = PATIENT_CONFLICTS
K = TypeVar("K")
V = TypeVar("V")

# Statements of the fast path, built once (bind parameter names avoid column names).
_EXISTING = (
    select(IN.c.id, IN.c.series_pk, IN.c.sop_instance_uid, F.c.uuid, F.c.sha256, F.c.size)
    .join(F, F.c.instance_pk == IN.c.id)
    .where(IN.c.sop_instance_uid.in_(bindparam("b_uids", expanding=True)))
)
#: A stored series with its study and patient: the whole hierarchy in one query.
_KNOWN_SERIES = HotStatement(
    select(
        SE.c.id.label("series_pk"),
        SE.c.study_pk,
        ST.c.study_instance_uid,
        ST.c.patient_pk,
        P.c.patient_id,
        P.c.patient_name_key,
        P.c.birth_date,
    )
    .join(ST, ST.c.id == SE.c.study_pk)
    .join(P, P.c.id == ST.c.patient_pk)
    .where(SE.c.series_instance_uid == bindparam("b_uid"))
)
_INSERT_INSTANCE = HotStatement(insert(IN))
_INSERT_INSTANCES = insert(IN).returning(IN.c.id, sort_by_parameter_order=True)
_INSERT_FILES = HotStatement(insert(F))
_ADD_INCOMPLETE = HotStatement(
    update(ST)
    .where(ST.c.id == bindparam("b_pk"))
    .values(num_incomplete=ST.c.num_incomplete + bindparam("b_n"))
)
_ADD_TO_SERIES = HotStatement(
    update(SE)
    .where(SE.c.id == bindparam("b_pk"))
    .values(num_instances=SE.c.num_instances + bindparam("b_n"))
)
_ADD_TO_STUDY = HotStatement(
    update(ST)
    .where(ST.c.id == bindparam("b_pk"))
    .values(
        num_instances=ST.c.num_instances + bindparam("b_n"),
        size_bytes=ST.c.size_bytes + bindparam("b_bytes"),
        updated_at=bindparam("b_now"),
    )
)


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
    #: "keep" or "replace": what to do if the SOP Instance UID is already stored.
    conflict_policy: str
    #: Where the input came from (for a quarantine reason file).
    origin: str = ""
    #: The preparer found no stored copy of this SOP Instance UID just before (the
    #: batch then does not look again; a copy stored meanwhile by another writer
    #: surfaces as an IntegrityError and the batch is redone one by one).
    known_new: bool = False
    #: Completes once the file is durable (None: it was durable before submission).
    #: The writer commits the row only after that (see ``IndexWriter``).
    durable: Future[None] | None = field(default=None, repr=False, compare=False)
    #: Set by the writer on submit (None while the item travels between processes).
    future: Future[StoreResult] | None = field(default=None, repr=False, compare=False)


@dataclass
class PostCommit:
    """Work that may only happen after the transaction committed."""

    remove_uuids: list[str] = field(default_factory=list)
    #: (uuid, reason, origin, result index) of written files to move to quarantine.
    quarantine: list[tuple[str, str, str, int]] = field(default_factory=list)
    #: (old uuid, sop uid) of files superseded under policy "replace".
    superseded: list[tuple[str, str]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)


def conflict_reason() -> str:
    return _(
        "Another version of this instance (same SOP Instance UID, different content) is "
        "already stored; the stored one was kept."
    )


def index_batch(conn: Connection, batch: list[Prepared], post: PostCommit) -> list[StoreResult]:
    """The fast path (see module docstring).  Raises IntegrityError on a race."""
    results: list[StoreResult | None] = [None] * len(batch)
    touched: dict[int, _Touched] = {}
    existing = _existing(conn, (i.header.sop_instance_uid for i in batch if not i.known_new))
    first_seen: dict[str, Prepared] = {}
    new: list[tuple[int, Prepared]] = []
    for idx, item in enumerate(batch):
        sop = item.header.sop_instance_uid
        prior = existing.get(sop)
        prior_sha = prior.sha256 if prior is not None else None
        if prior is None and sop in first_seen:
            prior_sha = first_seen[sop].sha256
        if prior_sha is None:
            first_seen[sop] = item
            new.append((idx, item))
        elif prior_sha == item.sha256:
            post.remove_uuids.append(item.file_uuid)
            results[idx] = _result(item, StoreStatus.DUPLICATE, _("Already in the archive."))
        elif item.conflict_policy == "replace" and prior is not None:
            local: dict[int, _Touched] = {}
            with conn.begin_nested():
                results[idx] = _replace_instance(conn, item, prior, post, local)
            _merge(touched, local)
        else:
            post.quarantine.append((item.file_uuid, conflict_reason(), item.origin, idx))
            results[idx] = _result(item, StoreStatus.CONFLICT, conflict_reason())
    cache = _Cache()
    rows: list[tuple[int, Prepared, int, int, bool]] = []
    for idx, item in new:
        cache.prime(conn, item, touched)
        refusal = cache.hierarchy_refusal(conn, item)
        if refusal is not None:
            post.remove_uuids.append(item.file_uuid)
            results[idx] = _result(item, StoreStatus.REJECTED, refusal)
            continue
        patient_pk, conflict = cache.patient(conn, item)
        study_pk = cache.study(conn, item, patient_pk, touched)
        conflict = cache.study_patient(conn, item, study_pk, patient_pk) or conflict
        series_pk = cache.series(conn, item, study_pk, touched)
        rows.append((idx, item, series_pk, study_pk, conflict))
    if rows:
        _insert_rows(conn, rows, touched)
        for idx, item, _series_pk, _study_pk, conflict in rows:
            results[idx] = _result(item, StoreStatus.STORED, patient_conflict=conflict)
    _finish_studies(conn, touched, post)
    return [
        r if r is not None else _failure(batch[i], "not indexed") for i, r in enumerate(results)
    ]


def _existing(conn: Connection, sop_uids: Iterable[str]) -> dict[str, Any]:
    uids = list(dict.fromkeys(sop_uids))
    found: dict[str, Any] = {}
    for i in range(0, len(uids), 500):
        rows = conn.execute(_EXISTING, {"b_uids": uids[i : i + 500]})
        found.update((r.sop_instance_uid, r) for r in rows)
    return found


def _insert_rows(
    conn: Connection, rows: list[tuple[int, Prepared, int, int, bool]], touched: dict[int, _Touched]
) -> None:
    now = utcnow()
    instance_rows = [
        {
            "series_pk": series_pk,
            "sop_instance_uid": item.header.sop_instance_uid,
            "created_at": now,
            **_instance_values(item),
        }
        for _idx, item, series_pk, _study_pk, _c in rows
    ]
    if len(instance_rows) == 1 or conn.dialect.name == "sqlite":
        # One row at a time costs least in-process; a server gets one round trip.
        ids = [_INSERT_INSTANCE.insert_id(conn, row) for row in instance_rows]
    else:
        ids = list(conn.execute(_INSERT_INSTANCES, instance_rows).scalars())
    _INSERT_FILES.run(
        conn,
        [
            {"instance_pk": pk, **_file_values(item, now)}
            for pk, (_idx, item, _se, _st, _c) in zip(ids, rows, strict=True)
        ],
    )
    per_series: dict[int, int] = {}
    incomplete: dict[int, int] = {}
    for _idx, item, series_pk, study_pk, _c in rows:
        per_series[series_pk] = per_series.get(series_pk, 0) + 1
        if item.header.instance.get("incomplete"):
            incomplete[study_pk] = incomplete.get(study_pk, 0) + 1
        t = touched[study_pk]
        t.added_instances += 1
        t.added_bytes += item.size
    for series_pk, n in per_series.items():
        _ADD_TO_SERIES.run(conn, {"b_pk": series_pk, "b_n": n})
    for study_pk, n in incomplete.items():
        _ADD_INCOMPLETE.run(conn, {"b_pk": study_pk, "b_n": n})


class _Cache:
    """Per-batch lookups of patients, studies and series (created on first need)."""

    def __init__(self) -> None:
        self.patients: dict[tuple[str, str, str], int] = {}
        self.studies: dict[str, int] = {}
        self.series_pks: dict[str, int] = {}
        self.study_patient_checked: dict[tuple[int, int], bool] = {}
        #: Series UID -> the Study Instance UID it is stored under.
        self.series_study: dict[str, str] = {}
        #: Series UIDs looked up by :meth:`prime` and not stored.
        self.absent_series: set[str] = set()

    def prime(self, conn: Connection, item: Prepared, touched: dict[int, _Touched]) -> None:
        """Look up the item's series once, with its study and patient (one query).

        For the usual case - more instances of a stored series of the same patient - this
        fills every cache the item needs, so no other lookup runs for it.
        """
        h = item.header
        uid = h.series_instance_uid
        if uid in self.series_pks or uid in self.absent_series:
            return
        row = _KNOWN_SERIES.first(conn, {"b_uid": uid})
        if row is None:
            self.absent_series.add(uid)
            return
        self.series_pks[uid] = row.series_pk
        self.series_study[uid] = row.study_instance_uid
        if row.study_instance_uid != h.study_instance_uid:
            return  # refused by hierarchy_refusal
        self.studies.setdefault(h.study_instance_uid, row.study_pk)
        touched.setdefault(row.study_pk, _Touched(h.study_instance_uid, created=False))
        p = h.patient
        key = (p.patient_id, fold(p.patient_name), p.birth_date)
        if key == (row.patient_id, row.patient_name_key, row.birth_date):
            self.patients.setdefault(key, row.patient_pk)
            self.study_patient_checked.setdefault((row.study_pk, row.patient_pk), False)

    def hierarchy_refusal(self, conn: Connection, item: Prepared) -> str | None:
        """A reason to refuse when the series is stored under another study."""
        h = item.header
        if h.series_instance_uid in self.series_pks:
            row_study = self.series_study.get(h.series_instance_uid)
        elif h.series_instance_uid in self.absent_series:
            return None
        else:
            row = conn.execute(
                select(SE.c.id, ST.c.study_instance_uid)
                .join(ST, ST.c.id == SE.c.study_pk)
                .where(SE.c.series_instance_uid == h.series_instance_uid)
            ).first()
            if row is None:
                return None
            self.series_pks[h.series_instance_uid] = row.id
            self.series_study[h.series_instance_uid] = row.study_instance_uid
            row_study = row.study_instance_uid
        if row_study != h.study_instance_uid:
            return _("Its series is already stored under another study; the file is inconsistent.")
        return None

    def patient(self, conn: Connection, item: Prepared) -> tuple[int, bool]:
        p = item.header.patient
        key = (p.patient_id, fold(p.patient_name), p.birth_date)
        if key in self.patients:
            return self.patients[key], False
        pk, conflict = _patient(conn, item)
        self.patients[key] = pk
        return pk, conflict

    def study(
        self, conn: Connection, item: Prepared, patient_pk: int, touched: dict[int, _Touched]
    ) -> int:
        return _memo(
            self.studies,
            item.header.study_instance_uid,
            lambda: _study(conn, item, patient_pk, touched),
        )

    def study_patient(
        self, conn: Connection, item: Prepared, study_pk: int, patient_pk: int
    ) -> bool:
        return _memo(
            self.study_patient_checked,
            (study_pk, patient_pk),
            lambda: _study_patient_check(conn, item, study_pk, patient_pk),
        )

    def series(
        self, conn: Connection, item: Prepared, study_pk: int, touched: dict[int, _Touched]
    ) -> int:
        h = item.header

        def insert() -> int:
            self.series_study[h.series_instance_uid] = h.study_instance_uid
            return _series(conn, item, study_pk, touched)

        return _memo(self.series_pks, h.series_instance_uid, insert)


def _memo(cache: dict[K, V], key: K, look_up: Callable[[], V]) -> V:
    """``cache[key]``, looked up (or inserted) once per batch."""
    if key not in cache:
        cache[key] = look_up()
    return cache[key]


def index_one(
    conn: Connection,
    item: Prepared,
    post: PostCommit,
    touched: dict[int, _Touched],
    index: int,
) -> StoreResult:
    """The careful path: one savepoint for one instance."""
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


def finish_studies(conn: Connection, touched: dict[int, _Touched], post: PostCommit) -> None:
    _finish_studies(conn, touched, post)


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
            raise _Refused(StoreStatus.CONFLICT, conflict_reason())
        return _replace_instance(conn, item, existing, post, touched)
    patient_pk, conflict = _patient(conn, item)
    study_pk = _study(conn, item, patient_pk, touched)
    conflict = _study_patient_check(conn, item, study_pk, patient_pk) or conflict
    series_pk = _series(conn, item, study_pk, touched)
    instance_pk = conn.execute(
        insert(IN).values(
            series_pk=series_pk,
            sop_instance_uid=h.sop_instance_uid,
            created_at=utcnow(),
            **_instance_values(item),
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    conn.execute(insert(F).values(instance_pk=instance_pk, **_file_values(item, utcnow())))
    conn.execute(
        update(SE).where(SE.c.id == series_pk).values(num_instances=SE.c.num_instances + 1)
    )
    if h.instance.get("incomplete"):
        _ADD_INCOMPLETE.run(conn, {"b_pk": study_pk, "b_n": 1})
    t = touched[study_pk]
    t.added_instances += 1
    t.added_bytes += item.size
    return _result(item, StoreStatus.STORED, patient_conflict=conflict)


def _replace_instance(
    conn: Connection, item: Prepared, existing: Any, post: PostCommit, touched: dict[int, _Touched]
) -> StoreResult:
    h = item.header
    conn.execute(update(IN).where(IN.c.id == existing.id).values(**_instance_values(item)))
    conn.execute(
        update(F).where(F.c.instance_pk == existing.id).values(**_file_values(item, utcnow()))
    )
    study_row = conn.execute(
        select(ST.c.id, ST.c.study_instance_uid)
        .join(SE, SE.c.study_pk == ST.c.id)
        .where(SE.c.id == existing.series_pk)
    ).one()
    _recount_incomplete(conn, study_row.id)
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


def _instance_values(item: Prepared) -> dict[str, Any]:
    """The columns of an instance row that the stored file decides (new or replacing)."""
    h = item.header
    return {
        "sop_class_uid": h.sop_class_uid,
        "transfer_syntax_uid": h.transfer_syntax_uid,
        "source": item.source[:32],
        "calling_aet": item.calling_aet[:16],
        **h.instance,
    }


def _file_values(item: Prepared, now: Any) -> dict[str, Any]:
    """The files row of a stored file, but for its instance key."""
    return {
        "uuid": item.file_uuid,
        "relative_path": item.relative_path,
        "size": item.size,
        "sha256": item.sha256,
        "transfer_syntax_uid": item.header.transfer_syntax_uid,
        "created_at": now,
    }


def _recount_incomplete(conn: Connection, study_pk: int) -> None:
    """Count a study's incomplete instances afresh (a replaced file may change its mark)."""
    count = (
        select(func.count())
        .select_from(IN)
        .join(SE, SE.c.id == IN.c.series_pk)
        .where(SE.c.study_pk == study_pk, IN.c.incomplete != "")
        .scalar_subquery()
    )
    conn.execute(update(ST).where(ST.c.id == study_pk).values(num_incomplete=count))


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
    ).inserted_primary_key[0]  # type: ignore[index]
    if not pk.patient_id:
        return new_pk, False
    other = conn.execute(
        select(P.c.id).where(P.c.patient_id == pk.patient_id, P.c.id != new_pk).limit(1)
    ).first()
    if other is None:
        return new_pk, False
    _record_conflict(conn, item, "identity", existing_pk=other.id, new_pk=new_pk)
    logger.warning(
        "patient identity conflict: a known Patient ID arrived with another name or birth "
        "date (study %s); kept as a separate patient",
        item.header.study_instance_uid,
    )
    return new_pk, True


def _record_conflict(
    conn: Connection, item: Prepared, kind: str, *, existing_pk: int, new_pk: int
) -> None:
    """Keep an unresolved patient conflict of ``kind`` raised by ``item``."""
    conn.execute(
        insert(PC).values(
            patient_id=item.header.patient.patient_id,
            kind=kind,
            existing_patient_pk=existing_pk,
            new_patient_pk=new_pk,
            study_instance_uid=item.header.study_instance_uid,
            sop_instance_uid=item.header.sop_instance_uid,
            source=item.source[:32],
            resolved=False,
            detected_at=utcnow(),
            note="",
        )
    )


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
            num_incomplete=0,
            size_bytes=0,
            created_at=now,
            updated_at=now,
            **values,
        )
    ).inserted_primary_key[0]  # type: ignore[index]
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
        _record_conflict(conn, item, "study_patient", existing_pk=owner, new_pk=patient_pk)
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
    ).inserted_primary_key[0]  # type: ignore[index]
    touched[study_pk].new_series.append(h.series_instance_uid)
    return int(series_pk)


def _finish_studies(conn: Connection, touched: dict[int, _Touched], post: PostCommit) -> None:
    """Update per-study counters and modalities once per batch; log the changes."""
    now = utcnow()
    rows: list[dict[str, Any]] = list(post.changes)
    for study_pk, t in touched.items():
        if not t.added_instances and not t.added_bytes and not t.created:
            continue
        if not t.created and not t.new_series:
            # More instances in known series: modalities and series count are unchanged.
            _ADD_TO_STUDY.run(
                conn,
                {"b_pk": study_pk, "b_n": t.added_instances, "b_bytes": t.added_bytes,
                 "b_now": now},
            )  # fmt: skip
        else:
            _refresh_study(conn, study_pk, t, now)
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
    post.changes = rows


def _refresh_study(conn: Connection, study_pk: int, t: _Touched, now: Any) -> None:
    """Counters, series count and modalities of a study that gained series (or is new)."""
    mods = conn.execute(select(SE.c.modality).where(SE.c.study_pk == study_pk).distinct()).scalars()
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
