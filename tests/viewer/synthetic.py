"""Synthetic DICOM series for viewer tests: known geometry, known values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, MRImageStorage, generate_uid

CT_SPACING = (0.7, 0.6)  # row spacing, column spacing (mm): deliberately not square


def ct_pixels(rows: int, cols: int, k: int) -> np.ndarray:
    """Stored values (HU + 1024): air background, a water disc, a bone square, and a
    bright marker whose column grows with the slice index k."""
    img = np.zeros((rows, cols), dtype=np.int16)  # -1024 HU after rescale
    rr, cc = np.mgrid[0:rows, 0:cols]
    disc = (rr - rows / 2) ** 2 + (cc - cols / 2) ** 2 <= (rows * 0.35) ** 2
    img[disc] = 1024  # water: 0 HU
    img[rows // 4 : rows // 4 + rows // 8, cols // 4 : cols // 4 + cols // 8] = 1024 + 1000
    img[rows - 12 : rows - 4, 4 + (k % (cols - 12)) : 12 + (k % (cols - 12))] = 1024 + 3000
    return img


def _base(modality: str, sop_class: str, study_uid: str, series_uid: str, for_uid: str) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = sop_class
    ds.Modality = modality
    ds.PatientName = "Test^Synthetic"
    ds.PatientID = "SYN-001"
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.FrameOfReferenceUID = for_uid
    ds.StudyDescription = "Synthetic study"
    ds.StudyDate = "20260101"
    return ds


def write_ct_series(
    folder: Path,
    n: int = 20,
    rows: int = 128,
    cols: int = 160,
    *,
    study_uid: str | None = None,
    for_uid: str | None = None,
    spacing: tuple[float, float] | None = CT_SPACING,
    slice_mm: float = 2.5,
    orientation: tuple[float, ...] = (1, 0, 0, 0, 1, 0),
    description: str = "Synthetic CT",
    series_number: int = 1,
    shuffle: bool = True,
    origin: tuple[float, float, float] = (-50.0, -40.0, -100.0),
) -> list[Path]:
    """An axial CT stack written in a shuffled file order (sorting must fix it)."""
    folder.mkdir(parents=True, exist_ok=True)
    study_uid = study_uid or generate_uid()
    for_uid = for_uid or generate_uid()
    series_uid = generate_uid()
    iop = np.asarray(orientation, dtype=float)
    normal = np.cross(iop[:3], iop[3:])
    paths = []
    order = np.random.default_rng(1).permutation(n) if shuffle else np.arange(n)
    for file_no, k in enumerate(order):
        ds = _base("CT", CTImageStorage, study_uid, series_uid, for_uid)
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.SeriesDescription = description
        ds.SeriesNumber = series_number
        ds.InstanceNumber = int(k) + 1
        ds.ImageOrientationPatient = [f"{v:g}" for v in orientation]
        pos = np.array(origin) + normal * slice_mm * float(k)
        ds.ImagePositionPatient = [f"{v:.4f}" for v in pos]
        if spacing is not None:
            ds.PixelSpacing = [f"{spacing[0]:g}", f"{spacing[1]:g}"]
        ds.SliceThickness = f"{slice_mm:g}"
        ds.Rows, ds.Columns = rows, cols
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
        ds.PixelRepresentation = 1
        ds.RescaleIntercept, ds.RescaleSlope = "-1024", "1"
        ds.WindowCenter, ds.WindowWidth = "40", "400"
        ds.PixelData = ct_pixels(rows, cols, int(k)).tobytes()
        path = folder / f"img{file_no:04d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def write_multiframe(
    folder: Path, frames: int = 12, rows: int = 64, cols: int = 80, frame_time_ms: float = 40.0
) -> Path:
    """A greyscale multi-frame MR-like cine with a moving bar and a 25 fps Frame Time."""
    folder.mkdir(parents=True, exist_ok=True)
    ds = _base("MR", MRImageStorage, generate_uid(), generate_uid(), generate_uid())
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.SeriesDescription = "Synthetic cine"
    ds.SeriesNumber = 7
    ds.InstanceNumber = 1
    ds.NumberOfFrames = frames
    ds.FrameTime = f"{frame_time_ms:g}"
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    ds.PixelRepresentation = 0
    data = np.full((frames, rows, cols), 100, dtype=np.uint16)
    for f in range(frames):
        data[f, :, (f * 5) % cols : (f * 5) % cols + 4] = 2000
    ds.PixelData = data.tobytes()
    path = folder / "cine.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path


def write_truncated(folder: Path) -> Path:
    """A CT instance whose pixel data is half as long as its header says."""
    paths = write_ct_series(folder, n=1, shuffle=False, description="Broken")
    import pydicom

    ds = pydicom.dcmread(paths[0])
    ds.PixelData = ds.PixelData[: len(ds.PixelData) // 2]
    ds.save_as(paths[0], enforce_file_format=True)
    return paths[0]


def write_hostile_study(folder: Path) -> dict[str, Path]:
    """One study with a broken image per series: what each viewport should refuse to draw.

    Returns description -> file.  Encoders: pydicom's RLE, pylibjpeg-openjpeg (J2K) and
    pyjpegls (JPEG-LS), all installed with the project.
    """
    import pydicom
    from pydicom.encaps import encapsulate, generate_frames
    from pydicom.uid import JPEG2000Lossless, JPEGLSLossless, RLELossless

    study, for_uid = generate_uid(), generate_uid()
    out: dict[str, Path] = {}

    def base(name: str, number: int) -> tuple[Path, pydicom.Dataset]:
        (path,) = write_ct_series(
            folder / name,
            n=1,
            rows=64,
            cols=64,
            study_uid=study,
            for_uid=for_uid,
            description=name,
            series_number=number,
            shuffle=False,
        )
        return path, pydicom.dcmread(path)

    def save(name: str, path: Path, ds: pydicom.Dataset) -> None:
        ds.save_as(path, enforce_file_format=True)
        out[name] = path

    path, ds = base("truncated pixels", 1)
    ds.PixelData = ds.PixelData[: len(ds.PixelData) // 2]
    save("truncated pixels", path, ds)

    for number, (name, ts) in enumerate(
        [
            ("cut RLE stream", RLELossless),
            ("garbled JPEG-LS stream", JPEGLSLossless),
            ("garbled J2K stream", JPEG2000Lossless),
        ],
        start=2,
    ):
        path, ds = base(name, number)
        ds.compress(ts)
        (frame,) = list(generate_frames(ds.PixelData, number_of_frames=1))
        if name.startswith("garbled"):
            body = bytearray(frame)
            body[2:] = bytes(len(body) - 2)  # keep the start marker, zero the rest
            frame = bytes(body)
        else:
            frame = frame[: len(frame) // 3]
        ds.PixelData = encapsulate([frame + b"\0" * (len(frame) % 2)])
        save(name, path, ds)

    path, ds = base("bits stored > allocated", 5)
    ds.BitsStored = 20
    save("bits stored > allocated", path, ds)

    path, ds = base("colour header on grey pixels", 6)
    ds.PhotometricInterpretation = "RGB"
    save("colour header on grey pixels", path, ds)
    return out
