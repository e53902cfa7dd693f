"""Read-side values: what queries return (frozen, JSON-friendly)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


def _floats(text: str) -> tuple[float, ...] | None:
    if not text:
        return None
    try:
        return tuple(float(v) for v in text.split("\\"))
    except ValueError:
        return None


@dataclass(frozen=True)
class StudyRecord:
    study_instance_uid: str
    patient_id: str
    patient_name: str
    patient_birth_date: str
    patient_sex: str
    study_date: str
    study_time: str
    accession_number: str
    study_id: str
    study_description: str
    referring_physician: str
    institution_name: str
    modalities: tuple[str, ...]
    num_series: int
    num_instances: int
    size_bytes: int
    character_set: str
    updated_at: dt.datetime
    #: Instances stored with an "incomplete" mark (cut short or pixel data too short).
    num_incomplete: int = 0

    @property
    def charset_fallback(self) -> str:
        """The site's fallback character set this study's text was read with ("" when
        its files declared theirs; see :mod:`charset_fallback`)."""
        from workstation.imaging.charset_fallback import fallback_of

        return fallback_of(self.character_set)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["modalities"] = list(self.modalities)
        out["updated_at"] = self.updated_at.isoformat()
        out["charset_fallback"] = self.charset_fallback
        out["incomplete"] = out.pop("num_incomplete")
        return out


@dataclass(frozen=True)
class SeriesRecord:
    series_instance_uid: str
    study_instance_uid: str
    modality: str
    series_number: int | None
    series_description: str
    series_date: str
    series_time: str
    body_part_examined: str
    protocol_name: str
    manufacturer: str
    frame_of_reference_uid: str
    num_instances: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class InstanceRecord:
    sop_instance_uid: str
    series_instance_uid: str
    sop_class_uid: str
    instance_number: int | None
    number_of_frames: int | None
    rows: int | None
    columns: int | None
    image_position_patient: tuple[float, ...] | None
    image_orientation_patient: tuple[float, ...] | None
    pixel_spacing: tuple[float, ...] | None
    slice_thickness: float | None
    slice_location: float | None
    acquisition_number: int | None
    photometric_interpretation: str
    transfer_syntax_uid: str
    #: Absolute path of the stored Part-10 file.
    path: Path
    size: int
    sha256: str
    #: Why the stored file is incomplete; empty when it is complete.
    incomplete: str = ""

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["path"] = str(self.path)
        return out


@dataclass(frozen=True)
class PatientConflictRecord:
    id: int
    kind: str
    patient_id: str
    existing_name: str
    existing_birth_date: str
    new_name: str
    new_birth_date: str
    study_instance_uid: str
    sop_instance_uid: str
    source: str
    detected_at: dt.datetime

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["detected_at"] = self.detected_at.isoformat()
        return out


__all__ = [
    "InstanceRecord",
    "PatientConflictRecord",
    "SeriesRecord",
    "StudyRecord",
    "_floats",
]
