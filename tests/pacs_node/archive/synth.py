"""Small synthetic DICOM instances built in tests (no real patient data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid


def make_ct(
    *,
    patient_name: str = "TEST^PATIENT",
    patient_id: str = "PID0001",
    birth_date: str = "19700101",
    study_uid: str | None = None,
    series_uid: str | None = None,
    sop_uid: str | None = None,
    instance_number: int = 1,
    study_date: str = "20240115",
    modality: str = "CT",
    description: str = "CHEST",
    accession: str = "ACC0001",
    charset: str = "ISO_IR 192",
    size: int = 16,
    seed: int = 0,
) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.SpecificCharacterSet = charset
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = sop_uid or generate_uid()
    ds.StudyInstanceUID = study_uid or generate_uid()
    ds.SeriesInstanceUID = series_uid or generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.PatientName = patient_name
    ds.PatientID = patient_id
    ds.PatientBirthDate = birth_date
    ds.PatientSex = "O"
    ds.StudyDate = study_date
    ds.StudyTime = "101500"
    ds.StudyID = "1"
    ds.AccessionNumber = accession
    ds.StudyDescription = description
    ds.ReferringPhysicianName = "REF^DOCTOR"
    ds.Modality = modality
    ds.SeriesNumber = 1
    ds.InstanceNumber = instance_number
    ds.ImagePositionPatient = [0.0, 0.0, float(instance_number)]
    ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    ds.PixelSpacing = [0.5, 0.5]
    ds.SliceThickness = 1.0
    ds.FrameOfReferenceUID = generate_uid(entropy_srcs=[ds.StudyInstanceUID])
    ds.Rows = ds.Columns = size
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.RescaleIntercept = -1024
    ds.RescaleSlope = 1
    rng = np.random.default_rng(seed + instance_number)
    ds.PixelData = rng.integers(-1000, 2000, (size, size), dtype=np.int16).tobytes()
    return ds


def write_series(folder: Path, count: int, *, prefix: str = "IM", **kwargs: object) -> list[Path]:
    """``count`` instances of one new series (same study/patient) as files in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    study_uid = kwargs.pop("study_uid", None) or generate_uid()
    series_uid = kwargs.pop("series_uid", None) or generate_uid()
    paths = []
    for i in range(1, count + 1):
        ds = make_ct(study_uid=study_uid, series_uid=series_uid, instance_number=i, **kwargs)  # type: ignore[arg-type]
        path = folder / f"{prefix}{i:05d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths
