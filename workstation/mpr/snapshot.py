"""A 3-D picture as a DICOM Secondary Capture image in the source study.

:func:`secondary_capture` builds the data set: SC Image Storage, the source's patient
and study modules and Study Instance UID, a new Series and SOP Instance UID, ImageType
``DERIVED\\SECONDARY\\VOLUME_RENDERING``, Conversion Type ``WSD`` (workstation), RGB
8-bit pixels, and a Derivation Description naming the rendering. :func:`write_snapshot`
writes it strictly; the file name is our own, never taken from DICOM values.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from workstation import __version__
from workstation.imaging.strict_write import save_strictly
from workstation.mpr.export import copy_source_modules

SECONDARY_CAPTURE_STORAGE = "1.2.840.10008.5.1.4.1.1.7"
#: Largest picture accepted (rows or columns).
MAX_SIDE = 8192


def secondary_capture(
    template: Any,
    rgb: np.ndarray,
    *,
    description: str,
    series_number: int = 9101,
) -> Dataset:
    """`rgb` ((rows, columns, 3) uint8) as a Secondary Capture in `template`'s study;
    `description` names the rendering (preset, mode) for Series/Derivation text."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError("a snapshot is a (rows, columns, 3) uint8 picture")
    if not 0 < rgb.shape[0] <= MAX_SIDE or not 0 < rgb.shape[1] <= MAX_SIDE:
        raise ValueError("snapshot size out of range")
    now = datetime.datetime.now()
    ds = copy_source_modules(template, patient_and_study_only=True)
    if "StudyInstanceUID" not in ds:
        raise ValueError("the source has no Study Instance UID")
    ds.SOPClassUID = SECONDARY_CAPTURE_STORAGE
    ds.SOPInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = str(template.get("Modality", "") or "OT")
    ds.SeriesNumber = series_number
    ds.InstanceNumber = 1
    ds.SeriesDescription = f"3-D {description}"[:64]
    ds.Laterality = template.get("Laterality", None)
    ds.ConversionType = "WSD"
    ds.Manufacturer = None
    ds.SoftwareVersions = f"Klinika Workstation {__version__}"
    ds.ImageType = ["DERIVED", "SECONDARY", "VOLUME_RENDERING"]
    ds.DerivationDescription = f"3-D rendering: {description}"[:1024]
    ds.BurnedInAnnotation = "NO"
    ds.PatientOrientation = None
    ds.SeriesDate = ds.ContentDate = ds.DateOfSecondaryCapture = now.strftime("%Y%m%d")
    ds.SeriesTime = ds.ContentTime = ds.TimeOfSecondaryCapture = now.strftime("%H%M%S")
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = "RGB"
    ds.PlanarConfiguration = 0
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.Rows, ds.Columns = int(rgb.shape[0]), int(rgb.shape[1])
    ds.LossyImageCompression = "00"
    ds.PixelData = np.ascontiguousarray(rgb).tobytes()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    return ds


def write_snapshot(ds: Dataset, folder: Path) -> Path:
    """Write `ds` to the first free ``folder/SC00001.dcm``, ``SC00002.dcm`` … with
    pydicom's writing validation set to RAISE; the path written."""
    folder.mkdir(parents=True, exist_ok=True)
    n = 1
    while (folder / f"SC{n:05d}.dcm").exists():
        n += 1
    path = folder / f"SC{n:05d}.dcm"
    save_strictly(ds, path)
    return path
