"""Study browser queries: :class:`StudyQuery` -> :class:`StudyRecord` list, and friends.

Patient name and description filters are folded (case and accents ignored, any script)
and take DICOM wildcards ``*`` and ``?``; text without a wildcard matches anywhere in the
value (browser semantics: "ivan" finds "Ivanov^Ivan").  Patient ID and accession number
match exactly unless they contain a wildcard.  Dates are ``YYYYMMDD`` bounds, inclusive.
For strict DICOM matching (C-FIND) use :mod:`workstation.pacs_node.archive.cfind`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, exists, literal_column, select
from sqlalchemy.engine import Connection

from workstation.pacs_node.archive.models import FILES, INSTANCES, PATIENTS, SERIES, STUDIES
from workstation.pacs_node.archive.normalize import (
    contains_pattern,
    fold,
    has_wildcard,
    literal_prefix,
    wildcard_to_like,
)
from workstation.pacs_node.archive.records import (
    InstanceRecord,
    SeriesRecord,
    StudyRecord,
    _floats,
)
from workstation.storage.row_records import record_from_row

P, ST, SE, IN, F = PATIENTS, STUDIES, SERIES, INSTANCES, FILES

SortKey = Literal["study_date", "patient_name", "accession_number", "updated_at"]
MAX_LIMIT = 10_000


@dataclass(frozen=True)
class StudyQuery:
    patient_name: str = ""
    patient_id: str = ""
    #: Inclusive ``YYYYMMDD`` bounds; None for an open end.
    date_from: str | None = None
    date_to: str | None = None
    #: One modality ("CT") or several ("CT\\MR", any of them).
    modality: str = ""
    accession_number: str = ""
    description: str = ""
    referring_physician: str = ""
    study_instance_uid: str = ""
    sort: SortKey = "study_date"
    descending: bool = True
    limit: int = 500
    offset: int = 0


def text_match(column: Any, pattern: str, dialect: str) -> ColumnElement[bool]:
    """``column`` matches a wildcard pattern (already folded if the column is a key)."""
    if not has_wildcard(pattern):
        return column == pattern
    cond = column.like(wildcard_to_like(pattern), escape="\\")
    prefix = literal_prefix(pattern)
    if prefix and dialect == "sqlite":
        # SQLite's LIKE cannot use an index; a range on the literal prefix can.
        cond = and_(column >= prefix, column < prefix + "\U0010ffff", cond)
    return cond


def study_filters(q: StudyQuery, dialect: str) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if q.patient_name.strip():
        conds.append(
            text_match(ST.c.patient_name_key, contains_pattern(fold(q.patient_name)), dialect)
        )
    if q.patient_id.strip():
        conds.append(text_match(ST.c.patient_id, q.patient_id.strip(), dialect))
    if q.accession_number.strip():
        conds.append(text_match(ST.c.accession_number, q.accession_number.strip(), dialect))
    if q.description.strip():
        conds.append(
            text_match(ST.c.study_description_key, contains_pattern(fold(q.description)), dialect)
        )
    if q.referring_physician.strip():
        conds.append(
            text_match(
                ST.c.referring_physician_key, contains_pattern(fold(q.referring_physician)), dialect
            )
        )
    if q.study_instance_uid:
        conds.append(ST.c.study_instance_uid == q.study_instance_uid)
    if q.date_from:
        conds.append(ST.c.study_date >= q.date_from)
    if q.date_to:
        conds.append(ST.c.study_date <= q.date_to)
        conds.append(ST.c.study_date != "")
    mods = [m.strip().upper() for m in q.modality.replace(",", "\\").split("\\") if m.strip()]
    if mods:
        conds.append(exists().where(SE.c.study_pk == ST.c.id, SE.c.modality.in_(mods)))
    return conds


_STUDY_COLUMNS = (
    ST.c.study_instance_uid,
    ST.c.patient_id,
    P.c.patient_name,
    P.c.birth_date,
    P.c.sex,
    ST.c.study_date,
    ST.c.study_time,
    ST.c.accession_number,
    ST.c.study_id,
    ST.c.study_description,
    ST.c.referring_physician,
    ST.c.institution_name,
    ST.c.modalities_in_study,
    ST.c.num_series,
    ST.c.num_instances,
    ST.c.size_bytes,
    ST.c.character_set,
    ST.c.updated_at,
    ST.c.num_incomplete,
)


def _study_record(row: Any) -> StudyRecord:
    return record_from_row(
        StudyRecord,
        row,
        patient_birth_date=row.birth_date,
        patient_sex=row.sex,
        modalities=tuple(m for m in row.modalities_in_study.split("\\") if m),
    )


def _order(q: StudyQuery, *, no_index: bool) -> list[Any]:
    """ORDER BY terms; with ``no_index`` (SQLite) wrapped so no index serves the order."""
    first = {
        "study_date": ST.c.study_date,
        "patient_name": ST.c.patient_name_key,
        "accession_number": ST.c.accession_number,
        "updated_at": ST.c.updated_at,
    }[q.sort]
    cols: list[Any] = [first, ST.c.study_time, ST.c.id]
    if no_index:
        # SQLite's "+expr" idiom: the planner then scans the (covering) filter index and
        # sorts the matches, instead of walking the whole date index testing each row.
        cols = [literal_column(f"+{c.table.name}.{c.name}") for c in cols]
    return [c.desc() if q.descending else c.asc() for c in cols]


def _scans(q: StudyQuery) -> bool:
    """Does the query test a text pattern that no index can seek (``*text*``)?"""
    return any(
        value.strip() and contains_pattern(fold(value)).startswith(("*", "?"))
        for value in (q.patient_name, q.description, q.referring_physician)
    ) or bool(q.patient_name.strip() and literal_prefix(fold(q.patient_name)))


def find_studies(conn: Connection, q: StudyQuery) -> list[StudyRecord]:
    """One page of studies.  Two steps: the ids of the page from narrow indexes, then
    the columns of just those rows."""
    dialect = conn.dialect.name
    limit = max(0, min(q.limit, MAX_LIMIT))
    page = (
        select(ST.c.id)
        .where(*study_filters(q, dialect))
        .order_by(*_order(q, no_index=dialect == "sqlite" and _scans(q)))
        .limit(limit)
        .offset(max(0, q.offset))
        .subquery()
    )
    stmt = (
        select(*_STUDY_COLUMNS)
        .join(P, P.c.id == ST.c.patient_pk)
        .join(page, page.c.id == ST.c.id)
        .order_by(*_order(q, no_index=False))
    )
    return [_study_record(r) for r in conn.execute(stmt)]


def get_study(conn: Connection, study_uid: str) -> StudyRecord | None:
    row = conn.execute(
        select(*_STUDY_COLUMNS)
        .join(P, P.c.id == ST.c.patient_pk)
        .where(ST.c.study_instance_uid == study_uid)
    ).first()
    return None if row is None else _study_record(row)


def find_series(conn: Connection, study_uid: str) -> list[SeriesRecord]:
    rows = conn.execute(
        select(SE, ST.c.study_instance_uid)
        .join(ST, ST.c.id == SE.c.study_pk)
        .where(ST.c.study_instance_uid == study_uid)
        .order_by(SE.c.series_number.is_(None), SE.c.series_number, SE.c.id)
    )
    return [record_from_row(SeriesRecord, r) for r in rows]


def _instance_record(r: Any, store_root: Path) -> InstanceRecord:
    return record_from_row(
        InstanceRecord,
        r,
        image_position_patient=_floats(r.image_position_patient),
        image_orientation_patient=_floats(r.image_orientation_patient),
        pixel_spacing=_floats(r.pixel_spacing),
        path=store_root / r.relative_path,
    )


def _instance_select() -> Any:
    return (
        select(
            IN,
            SE.c.series_instance_uid,
            F.c.relative_path,
            F.c.size,
            F.c.sha256,
        )
        .join(SE, SE.c.id == IN.c.series_pk)
        .join(F, F.c.instance_pk == IN.c.id)
    )


def find_instances(conn: Connection, series_uid: str, store_root: Path) -> list[InstanceRecord]:
    rows = conn.execute(
        _instance_select()
        .where(SE.c.series_instance_uid == series_uid)
        .order_by(IN.c.instance_number.is_(None), IN.c.instance_number, IN.c.id)
    )
    return [_instance_record(r, store_root) for r in rows]


def study_instances(conn: Connection, study_uid: str, store_root: Path) -> list[InstanceRecord]:
    rows = conn.execute(
        _instance_select()
        .join(ST, ST.c.id == SE.c.study_pk)
        .where(ST.c.study_instance_uid == study_uid)
        .order_by(SE.c.series_number, SE.c.id, IN.c.instance_number, IN.c.id)
    )
    return [_instance_record(r, store_root) for r in rows]


def get_instance(conn: Connection, sop_uid: str, store_root: Path) -> InstanceRecord | None:
    row = conn.execute(_instance_select().where(IN.c.sop_instance_uid == sop_uid)).first()
    return None if row is None else _instance_record(row, store_root)
