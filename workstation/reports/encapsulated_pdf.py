"""A signed report as a DICOM Encapsulated PDF instance in its study.

The instance (SOP Class 1.2.840.10008.5.1.4.1.1.104.1) lives in the study's report
series (Modality ``DOC``), one series per study: its Series Instance UID is derived from
the Study Instance UID, so every version of a study's report lands in the same series;
the SOP Instance UID is derived from the report version's id, so building the instance
again gives the same instance (byte for byte: every time in it is the signing time).

Patient and study attributes come from a header of the study's own instances (see
:func:`study_header`); text is written as UTF-8 (``ISO_IR 192``).  A final version
carries ``VerificationFlag`` VERIFIED and its Verifying Observer; an amendment names the
version it replaces in ``PredecessorDocumentsSequence``.  The PDF is padded with one
NUL to an even length and (0042,0015) holds its real length; the signed PDF ends
``%%EOF\\n``, so a reader that drops a trailing pad byte (Orthanc's ``/pdf``) still gets
it whole.  Every element is validated as pydicom's writing validation RAISE does
before the instance is written (element by element: pydicom's mode is global).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from pydicom import config as dicom_config
from pydicom import dcmread
from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import EncapsulatedPDFStorage, ExplicitVRLittleEndian, generate_uid
from pydicom.valuerep import validate_value

from workstation import __version__
from workstation.imaging.patient_study import PATIENT_STUDY_KEYWORDS, PATIENT_STUDY_TYPE2
from workstation.reports.model import Report, ReportStatus

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

logger = logging.getLogger(__name__)

#: LOINC code of the document (the Concept Name, and the title when none is given).
REPORT_CODE = ("18748-4", "LN", "Diagnostic imaging report")
MODALITY = "DOC"
#: Series Number of a study's report series (high, after the acquired series).
SERIES_NUMBER = 9800
SERIES_DESCRIPTION = "Reports"
MANUFACTURER = "Klinika Workstation"


class EncapsulationError(ValueError):
    """The report cannot be made into a valid instance (no PDF, no study header)."""


@dataclass(frozen=True)
class ReportInstance:
    """A built instance: its Part-10 bytes and the UIDs it carries."""

    data: bytes
    study_instance_uid: str
    series_instance_uid: str
    sop_instance_uid: str


def report_series_uid(study_uid: str) -> str:
    """The Series Instance UID of a study's report series (the same for every version)."""
    return generate_uid(prefix="2.25.", entropy_srcs=["klinika-report-series", study_uid])


def report_instance_uid(report_id: str) -> str:
    """The SOP Instance UID of a report version's Encapsulated PDF."""
    return generate_uid(prefix="2.25.", entropy_srcs=["klinika-report-pdf", report_id])


def _check_strictly(ds: Dataset) -> None:
    """Validate every element (nested ones too) as pydicom's writing validation RAISE
    does, without switching pydicom's global mode (other threads write DICOM too)."""
    for elem in ds:
        if elem.VR == "SQ":
            for item in elem.value:
                _check_strictly(item)
        elif elem.VR in ("IS", "DS") and elem.value is not None:
            # pydicom validates number strings as typed, before they become IS/DS.
            values = elem.value if elem.VM > 1 else [elem.value]
            for value in values:
                validate_value(elem.VR, str(value), dicom_config.RAISE)
        else:
            validate_value(elem.VR, elem.value, dicom_config.RAISE)


class StudyInstances(Protocol):
    """What :func:`study_header` needs of the local archive (reports sit beside it)."""

    def study_instances(self, study_uid: str, /) -> Iterable[Any]: ...

    def instance_file(self, sop_uid: str, /) -> Path: ...


def study_header(archive: StudyInstances, study_uid: str) -> Dataset:
    """The header (no pixels) of one of the study's own instances, not a report's."""
    for record in archive.study_instances(study_uid):
        if record.sop_class_uid == EncapsulatedPDFStorage:
            continue
        path = archive.instance_file(record.sop_instance_uid)
        return dcmread(path, stop_before_pixels=True, force=True)
    raise EncapsulationError(f"study {study_uid} holds no instance to copy the patient from")


def _copy_patient_study(ds: Dataset, header: Dataset) -> None:
    for keyword in PATIENT_STUDY_KEYWORDS:
        value: Any = header.get(keyword)
        if value is None or value == "":
            if keyword in PATIENT_STUDY_TYPE2:
                setattr(ds, keyword, None)
            continue
        if keyword in ("PatientName", "ReferringPhysicianName"):
            value = str(value)
        try:
            validate_value(dictionary_VR(keyword), value, dicom_config.RAISE)
            setattr(ds, keyword, value)
        except ValueError:
            # A value the study holds but a strict writer refuses (too long, bad chars).
            logger.info("report instance: %s of the study is not valid DICOM; left out", keyword)
            if keyword in PATIENT_STUDY_TYPE2:
                setattr(ds, keyword, None)


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def _dicom_dt(moment: dt.datetime) -> str:
    return moment.strftime("%Y%m%d%H%M%S%z")


def _signed_moment(report: Report) -> dt.datetime:
    """The signing time as an aware UTC datetime (the store keeps naive UTC)."""
    moment = report.signed_at or report.updated_at or report.created_at
    if moment is None:
        raise EncapsulationError(f"report {report.report_id} has no time to date it by")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).replace(microsecond=0)


def _observer(report: Report, organisation: str, moment: dt.datetime) -> Dataset:
    item = Dataset()
    item.VerifyingObserverName = report.signed_by or report.author
    item.VerifyingObserverIdentificationCodeSequence = DicomSequence()
    item.VerifyingOrganization = (organisation or MANUFACTURER)[:64]
    item.VerificationDateTime = _dicom_dt(moment)
    return item


def _predecessor(study_uid: str, predecessor_id: str) -> Dataset:
    sop = Dataset()
    sop.ReferencedSOPClassUID = EncapsulatedPDFStorage
    sop.ReferencedSOPInstanceUID = report_instance_uid(predecessor_id)
    series = Dataset()
    series.SeriesInstanceUID = report_series_uid(study_uid)
    series.ReferencedSOPSequence = DicomSequence([sop])
    item = Dataset()
    item.StudyInstanceUID = study_uid
    item.ReferencedSeriesSequence = DicomSequence([series])
    return item


def padded(pdf: bytes) -> bytes:
    """The document as stored: one NUL added when its length is odd."""
    return pdf + b"\0" if len(pdf) % 2 else pdf


def build_instance(
    report: Report,
    pdf: bytes,
    header: Dataset,
    *,
    organisation: str = "",
    title: str = "",
) -> ReportInstance:
    """The Encapsulated PDF instance of a signed (or preliminary) report version."""
    if not pdf.startswith(b"%PDF-"):
        raise EncapsulationError("the report's document is not a PDF")
    study_uid = report.study_instance_uid
    if str(header.get("StudyInstanceUID", "")) != study_uid:
        raise EncapsulationError("the header given is not from the report's study")
    moment = _signed_moment(report)
    local = moment.astimezone()
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = EncapsulatedPDFStorage
    ds.SOPInstanceUID = report_instance_uid(report.report_id)
    ds.InstanceCreationDate = local.strftime("%Y%m%d")
    ds.InstanceCreationTime = local.strftime("%H%M%S")
    ds.TimezoneOffsetFromUTC = local.strftime("%z")
    _copy_patient_study(ds, header)
    ds.StudyInstanceUID = study_uid
    # Encapsulated Document Series
    ds.Modality = MODALITY
    ds.SeriesInstanceUID = report_series_uid(study_uid)
    ds.SeriesNumber = SERIES_NUMBER
    ds.SeriesDescription = SERIES_DESCRIPTION
    # General Equipment, SC Equipment
    ds.Manufacturer = MANUFACTURER
    ds.SoftwareVersions = __version__
    ds.ConversionType = "WSD"
    # Encapsulated Document
    ds.InstanceNumber = report.version
    ds.ContentDate = local.strftime("%Y%m%d")
    ds.ContentTime = local.strftime("%H%M%S")
    ds.AcquisitionDateTime = _dicom_dt(local)
    ds.BurnedInAnnotation = "YES"
    ds.DocumentTitle = (title or REPORT_CODE[2])[:64]
    ds.ConceptNameCodeSequence = DicomSequence([_code(*REPORT_CODE)])
    if report.status in (ReportStatus.FINAL, ReportStatus.SUPERSEDED):
        ds.VerificationFlag = "VERIFIED"
        ds.VerifyingObserverSequence = DicomSequence([_observer(report, organisation, moment)])
    else:
        ds.VerificationFlag = "UNVERIFIED"
    if report.predecessor_id:
        ds.PredecessorDocumentsSequence = DicomSequence(
            [_predecessor(study_uid, report.predecessor_id)]
        )
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    ds.EncapsulatedDocument = padded(pdf)
    ds.EncapsulatedDocumentLength = len(pdf)
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return ReportInstance(encode(ds), study_uid, ds.SeriesInstanceUID, ds.SOPInstanceUID)


def encode(ds: Dataset) -> bytes:
    """Part-10 bytes of ``ds``, every element validated strictly first."""
    _check_strictly(ds)
    _check_strictly(ds.file_meta)
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def document_of(ds: Dataset) -> bytes:
    """The PDF of an Encapsulated PDF data set, without its pad byte."""
    data = bytes(ds.EncapsulatedDocument)
    length = ds.get("EncapsulatedDocumentLength")
    if length is not None and 0 <= int(length) <= len(data):
        return data[: int(length)]
    return data[:-1] if data.endswith(b"\0") else data


def predecessor_uids(ds: Dataset) -> Sequence[str]:
    """The SOP Instance UIDs an instance's PredecessorDocumentsSequence names."""
    return [
        str(sop.ReferencedSOPInstanceUID)
        for study in ds.get("PredecessorDocumentsSequence", [])
        for series in study.get("ReferencedSeriesSequence", [])
        for sop in series.get("ReferencedSOPSequence", [])
    ]
