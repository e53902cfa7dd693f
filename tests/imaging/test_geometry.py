"""Orientation labels, calibration, slice stacks and volumes, against header maths."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence

from tests.imaging.synthetic import ct_series, ct_slice, make_image, ramp
from workstation.imaging.calibration import CalibrationSource, calibration_of
from workstation.imaging.decode import decode_frame
from workstation.imaging.errors import CannotDisplay
from workstation.imaging.frame import Frame
from workstation.imaging.geometry import (
    PlaneGeometry,
    check_stack,
    slice_spacing_mm,
    sort_by_position,
)
from workstation.imaging.orientation import direction_label, orientation_labels
from workstation.imaging.volume import Volume, assemble_volume


@pytest.mark.parametrize(
    ("iop", "left", "right", "top", "bottom"),
    [
        ((1, 0, 0, 0, 1, 0), "R", "L", "A", "P"),  # axial, seen from the feet
        ((0, 1, 0, 0, 0, -1), "A", "P", "H", "F"),  # sagittal
        ((1, 0, 0, 0, 0, -1), "R", "L", "H", "F"),  # coronal
        ((-1, 0, 0, 0, -1, 0), "L", "R", "P", "A"),  # axial rotated 180 degrees
    ],
)
def test_cardinal_planes(
    iop: tuple[int, ...], left: str, right: str, top: str, bottom: str
) -> None:
    labels = orientation_labels(iop)
    assert (labels.left, labels.right, labels.top, labels.bottom) == (left, right, top, bottom)


def test_oblique_directions_combine_letters_strongest_first() -> None:
    c, s = np.cos(np.radians(30)), np.sin(np.radians(30))
    # row direction mostly patient-left, tilted towards the head
    assert direction_label((c, 0, s)) == "LH"
    assert direction_label((-s, c, 0)) == "PR"
    assert direction_label((0.6, -0.64, 0.48)) == "ALH"
    assert direction_label((1, 0.01, 0)) == "L"  # below the threshold: not oblique


def test_calibration_sources() -> None:
    ds = Dataset()
    ds.PixelSpacing = [0.5, 0.25]
    cal = calibration_of(ds)
    assert cal.source is CalibrationSource.PIXEL_SPACING
    assert (cal.row_spacing_mm, cal.column_spacing_mm) == (0.5, 0.25)
    assert cal.length_mm((0, 0), (4, 3)) == pytest.approx(np.hypot(4 * 0.25, 3 * 0.5))

    ds = Dataset()
    ds.ImagerPixelSpacing = [0.2, 0.2]
    cal = calibration_of(ds)
    assert cal.source is CalibrationSource.IMAGER_PIXEL_SPACING and "detector" in cal.reason
    ds.EstimatedRadiographicMagnificationFactor = 1.25
    cal = calibration_of(ds)
    assert cal.source is CalibrationSource.MAGNIFICATION_CORRECTED
    assert cal.row_spacing_mm == pytest.approx(0.16)

    none = calibration_of(Dataset())
    assert not none.is_calibrated and none.reason and none.length_mm((0, 0), (1, 1)) is None


def test_ultrasound_regions_calibrate_only_inside() -> None:
    ds = Dataset()
    region = Dataset()
    region.RegionSpatialFormat = 1
    region.PhysicalUnitsXDirection = 3
    region.PhysicalUnitsYDirection = 3
    region.PhysicalDeltaX = 0.02  # cm per pixel
    region.PhysicalDeltaY = 0.03
    region.RegionLocationMinX0, region.RegionLocationMinY0 = 10, 20
    region.RegionLocationMaxX1, region.RegionLocationMaxY1 = 300, 400
    ds.SequenceOfUltrasoundRegions = DicomSequence([region])
    cal = calibration_of(ds)
    assert cal.source is CalibrationSource.ULTRASOUND_REGION
    assert cal.length_mm((20, 30), (20, 130)) == pytest.approx(100 * 0.3)
    assert cal.length_mm((20, 30), (320, 30)) is None  # one end outside the region


def test_length_between_pixels_equals_patient_space_distance() -> None:
    iop = (0.8, 0.6, 0.0, 0.0, 0.0, -1.0)
    ds = ct_slice(
        ramp(16, 16, 0, 100, "int16"), position=(10, 20, 30), orientation=iop, spacing=(0.7, 0.9)
    )
    frame = decode_frame(ds)
    assert isinstance(frame, Frame) and frame.info.geometry is not None
    p0, p1 = (2.0, 3.0), (13.0, 11.0)  # (column, row)

    def patient(col: float, row: float) -> np.ndarray:  # PS3.3 C.7.6.2.1.1, by hand
        return (
            np.array([10, 20, 30]) + col * 0.9 * np.array(iop[:3]) + row * 0.7 * np.array(iop[3:])
        )

    header_mm = float(np.linalg.norm(patient(*p1) - patient(*p0)))
    measured = frame.info.calibration.length_mm(p0, p1)
    assert measured is not None and abs(measured - header_mm) < 0.5
    assert np.allclose(frame.info.geometry.pixel_to_patient(*p1), patient(*p1))


def _planes(positions: list[tuple[float, float, float]]) -> list[PlaneGeometry]:
    return [PlaneGeometry(p, (1, 0, 0), (0, 1, 0), (0.5, 0.5)) for p in positions]


def test_stack_checks() -> None:
    planes = _planes([(0, 0, 4.0), (0, 0, 0.0), (0, 0, 2.0)])
    assert sort_by_position(planes) == [1, 2, 0]
    assert slice_spacing_mm([planes[i] for i in (1, 2, 0)]) == pytest.approx(2.0)
    shapes = [(8, 8)] * 3
    ok = check_stack(planes, shapes)
    assert ok.ok and ok.spacing_mm == pytest.approx(2.0) and ok.order == (1, 2, 0)
    assert not check_stack(_planes([(0, 0, 0), (0, 0, 0), (0, 0, 2)]), shapes).ok
    sheared = check_stack(_planes([(0, 0, 0), (0, 1, 2), (0, 2, 4)]), shapes)
    assert not sheared.ok and "tilt" in sheared.reason
    uneven = check_stack(_planes([(0, 0, 0), (0, 0, 2), (0, 0, 5)]), shapes)
    assert not uneven.ok
    assert not check_stack(planes, [(8, 8), (8, 8), (8, 9)]).ok


def _decode_all(paths: list[Path]) -> list[Frame]:
    frames = [decode_frame(p) for p in paths]
    assert all(isinstance(f, Frame) for f in frames)
    return frames  # type: ignore[return-value]


def test_assemble_volume_geometry_and_values(tmp_path: Path) -> None:
    iop = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)  # sagittal stack
    paths = ct_series(tmp_path, 6, rows=12, cols=10, spacing_mm=1.5, orientation=iop)
    frames = _decode_all(paths[::-1])  # any input order
    volume = assemble_volume(frames)
    assert isinstance(volume, Volume)
    assert volume.voxels.dtype == np.int16 and volume.shape == (6, 12, 10)
    assert volume.spacing_mm == pytest.approx((0.5, 0.5, 1.5))
    for k in range(6):  # slice k has HU ramp + 10k (see synthetic.ct_series)
        assert np.array_equal(volume.voxels[k], ramp(12, 10, -1000, 1000, "int16") + 10 * k)
        ipp = frames[5 - k].info.geometry.position  # type: ignore[union-attr]
        assert np.allclose(volume.index_to_patient((0, 0, k)), ipp)
    assert np.allclose(
        volume.index_to_patient((3, 2, 0)), frames[5].info.geometry.pixel_to_patient(3, 2)
    )  # type: ignore[union-attr]
    assert np.allclose(volume.patient_to_index(volume.index_to_patient((1, 2, 3))), (1, 2, 3))


def test_volume_maps_values_that_do_not_fit_int16(tmp_path: Path) -> None:
    frames = []
    for k in range(3):
        stored = np.full((4, 4), 60000 - k, dtype=np.uint16)
        ds = make_image(
            stored,
            bits_stored=16,
            ImagePositionPatient=[0, 0, k],
            ImageOrientationPatient=[1, 0, 0, 0, 1, 0],
            PixelSpacing=[1, 1],
        )
        frames.append(decode_frame(ds))
    volume = assemble_volume(frames)  # type: ignore[arg-type]
    assert isinstance(volume, Volume)
    assert volume.modality_values()[:, 0, 0] == pytest.approx([60000, 59999, 59998])


def test_inconsistent_stack_is_not_a_volume(tmp_path: Path) -> None:
    paths = ct_series(tmp_path, 3)
    frames = _decode_all(paths)
    frames.append(frames[0])  # a duplicate position
    result = assemble_volume(frames)
    assert isinstance(result, CannotDisplay) and result.reason
