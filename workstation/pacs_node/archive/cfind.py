"""C-FIND-style matching over the index (PS3.4 C.2.2), for the DICOM node and QIDO.

``match(conn, level, identifier, limit)``:

- ``level``: ``PATIENT``, ``STUDY``, ``SERIES`` or ``IMAGE`` (``INSTANCE`` is accepted).
- ``identifier``: keyword -> value (a ``dict`` or a pydicom ``Dataset``).  Each key is a
  *return key*; a non-empty value is also a *matching key*:
  single value (exact), wildcards ``*`` ``?``, a UID list (``a\\b``), a date/time range
  (``20240101-20240131``, ``-20240131``, ``20240101-``).  Person names (PatientName,
  ReferringPhysicianName) match case- and accent-insensitively on the folded form.
  Attributes of higher levels may be given at lower levels (relational queries).
- Returns at most ``limit`` dicts (keyword -> value as text, int, or list for
  ModalitiesInStudy), each with ``QueryRetrieveLevel``, the unique keys of its level and
  above, and every requested key we know (unknown keys come back empty).

:func:`match_instances` applies the same matching and returns the instances below the
matches (for C-MOVE / C-GET).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.engine import Connection

from workstation.pacs_node.archive import queries
from workstation.pacs_node.archive.models import FILES, INSTANCES, PATIENTS, SERIES, STUDIES
from workstation.pacs_node.archive.normalize import fold, has_wildcard, wildcard_to_like
from workstation.pacs_node.archive.records import InstanceRecord

P, ST, SE, IN, F = PATIENTS, STUDIES, SERIES, INSTANCES, FILES

LEVELS = ("PATIENT", "STUDY", "SERIES", "IMAGE")
UNIQUE_KEY = {
    "PATIENT": "PatientID",
    "STUDY": "StudyInstanceUID",
    "SERIES": "SeriesInstanceUID",
    "IMAGE": "SOPInstanceUID",
}


@dataclass(frozen=True)
class Attr:
    level: str
    column: Any
    kind: str  # text, pn, uid, date, time, int, modalities, count
    key_column: Any = None


ATTRS: dict[str, Attr] = {
    # Patient
    "PatientName": Attr("PATIENT", P.c.patient_name, "pn", P.c.patient_name_key),
    "PatientID": Attr("PATIENT", P.c.patient_id, "text"),
    "PatientBirthDate": Attr("PATIENT", P.c.birth_date, "date"),
    "PatientSex": Attr("PATIENT", P.c.sex, "text"),
    "IssuerOfPatientID": Attr("PATIENT", P.c.issuer_of_patient_id, "text"),
    "NumberOfPatientRelatedStudies": Attr("PATIENT", None, "count"),
    # Study
    "StudyInstanceUID": Attr("STUDY", ST.c.study_instance_uid, "uid"),
    "StudyDate": Attr("STUDY", ST.c.study_date, "date"),
    "StudyTime": Attr("STUDY", ST.c.study_time, "time"),
    "AccessionNumber": Attr("STUDY", ST.c.accession_number, "text"),
    "StudyID": Attr("STUDY", ST.c.study_id, "text"),
    "StudyDescription": Attr("STUDY", ST.c.study_description, "text"),
    "ReferringPhysicianName": Attr(
        "STUDY", ST.c.referring_physician, "pn", ST.c.referring_physician_key
    ),
    "InstitutionName": Attr("STUDY", ST.c.institution_name, "text"),
    "ModalitiesInStudy": Attr("STUDY", ST.c.modalities_in_study, "modalities"),
    "NumberOfStudyRelatedSeries": Attr("STUDY", ST.c.num_series, "int"),
    "NumberOfStudyRelatedInstances": Attr("STUDY", ST.c.num_instances, "int"),
    "SpecificCharacterSet": Attr("STUDY", ST.c.character_set, "charset"),
    # Series
    "SeriesInstanceUID": Attr("SERIES", SE.c.series_instance_uid, "uid"),
    "Modality": Attr("SERIES", SE.c.modality, "text"),
    "SeriesNumber": Attr("SERIES", SE.c.series_number, "int"),
    "SeriesDescription": Attr("SERIES", SE.c.series_description, "text"),
    "SeriesDate": Attr("SERIES", SE.c.series_date, "date"),
    "SeriesTime": Attr("SERIES", SE.c.series_time, "time"),
    "BodyPartExamined": Attr("SERIES", SE.c.body_part_examined, "text"),
    "ProtocolName": Attr("SERIES", SE.c.protocol_name, "text"),
    "FrameOfReferenceUID": Attr("SERIES", SE.c.frame_of_reference_uid, "uid"),
    "NumberOfSeriesRelatedInstances": Attr("SERIES", SE.c.num_instances, "int"),
    # Image
    "SOPInstanceUID": Attr("IMAGE", IN.c.sop_instance_uid, "uid"),
    "SOPClassUID": Attr("IMAGE", IN.c.sop_class_uid, "uid"),
    "InstanceNumber": Attr("IMAGE", IN.c.instance_number, "int"),
    "NumberOfFrames": Attr("IMAGE", IN.c.number_of_frames, "int"),
    "Rows": Attr("IMAGE", IN.c.rows, "int"),
    "Columns": Attr("IMAGE", IN.c.columns, "int"),
    "ContentDate": Attr("IMAGE", IN.c.content_date, "date"),
    "ContentTime": Attr("IMAGE", IN.c.content_time, "time"),
    "AcquisitionNumber": Attr("IMAGE", IN.c.acquisition_number, "int"),
}


def normalize_level(level: str) -> str:
    lv = level.strip().upper()
    if lv == "INSTANCE":
        lv = "IMAGE"
    if lv not in LEVELS:
        raise ValueError(f"unknown query level {level!r}")
    return lv


def identifier_items(identifier: Mapping[str, Any] | Any) -> dict[str, str]:
    """Keyword -> value text from a dict or a pydicom Dataset (sequences skipped)."""
    items: Iterable[tuple[Any, Any]]
    if isinstance(identifier, Mapping):
        items = identifier.items()
    else:
        items = ((e.keyword, e.value) for e in identifier if e.keyword and e.VR != "SQ")
    out: dict[str, str] = {}
    for key, value in items:
        if key in ("QueryRetrieveLevel",) or key is None:
            continue
        if value is None:
            out[key] = ""
        elif isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
            out[key] = "\\".join(str(v) for v in value)
        else:
            out[key] = str(value)
    return out


def _range(column: Any, text: str) -> ColumnElement[bool]:
    lo, sep, hi = text.partition("-")
    if not sep:
        return column == text
    conds = []
    if lo:
        conds.append(column >= lo)
    if hi:
        conds.append(column <= hi + ("\uffff" if len(hi) < 8 else ""))
        conds.append(column != "")
    return and_(*conds) if conds else column == column


def condition(keyword: str, value: str, dialect: str) -> ColumnElement[bool] | None:
    attr = ATTRS.get(keyword)
    value = value.strip()
    if attr is None or not value or value == "*":
        return None
    if attr.kind == "uid":
        uids = [u.strip() for u in value.split("\\") if u.strip()]
        return attr.column.in_(uids)
    if attr.kind == "pn":
        return queries.text_match(attr.key_column, fold(value), dialect)
    if attr.kind == "date":
        return _range(attr.column, value.replace(".", ""))
    if attr.kind == "time":
        return _range(attr.column, value.replace(":", ""))
    if attr.kind == "int":
        try:
            return attr.column == int(value)
        except ValueError:
            return None
    if attr.kind == "modalities":
        mods = [m.strip() for m in value.split("\\") if m.strip()]
        return exists().where(SE.c.study_pk == ST.c.id, SE.c.modality.in_(mods))
    if attr.kind in ("count", "charset"):
        return None
    if has_wildcard(value):
        return attr.column.like(wildcard_to_like(value), escape="\\")
    if "\\" in value:
        return or_(*(attr.column == v for v in value.split("\\")))
    return attr.column == value


def _base_select(level: str) -> Any:
    if level == "PATIENT":
        return select(P.c.id.label("_pk")).select_from(P)
    stmt = select(ST.c.id.label("_pk")).select_from(ST.join(P, P.c.id == ST.c.patient_pk))
    if level == "STUDY":
        return stmt
    stmt = select(SE.c.id.label("_pk")).select_from(
        SE.join(ST, ST.c.id == SE.c.study_pk).join(P, P.c.id == ST.c.patient_pk)
    )
    if level == "SERIES":
        return stmt
    return select(IN.c.id.label("_pk")).select_from(
        IN.join(SE, SE.c.id == IN.c.series_pk)
        .join(ST, ST.c.id == SE.c.study_pk)
        .join(P, P.c.id == ST.c.patient_pk)
    )


def _where(level: str, keys: dict[str, str], dialect: str) -> list[ColumnElement[bool]]:
    depth = LEVELS.index(level)
    conds = []
    for keyword, value in keys.items():
        attr = ATTRS.get(keyword)
        if attr is None or LEVELS.index(attr.level) > depth:
            continue
        if attr.kind == "modalities" and level == "PATIENT":
            continue
        cond = condition(keyword, value, dialect)
        if cond is not None:
            conds.append(cond)
    return conds


def _columns_for(level: str) -> list[Any]:
    depth = LEVELS.index(level)
    cols = []
    for keyword, attr in ATTRS.items():
        if attr.column is None or LEVELS.index(attr.level) > depth:
            continue
        if level == "PATIENT" and attr.level != "PATIENT":
            continue
        cols.append(attr.column.label(keyword))
    return cols


def match(
    conn: Connection, level: str, identifier: Mapping[str, Any] | Any, *, limit: int
) -> list[dict[str, Any]]:
    level = normalize_level(level)
    keys = identifier_items(identifier)
    stmt = _base_select(level).add_columns(*_columns_for(level))
    if level == "PATIENT":
        count = (
            select(func.count()).select_from(ST).where(ST.c.patient_pk == P.c.id).scalar_subquery()
        )
        stmt = stmt.add_columns(count.label("NumberOfPatientRelatedStudies"))
    stmt = stmt.where(*_where(level, keys, conn.dialect.name)).limit(max(0, limit))
    wanted = set(keys) | {UNIQUE_KEY[lv] for lv in LEVELS[: LEVELS.index(level) + 1]}
    out = []
    for row in conn.execute(stmt).mappings():
        result: dict[str, Any] = {"QueryRetrieveLevel": level}
        for keyword in wanted:
            if keyword in row:
                value = row[keyword]
                if keyword == "ModalitiesInStudy":
                    value = [m for m in (value or "").split("\\") if m]
                elif keyword == "SpecificCharacterSet":
                    continue
                result[keyword] = "" if value is None else value
            else:
                result[keyword] = ""
        result.pop("SpecificCharacterSet", None)
        out.append(result)
    return out


def match_instances(
    conn: Connection,
    level: str,
    identifier: Mapping[str, Any] | Any,
    store_root: Path,
    *,
    limit: int,
) -> list[InstanceRecord]:
    """Every instance at or below the entities that ``identifier`` matches at ``level``."""
    level = normalize_level(level)
    keys = identifier_items(identifier)
    conds = _where(level, keys, conn.dialect.name)
    stmt = (
        queries._instance_select()
        .join(ST, ST.c.id == SE.c.study_pk)
        .join(P, P.c.id == ST.c.patient_pk)
        .where(*conds)
        .order_by(ST.c.id, SE.c.series_number, SE.c.id, IN.c.instance_number, IN.c.id)
        .limit(max(0, limit))
    )
    return [queries._instance_record(r, store_root) for r in conn.execute(stmt)]
