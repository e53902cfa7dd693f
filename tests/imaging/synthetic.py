"""Small DICOM images built in code, covering every pixel path the imaging package has.

Nothing here decides expected results: tests compute those independently (formulas,
pydicom's own conversions, dcmtk).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

CT_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
ENHANCED_CT_STORAGE = "1.2.840.10008.5.1.4.1.1.2.1"


def make_image(
    pixels: np.ndarray,
    *,
    photometric: str = "MONOCHROME2",
    bits_stored: int | None = None,
    modality: str = "OT",
    sop_class: str = SecondaryCaptureImageStorage,
    **attrs: Any,
) -> Dataset:
    """A data set holding `pixels` natively (explicit VR little endian)."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = modality
    ds.PatientName = "Synthetic^Test"
    ds.PatientID = "SYN-1"
    ds.set_pixel_data(pixels, photometric, bits_stored or pixels.dtype.itemsize * 8)
    for key, value in attrs.items():
        setattr(ds, key, value)
    return ds


def save(ds: Dataset, path: Path) -> Path:
    ds.save_as(path, enforce_file_format=True)
    return path


def compressed(ds: Dataset, transfer_syntax: str, **kwargs: Any) -> Dataset:
    """A compressed deep copy of `ds` (RLE and JPEG 2000 have encoders here)."""
    out = copy.deepcopy(ds)
    out.compress(transfer_syntax, **kwargs)
    return out


def ramp(rows: int, cols: int, lo: int, hi: int, dtype: str) -> np.ndarray:
    """Values from lo to hi across the image (every row a ramp, rows offset)."""
    base = np.linspace(lo, hi, rows * cols).reshape(rows, cols)
    return np.round(base).astype(dtype)


def ct_slice(
    values_hu: np.ndarray,
    *,
    position: Sequence[float],
    orientation: Sequence[float] = (1, 0, 0, 0, 1, 0),
    spacing: Sequence[float] = (0.5, 0.5),
    series_uid: str | None = None,
    intercept: int = -1024,
    **attrs: Any,
) -> Dataset:
    """A CT slice storing HU as uint16 (12 bits) with Rescale Intercept `intercept`."""
    stored = (values_hu.astype(np.int32) - intercept).astype(np.uint16)
    ds = make_image(
        stored,
        bits_stored=12,
        modality="CT",
        sop_class=CT_STORAGE,
        RescaleIntercept=intercept,
        RescaleSlope=1,
        RescaleType="HU",
        ImagePositionPatient=[float(v) for v in position],
        ImageOrientationPatient=[float(v) for v in orientation],
        PixelSpacing=[float(v) for v in spacing],
        FrameOfReferenceUID="1.2.3.4",
        **attrs,
    )
    if series_uid:
        ds.SeriesInstanceUID = series_uid
    return ds


def ct_series(
    directory: Path,
    count: int,
    *,
    rows: int = 32,
    cols: int = 32,
    spacing_mm: float = 2.0,
    orientation: Sequence[float] = (1, 0, 0, 0, 1, 0),
) -> list[Path]:
    """`count` CT slices along the normal of `orientation`; slice k has HU = k*10 + ramp."""
    directory.mkdir(parents=True, exist_ok=True)
    row, col = np.asarray(orientation[:3], float), np.asarray(orientation[3:], float)
    normal = np.cross(row, col)
    uid = generate_uid()
    paths = []
    for k in range(count):
        values = ramp(rows, cols, -1000, 1000, "int16") + k * 10
        pos = np.array([-100.0, -120.0, 50.0]) + k * spacing_mm * normal
        ds = ct_slice(
            values, position=pos, orientation=orientation, series_uid=uid, InstanceNumber=k + 1
        )
        paths.append(save(ds, directory / f"s{k:04d}.dcm"))
    return paths


def palette_image(
    rows: int = 8, cols: int = 16, *, bits: int = 8, segmented: bool = False
) -> Dataset:
    """A PALETTE COLOR image whose indices sweep 0..255 through a 256-entry palette."""
    indices = (np.arange(rows * cols).reshape(rows, cols) % 256).astype(np.uint8)
    ds = make_image(indices, photometric="PALETTE COLOR")
    top = 255 if bits == 8 else 65535
    ramp_up = np.round(np.linspace(0, top, 256)).astype(np.uint16)
    tables = {
        "Red": ramp_up,
        "Green": ramp_up[::-1].copy(),
        "Blue": np.full(256, top // 2, np.uint16),
    }
    for name, table in tables.items():
        setattr(ds, f"{name}PaletteColorLookupTableDescriptor", [256, 0, bits])
        if segmented:
            # one discrete segment with the first value, then a linear segment to the last
            words = [0, 1, int(table[0]), 1, 255, int(table[-1])]
            setattr(
                ds,
                f"Segmented{name}PaletteColorLookupTableData",
                np.asarray(words, "<u2").tobytes(),
            )
        else:
            setattr(ds, f"{name}PaletteColorLookupTableData", table.astype("<u2").tobytes())
    return ds


def enhanced_ct(frames: int = 3, rows: int = 16, cols: int = 16) -> Dataset:
    """An enhanced multi-frame CT with per-frame position, rescale and window."""
    stored = np.stack([np.full((rows, cols), 1000 + 100 * k, np.uint16) for k in range(frames)])
    ds = make_image(stored, bits_stored=16, modality="CT", sop_class=ENHANCED_CT_STORAGE)
    ds.NumberOfFrames = frames
    shared = Dataset()
    measures = Dataset()
    measures.PixelSpacing = [0.8, 0.6]
    measures.SliceThickness = 1.5
    shared.PixelMeasuresSequence = DicomSequence([measures])
    orient = Dataset()
    orient.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    shared.PlaneOrientationSequence = DicomSequence([orient])
    ds.SharedFunctionalGroupsSequence = DicomSequence([shared])
    per_frame = []
    for k in range(frames):
        item = Dataset()
        pos = Dataset()
        pos.ImagePositionPatient = [0.0, 0.0, 3.0 * k]
        item.PlanePositionSequence = DicomSequence([pos])
        pvt = Dataset()
        pvt.RescaleIntercept = -1024 - k
        pvt.RescaleSlope = 1
        pvt.RescaleType = "HU"
        item.PixelValueTransformationSequence = DicomSequence([pvt])
        voi = Dataset()
        voi.WindowCenter = 40 + k
        voi.WindowWidth = 400 + 10 * k
        item.FrameVOILUTSequence = DicomSequence([voi])
        per_frame.append(item)
    ds.PerFrameFunctionalGroupsSequence = DicomSequence(per_frame)
    return ds
