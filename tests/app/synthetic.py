"""Small synthetic DICOM studies (pydicom) for GUI tests: real files, tiny pixels."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid


def write_study(
    folder: Path,
    *,
    patient_name: str,
    patient_id: str,
    study_date: str = "20240115",
    modality: str = "CT",
    series: int = 1,
    images: int = 3,
    size: int = 64,
    accession: str = "",
    pixels: Callable[[int], np.ndarray] | None = None,
) -> str:
    """Write one study as Part-10 files under ``folder``; its Study Instance UID.

    ``pixels(i)`` gives image ``i``'s stored int16 values (``size`` x ``size``); by
    default a disc on a ramp, brighter with each image."""
    folder.mkdir(parents=True, exist_ok=True)
    study_uid = generate_uid()
    yy, xx = np.mgrid[0:size, 0:size]
    for s in range(series):
        series_uid = generate_uid()
        for i in range(images):
            ds = Dataset()
            ds.file_meta = FileMetaDataset()
            ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
            ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
            ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
            ds.SOPClassUID = CTImageStorage
            ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
            ds.StudyInstanceUID = study_uid
            ds.SeriesInstanceUID = series_uid
            ds.PatientName = patient_name
            ds.PatientID = patient_id
            ds.PatientBirthDate = "19700101"
            ds.PatientSex = "O"
            ds.StudyDate = study_date
            ds.StudyTime = "101500"
            ds.AccessionNumber = accession
            ds.StudyID = "1"
            ds.StudyDescription = f"Synthetic {modality}"
            ds.Modality = modality
            ds.SeriesNumber = s + 1
            ds.SeriesDescription = f"Series {s + 1}"
            ds.InstanceNumber = i + 1
            ds.ImagePositionPatient = [0.0, 0.0, float(i)]
            ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
            ds.PixelSpacing = [0.5, 0.5]
            ds.SliceThickness = 1.0
            ds.Rows = ds.Columns = size
            ds.SamplesPerPixel = 1
            ds.PhotometricInterpretation = "MONOCHROME2"
            ds.BitsAllocated = 16
            ds.BitsStored = 16
            ds.HighBit = 15
            ds.PixelRepresentation = 1
            ds.RescaleIntercept = -1024
            ds.RescaleSlope = 1
            ds.WindowCenter = 40
            ds.WindowWidth = 400
            if pixels is not None:
                values = pixels(i).astype(np.int16)
            else:
                disc = ((yy - size / 2) ** 2 + (xx - size / 2) ** 2 < (size / 3) ** 2) * 1100
                values = (disc + 20 * i + 4 * xx).astype(np.int16)
            ds.PixelData = values.tobytes()
            ds.save_as(folder / f"s{s}_i{i}.dcm", enforce_file_format=True)
    return study_uid
