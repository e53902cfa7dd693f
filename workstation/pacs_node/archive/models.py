"""The index schema: Patient -> Study -> Series -> Instance, files, changes, conflicts.

Follows Orthanc's ``PrepareDatabase.sql`` in spirit: a hierarchy with cascade delete,
the main tags copied into columns, one attached-file row per instance and a change log.

Patient identity: a patient row is keyed by (Patient ID, folded name, birth date).  The
same Patient ID with a different name or birth date becomes a *second* patient row and a
``patient_conflicts`` row; nothing is merged silently.  A study belongs to the patient
row of its first stored instance; a later instance of that study carrying another
patient identity is stored in the same study and also flagged in ``patient_conflicts``.

Study rows copy the patient's search keys (``patient_id``, ``patient_name_key``) so a
study search is one indexed table scan without a join.  All ``*_key`` columns hold
:func:`~workstation.pacs_node.archive.normalize.fold` output.  Dates are ``YYYYMMDD``
strings (empty when unknown), times ``HHMMSS.ffffff`` strings, as in DICOM.
"""

from __future__ import annotations

import datetime as dt
from typing import cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

UID = String(64)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Patient(Base):
    __tablename__ = "patients"
    __table_args__ = (UniqueConstraint("patient_id", "patient_name_key", "birth_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[str] = mapped_column(String(64), default="", index=True)
    patient_name: Mapped[str] = mapped_column(String(324), default="")
    patient_name_key: Mapped[str] = mapped_column(String(324), default="", index=True)
    birth_date: Mapped[str] = mapped_column(String(8), default="")
    sex: Mapped[str] = mapped_column(String(16), default="")
    issuer_of_patient_id: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    studies: Mapped[list[Study]] = relationship(
        back_populates="patient", cascade="all, delete-orphan", passive_deletes=True
    )


class Study(Base):
    __tablename__ = "studies"
    __table_args__ = (
        Index("ix_studies_date_time", "study_date", "study_time"),
        # Narrow covering indexes: a name or description search scans one of these
        # (not the wide table) and sorts the matches by date.
        Index("ix_studies_name_key_date_time", "patient_name_key", "study_date", "study_time"),
        Index(
            "ix_studies_description_key_date_time",
            "study_description_key",
            "study_date",
            "study_time",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_pk: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    study_instance_uid: Mapped[str] = mapped_column(UID, unique=True)
    # Copies of the patient's search keys (see module docstring).
    patient_id: Mapped[str] = mapped_column(String(64), default="", index=True)
    patient_name_key: Mapped[str] = mapped_column(String(324), default="")
    study_date: Mapped[str] = mapped_column(String(8), default="")
    study_time: Mapped[str] = mapped_column(String(16), default="")
    accession_number: Mapped[str] = mapped_column(String(64), default="", index=True)
    study_id: Mapped[str] = mapped_column(String(16), default="")
    study_description: Mapped[str] = mapped_column(String(324), default="")
    study_description_key: Mapped[str] = mapped_column(String(324), default="")
    referring_physician: Mapped[str] = mapped_column(String(324), default="")
    referring_physician_key: Mapped[str] = mapped_column(String(324), default="")
    institution_name: Mapped[str] = mapped_column(String(128), default="")
    #: Sorted, backslash-separated, e.g. ``CT\SR``.
    modalities_in_study: Mapped[str] = mapped_column(String(128), default="")
    character_set: Mapped[str] = mapped_column(String(128), default="")
    num_series: Mapped[int] = mapped_column(Integer, default=0)
    num_instances: Mapped[int] = mapped_column(Integer, default=0)
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    #: Instances of the study stored with an "incomplete" mark (see Instance.incomplete).
    num_incomplete: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)

    patient: Mapped[Patient] = relationship(back_populates="studies")
    series: Mapped[list[Series]] = relationship(
        back_populates="study", cascade="all, delete-orphan", passive_deletes=True
    )


class Series(Base):
    __tablename__ = "series"
    __table_args__ = (Index("ix_series_modality_study", "modality", "study_pk"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_pk: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    series_instance_uid: Mapped[str] = mapped_column(UID, unique=True)
    modality: Mapped[str] = mapped_column(String(16), default="")
    series_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    series_description: Mapped[str] = mapped_column(String(324), default="")
    series_date: Mapped[str] = mapped_column(String(8), default="")
    series_time: Mapped[str] = mapped_column(String(16), default="")
    body_part_examined: Mapped[str] = mapped_column(String(64), default="")
    protocol_name: Mapped[str] = mapped_column(String(64), default="")
    manufacturer: Mapped[str] = mapped_column(String(64), default="")
    station_name: Mapped[str] = mapped_column(String(64), default="")
    frame_of_reference_uid: Mapped[str] = mapped_column(UID, default="")
    num_instances: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    study: Mapped[Study] = relationship(back_populates="series")
    instances: Mapped[list[Instance]] = relationship(
        back_populates="series", cascade="all, delete-orphan", passive_deletes=True
    )


class Instance(Base):
    __tablename__ = "instances"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_pk: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    sop_instance_uid: Mapped[str] = mapped_column(UID, unique=True)
    sop_class_uid: Mapped[str] = mapped_column(UID, default="")
    instance_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    number_of_frames: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rows: Mapped[int | None] = mapped_column(Integer, nullable=True)
    columns: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: Backslash-separated decimal strings as in the file (3 and 6 values).
    image_position_patient: Mapped[str] = mapped_column(String(128), default="")
    image_orientation_patient: Mapped[str] = mapped_column(String(256), default="")
    pixel_spacing: Mapped[str] = mapped_column(String(64), default="")
    slice_thickness: Mapped[float | None] = mapped_column(Float, nullable=True)
    slice_location: Mapped[float | None] = mapped_column(Float, nullable=True)
    acquisition_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    content_date: Mapped[str] = mapped_column(String(8), default="")
    content_time: Mapped[str] = mapped_column(String(16), default="")
    photometric_interpretation: Mapped[str] = mapped_column(String(16), default="")
    transfer_syntax_uid: Mapped[str] = mapped_column(UID, default="")
    #: Why the stored file is incomplete (pixel data shorter than the image size, or an
    #: element running past the end of the file); empty when it is complete.
    incomplete: Mapped[str] = mapped_column(String(200), default="", server_default="")
    #: "import", "c-store", "stow", "wado", ... and the calling AE title for DIMSE.
    source: Mapped[str] = mapped_column(String(32), default="")
    calling_aet: Mapped[str] = mapped_column(String(16), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    series: Mapped[Series] = relationship(back_populates="instances")
    file: Mapped[AttachedFile] = relationship(
        back_populates="instance", cascade="all, delete-orphan", passive_deletes=True
    )


class AttachedFile(Base):
    """The stored Part-10 file of one instance (Orthanc's ``AttachedFiles``)."""

    __tablename__ = "attached_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_pk: Mapped[int] = mapped_column(
        ForeignKey("instances.id", ondelete="CASCADE"), unique=True
    )
    #: Our own id; the file is ``<store>/<uuid[0:2]>/<uuid[2:4]>/<uuid>.dcm``.
    uuid: Mapped[str] = mapped_column(String(32), unique=True)
    relative_path: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    #: SHA-256 of the whole stored file (hex).
    sha256: Mapped[str] = mapped_column(String(64))
    transfer_syntax_uid: Mapped[str] = mapped_column(UID, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    instance: Mapped[Instance] = relationship(back_populates="file")


class PatientConflict(Base):
    """The same Patient ID seen with another name or birth date (never merged)."""

    __tablename__ = "patient_conflicts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[str] = mapped_column(String(64), index=True)
    #: "identity" (a new patient row with a known Patient ID) or "study_patient" (an
    #: instance whose patient differs from the patient of its already-stored study).
    kind: Mapped[str] = mapped_column(String(16))
    existing_patient_pk: Mapped[int | None] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), nullable=True
    )
    new_patient_pk: Mapped[int | None] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), nullable=True
    )
    study_instance_uid: Mapped[str] = mapped_column(UID, default="")
    sop_instance_uid: Mapped[str] = mapped_column(UID, default="")
    source: Mapped[str] = mapped_column(String(32), default="")
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    detected_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


#: Core handles of the tables (for the bulk and query code).
PATIENTS = _table(Patient)
STUDIES = _table(Study)
SERIES = _table(Series)
INSTANCES = _table(Instance)
FILES = _table(AttachedFile)
PATIENT_CONFLICTS = _table(PatientConflict)
