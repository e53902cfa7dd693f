"""The indexed tags of one instance, read leniently from a header-only dataset."""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from pydicom.datadict import tag_for_keyword
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag, Tag

from workstation.i18n import _
from workstation.imaging.charset_fallback import mark
from workstation.pacs_node.archive.errors import InvalidDicomError
from workstation.pacs_node.archive.fastheader import FALLBACK_KEY
from workstation.pacs_node.archive.normalize import fold

logger = logging.getLogger(__name__)

MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"
_UID_CHARS = re.compile(r"^[0-9A-Za-z.\-_]+$")


@dataclass(frozen=True)
class PatientKey:
    patient_id: str
    patient_name: str
    birth_date: str

    @property
    def name_key(self) -> str:
        return fold(self.patient_name)


@dataclass
class InstanceHeader:
    """Everything the index stores about one instance (and its series/study/patient)."""

    sop_instance_uid: str
    sop_class_uid: str
    study_instance_uid: str
    series_instance_uid: str
    transfer_syntax_uid: str
    patient: PatientKey
    patient_sex: str = ""
    issuer_of_patient_id: str = ""
    character_set: str = ""
    study: dict[str, Any] = field(default_factory=dict)
    series: dict[str, Any] = field(default_factory=dict)
    instance: dict[str, Any] = field(default_factory=dict)


@functools.cache
def _tag(keyword: str) -> BaseTag:
    tag = tag_for_keyword(keyword)
    assert tag is not None, keyword
    return Tag(tag)


#: A header source: a pydicom Dataset, or keyword -> value from the fast reader.
Source = Dataset | dict[str, Any]


def _text(ds: Source, keyword: str, limit: int = 324) -> str:
    try:
        if isinstance(ds, dict):
            value = ds.get(keyword)
        else:
            elem = ds.get(_tag(keyword))  # by tag: faster than by keyword
            value = None if elem is None else elem.value
    except Exception:
        logger.debug("unreadable element %s", keyword, exc_info=True)
        return ""
    if value is None:
        return ""
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        text = "\\".join(str(v) for v in value)
    else:
        text = str(value)
    return text.replace("\x00", "").strip()[:limit]


def _int(ds: Source, keyword: str) -> int | None:
    text = _text(ds, keyword, 32)
    try:
        return int(float(text.split("\\")[0])) if text else None
    except ValueError:
        return None


def _float(ds: Source, keyword: str) -> float | None:
    text = _text(ds, keyword, 32)
    try:
        return float(text.split("\\")[0]) if text else None
    except ValueError:
        return None


def _date(ds: Source, keyword: str) -> str:
    text = _text(ds, keyword, 32).replace("-", "").replace(".", "")
    return text[:8] if re.fullmatch(r"\d{8}", text[:8] or "x") else ""


def check_uid(value: str, what: str) -> str:
    """Return a usable UID or raise InvalidDicomError naming the problem."""
    if not value:
        raise InvalidDicomError(_("{what} is missing.").format(what=what))
    if len(value) > 64 or not _UID_CHARS.match(value):
        raise InvalidDicomError(_("{what} is not a valid UID.").format(what=what))
    return value


def extract_header(ds: Source, transfer_syntax_uid: str, fallback_used: str = "") -> InstanceHeader:
    """Read the indexed tags; raise InvalidDicomError when the UIDs are unusable.

    ``ds`` is a pydicom Dataset or the fast reader's dict (which carries the file meta's
    MediaStorageSOPClassUID/InstanceUID under those keywords, and the fallback character
    set it used, if any).  ``fallback_used``: the fallback character set a Dataset was
    given (:func:`charset_fallback.apply_to_dataset`); the header's ``character_set``
    then records it as ``fallback:<name>``.
    """
    if isinstance(ds, dict):
        fallback_used = ds.get(FALLBACK_KEY) or fallback_used
    meta: Source = ds if isinstance(ds, dict) else (getattr(ds, "file_meta", None) or Dataset())
    sop_class = _text(ds, "SOPClassUID", 80) or _text(meta, "MediaStorageSOPClassUID", 80)
    sop_uid = _text(ds, "SOPInstanceUID", 80) or _text(meta, "MediaStorageSOPInstanceUID", 80)
    if sop_class == MEDIA_STORAGE_DIRECTORY:
        raise InvalidDicomError(
            _("This is a DICOMDIR index, not an image; it was read, not stored.")
        )
    header = InstanceHeader(
        sop_instance_uid=check_uid(sop_uid, _("SOP Instance UID")),
        sop_class_uid=check_uid(sop_class, _("SOP Class UID")),
        study_instance_uid=check_uid(_text(ds, "StudyInstanceUID", 80), _("Study Instance UID")),
        series_instance_uid=check_uid(_text(ds, "SeriesInstanceUID", 80), _("Series Instance UID")),
        transfer_syntax_uid=transfer_syntax_uid,
        patient=PatientKey(
            patient_id=_text(ds, "PatientID", 64),
            patient_name=_text(ds, "PatientName"),
            birth_date=_date(ds, "PatientBirthDate"),
        ),
        patient_sex=_text(ds, "PatientSex", 16),
        issuer_of_patient_id=_text(ds, "IssuerOfPatientID", 64),
        character_set=(
            mark(fallback_used) if fallback_used else _text(ds, "SpecificCharacterSet", 128)
        ),
    )
    header.study = {
        "study_date": _date(ds, "StudyDate"),
        "study_time": _text(ds, "StudyTime", 16),
        "accession_number": _text(ds, "AccessionNumber", 64),
        "study_id": _text(ds, "StudyID", 16),
        "study_description": _text(ds, "StudyDescription"),
        "referring_physician": _text(ds, "ReferringPhysicianName"),
        "institution_name": _text(ds, "InstitutionName", 128),
    }
    header.series = {
        "modality": _text(ds, "Modality", 16),
        "series_number": _int(ds, "SeriesNumber"),
        "series_description": _text(ds, "SeriesDescription"),
        "series_date": _date(ds, "SeriesDate"),
        "series_time": _text(ds, "SeriesTime", 16),
        "body_part_examined": _text(ds, "BodyPartExamined", 64),
        "protocol_name": _text(ds, "ProtocolName", 64),
        "manufacturer": _text(ds, "Manufacturer", 64),
        "station_name": _text(ds, "StationName", 64),
        "frame_of_reference_uid": _text(ds, "FrameOfReferenceUID", 64),
    }
    header.instance = {
        "instance_number": _int(ds, "InstanceNumber"),
        "number_of_frames": _int(ds, "NumberOfFrames"),
        "rows": _int(ds, "Rows"),
        "columns": _int(ds, "Columns"),
        "image_position_patient": _text(ds, "ImagePositionPatient", 128),
        "image_orientation_patient": _text(ds, "ImageOrientationPatient", 256),
        "pixel_spacing": _text(ds, "PixelSpacing", 64),
        "slice_thickness": _float(ds, "SliceThickness"),
        "slice_location": _float(ds, "SliceLocation"),
        "acquisition_number": _int(ds, "AcquisitionNumber"),
        "content_date": _date(ds, "ContentDate"),
        "content_time": _text(ds, "ContentTime", 16),
        "photometric_interpretation": _text(ds, "PhotometricInterpretation", 16),
        # Set by the store when the file is cut short (see archive.completeness).
        "incomplete": "",
    }
    return header
