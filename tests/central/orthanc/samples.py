"""Small synthetic DICOM instances for the Orthanc tests (no patient data, fresh UIDs)."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
ENCAPSULATED_PDF = "1.2.840.10008.5.1.4.1.1.104.1"

MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


@dataclass(frozen=True)
class Instance:
    data: bytes
    study_uid: str
    series_uid: str
    sop_uid: str
    sop_class: str
    patient_id: str


def _base(
    sop_class: str, study_uid: str | None, modality: str, patient_id: str | None = None
) -> Dataset:
    ds = Dataset()
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = study_uid or generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.PatientID = patient_id or "SYN-" + uuid.uuid4().hex[:8]
    ds.PatientName = "Synthetic^Test"
    ds.StudyDate = "20260101"
    ds.Modality = modality
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    return ds


def _encode(ds: Dataset) -> Instance:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return Instance(
        buf.getvalue(),
        ds.StudyInstanceUID,
        ds.SeriesInstanceUID,
        ds.SOPInstanceUID,
        ds.SOPClassUID,
        ds.PatientID,
    )


def ct_image(
    study_uid: str | None = None, patient_id: str | None = None, size: int = 16
) -> Instance:
    ds = _base(CT_IMAGE, study_uid, "CT", patient_id)
    ds.Rows = ds.Columns = size
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1
    ds.RescaleIntercept = 0
    ds.RescaleSlope = 1
    ds.PixelData = (np.arange(size * size, dtype=np.int16) - 100).tobytes()
    return _encode(ds)


def pdf_report(study_uid: str, patient_id: str | None = None) -> Instance:
    """A report for ``study_uid`` (give the study's ``patient_id`` so it lands in that study)."""
    ds = _base(ENCAPSULATED_PDF, study_uid, "DOC", patient_id)
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    ds.DocumentTitle = "Report"
    ds.BurnedInAnnotation = "YES"
    ds.EncapsulatedDocument = MINIMAL_PDF + b"\0" * (len(MINIMAL_PDF) % 2)
    return _encode(ds)


def multipart_related(parts: list[bytes], boundary: str | None = None) -> tuple[bytes, str]:
    """(body, content type) of a STOW-RS request carrying ``parts``."""
    boundary = boundary or uuid.uuid4().hex
    body = b""
    for part in parts:
        body += f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode() + part + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return body, f'multipart/related; type="application/dicom"; boundary={boundary}'
