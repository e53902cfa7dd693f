"""A stack of MPR planes or slabs as a derived DICOM series in the source study.

:func:`derived_series` builds one data set per plane: new Series and SOP Instance UIDs;
the source's Study and Frame of Reference UIDs and patient/study modules; ImageType
``DERIVED\\SECONDARY\\REFORMATTED``; a Derivation Code Sequence (DCM 113072
multiplanar reformatting, 113078 MIP, 113079 MinIP; an average slab is an MPR whose
Derivation Description says "average"); a Source Image Sequence naming the source
slices each plane crosses; the plane's exact Image Position/Orientation and Pixel
Spacing; stored values with Rescale Slope/Intercept so that they read back in modality
units (HU). :func:`write_series` writes them with pydicom's writing validation set to
RAISE; file names are our own counters, never taken from DICOM values.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from workstation import __version__
from workstation.i18n import _
from workstation.imaging.strict_write import save_strictly
from workstation.mpr.geometry import Plane, Slab, SlabMode
from workstation.mpr.volume import MprVolume

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
_SOP_CLASS_BY_MODALITY = {"CT": CT_IMAGE_STORAGE, "MR": MR_IMAGE_STORAGE}

#: (code value, code meaning) in DCM for each way of making a plane.
DERIVATION_CODES = {
    None: ("113072", "Multiplanar reformatting"),
    SlabMode.AVERAGE: ("113072", "Multiplanar reformatting"),
    SlabMode.MIP: ("113078", "Maximum intensity projection"),
    SlabMode.MINIP: ("113079", "Minimum intensity projection"),
}
_SLAB_WORDS = {SlabMode.MIP: "MIP", SlabMode.MINIP: "MinIP", SlabMode.AVERAGE: "average"}

#: Attributes copied from the source: patient and study modules (any derived object) ...
_PATIENT_STUDY = (
    "PatientName", "PatientID", "PatientBirthDate", "PatientSex", "PatientAge",
    "StudyInstanceUID", "StudyDate", "StudyTime", "ReferringPhysicianName", "StudyID",
    "AccessionNumber", "StudyDescription",
)  # fmt: skip
#: ... then equipment and modality modules (a derived CT/MR image).
_COPIED = (
    *_PATIENT_STUDY, "Modality", "Manufacturer", "PatientPosition", "Laterality",
    "KVP", "BodyPartExamined", "ScanningSequence", "SequenceVariant", "ScanOptions",
    "MRAcquisitionType", "RepetitionTime", "EchoTime", "EchoTrainLength", "InversionTime",
    "MagneticFieldStrength", "ImagingFrequency", "ImagedNucleus",
)  # fmt: skip
_TYPE2_DEFAULTS = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate",
                   "StudyTime", "ReferringPhysicianName", "StudyID", "AccessionNumber",
                   "Manufacturer", "KVP", "PatientPosition", "Laterality")  # fmt: skip


class ExportRefused(Exception):
    """The series cannot be exported as a derived series (a readable reason)."""


@dataclass(frozen=True)
class DerivedSeries:
    """The data sets of one derived series."""

    series_instance_uid: str
    datasets: tuple[Dataset, ...]

    @property
    def study_instance_uid(self) -> str:
        return str(self.datasets[0].StudyInstanceUID) if self.datasets else ""


def derived_series(
    volume: MprVolume,
    template: Any,
    planes: Sequence[Plane],
    images: Sequence[np.ndarray],
    *,
    slab: Slab | None = None,
    series_number: int = 9001,
    description: str = "",
) -> DerivedSeries:
    """One data set per (plane, image of modality values). See the module docstring."""
    modality = str(template.get("Modality", ""))
    sop_class = _SOP_CLASS_BY_MODALITY.get(modality)
    if sop_class is None:
        raise ExportRefused(
            _("Reformatted series can be exported for CT and MR, not {modality}.").format(
                modality=modality or "?"
            )
        )
    if len(planes) != len(images):
        raise ValueError("one image per plane")
    series_uid = generate_uid()
    source_class = str(template.get("SOPClassUID", "") or sop_class)
    mode = slab.mode if slab is not None and slab.samples > 1 else None
    now = datetime.datetime.now()
    common = _common(volume, template, sop_class, series_uid, mode, slab, now)
    common.SeriesNumber = series_number
    common.SeriesDescription = (description or _default_description(planes[0], slab))[:64]
    datasets = []
    for n, (plane, image) in enumerate(zip(planes, images, strict=True)):
        ds = _image(common, volume, plane, image, n + 1)
        ds.SourceImageSequence = _sources(volume, plane, slab, source_class)
        datasets.append(ds)
    return DerivedSeries(series_uid, tuple(datasets))


def write_series(series: DerivedSeries, folder: Path) -> list[Path]:
    """Write each data set to ``folder/IMG00001.dcm`` … strictly; the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, ds in enumerate(series.datasets, start=1):
        path = folder / f"IMG{n:05d}.dcm"
        save_strictly(ds, path)
        paths.append(path)
    return paths


def _default_description(plane: Plane, slab: Slab | None) -> str:
    text = f"MPR {plane.kind.value}"
    if slab is not None and slab.samples > 1:
        text += f" {_SLAB_WORDS[slab.mode]} {slab.thickness_mm:g} mm"
    return text


def copy_source_modules(template: Any, *, patient_and_study_only: bool = False) -> Dataset:
    """A new data set with the source's patient and study attributes, and unless
    `patient_and_study_only` its equipment and modality ones (type 2 ones present,
    empty when the source lacks them)."""
    ds = Dataset()
    keywords = _PATIENT_STUDY if patient_and_study_only else _COPIED
    for keyword in keywords:
        if keyword in template:
            ds[keyword] = template[keyword]
    for keyword in _TYPE2_DEFAULTS:
        if keyword not in ds and keyword in keywords:
            setattr(ds, keyword, None)
    return ds


def _common(
    volume: MprVolume,
    template: Any,
    sop_class: str,
    series_uid: str,
    mode: SlabMode | None,
    slab: Slab | None,
    now: datetime.datetime,
) -> Dataset:
    ds = copy_source_modules(template)
    ds.SOPClassUID = sop_class
    ds.SeriesInstanceUID = series_uid
    ds.FrameOfReferenceUID = volume.frame_of_reference_uid or generate_uid()
    ds.PositionReferenceIndicator = ""
    ds.ImageType = ["DERIVED", "SECONDARY", "REFORMATTED"]
    ds.SeriesDate = ds.ContentDate = ds.InstanceCreationDate = now.strftime("%Y%m%d")
    ds.SeriesTime = ds.ContentTime = ds.InstanceCreationTime = now.strftime("%H%M%S")
    ds.SoftwareVersions = f"Klinika Workstation {__version__}"
    code_value, meaning = DERIVATION_CODES[mode]
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = code_value, "DCM", meaning
    ds.DerivationCodeSequence = DicomSequence([code])
    ds.DerivationDescription = _derivation_text(mode, slab)
    ds.AcquisitionNumber = None
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1
    ds.RescaleSlope = _ds_number(volume.value_slope)
    ds.RescaleIntercept = _ds_number(volume.value_intercept)
    if ds.Modality == "CT":
        ds.RescaleType = "HU"
    if mode is not None and slab is not None:
        ds.SliceThickness = _ds_number(slab.thickness_mm)
    return ds


def _derivation_text(mode: SlabMode | None, slab: Slab | None) -> str:
    if mode is None or slab is None:
        return "Multiplanar reformatting (trilinear)"
    word = {SlabMode.MIP: "maximum", SlabMode.MINIP: "minimum", SlabMode.AVERAGE: "average"}[mode]
    return f"Multiplanar reformatting, {word} intensity projection slab {slab.thickness_mm:g} mm"


def _image(common: Dataset, volume: MprVolume, plane: Plane, image: np.ndarray, n: int) -> Dataset:
    ds = Dataset()
    ds.update(common)
    ds.SOPInstanceUID = generate_uid()
    ds.InstanceNumber = n
    ds.ImagePositionPatient = [_ds_number(v) for v in plane.origin_mm]
    ds.ImageOrientationPatient = [_ds_number(v) for v in plane.image_orientation()]
    ds.PixelSpacing = [_ds_number(plane.spacing_mm)] * 2
    if "SliceThickness" not in ds:
        ds.SliceThickness = _ds_number(volume.spacing_mm[2])
    ds.Rows, ds.Columns = int(image.shape[0]), int(image.shape[1])
    stored = np.rint((image - volume.value_intercept) / volume.value_slope)
    ds.PixelData = np.clip(stored, -32768, 32767).astype("<i2").tobytes()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    return ds


def _sources(
    volume: MprVolume, plane: Plane, slab: Slab | None, source_class: str
) -> DicomSequence:
    """The source slices whose slab along the slice axis the plane (or slab) crosses."""
    half = slab.thickness_mm / 2.0 if slab is not None else 0.0
    w, h = plane.size
    corners = plane.pixel_to_patient(np.array([[0, 0], [w - 1, 0], [0, h - 1], [w - 1, h - 1]]))
    points = np.concatenate([corners + half * plane.normal, corners - half * plane.normal])
    k = volume.patient_to_index(points)[:, 2]
    positions = np.array(
        [volume.patient_to_index(f.geometry.position)[2] for f in volume.frames if f.geometry]
    )
    near = np.flatnonzero((positions >= k.min() - 1) & (positions <= k.max() + 1))
    items = []
    for i in near:
        item = Dataset()
        item.ReferencedSOPClassUID = source_class
        item.ReferencedSOPInstanceUID = volume.frames[int(i)].sop_instance_uid
        items.append(item)
    return DicomSequence(items)


def _ds_number(value: float) -> str:
    """A DS string of at most 16 characters keeping as many digits as fit."""
    for digits in range(10, 0, -1):
        text = f"{float(value):.{digits}g}"
        if len(text) <= 16:
            return text
    return f"{float(value):.0f}"
