"""Real public series (../shared/testdata/series): volumes build and planes match the
independent reference; skipped where that folder is absent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.mpr.phantoms import load_frames, plane_points, read_reference, reference_sample
from workstation.mpr.geometry import PlaneKind, oblique_plane, standard_plane
from workstation.mpr.reslice import Reslicer
from workstation.mpr.series_input import SeriesInput, files_in, read_series
from workstation.mpr.volume import MprVolume, build_mpr_volume

pytestmark = pytest.mark.vtk

SERIES = {
    "ct-chest-ricord-255sl-jpegll": (255, 512, 512),
    "ct-lung-petctdx-30sl": (30, 512, 512),
    "mr-brain-tumorprog-24sl": (24, 320, 260),
}


@pytest.mark.parametrize("name", list(SERIES))
def test_real_series_planes_match_the_reference(name: str, testdata: Path) -> None:
    folder = testdata / "series" / name
    loaded = read_series(files_in(folder))
    assert isinstance(loaded, SeriesInput), loaded
    volume = build_mpr_volume(loaded.frames)
    assert isinstance(volume, MprVolume), volume
    assert volume.shape[0] == SERIES[name][0]
    assert volume.voxels.dtype == np.int16 and not volume.warnings
    paths = [p for p in files_in(folder) if p.suffix == ".dcm" or p.name[:1].isdigit()]
    ref = read_reference([p for p in paths if _is_image(p)])
    reslicer = Reslicer(volume)
    corners, centre = volume.corners_mm(), volume.centre_mm()
    planes = [
        standard_plane(PlaneKind.CORONAL, corners, 1.0, centre),
        oblique_plane(corners, (0.3, -0.4, 0.87), 1.0, centre + 3.0),
    ]
    for plane in planes:
        ours = reslicer.plane(plane).astype(np.float64)
        expected, inside = reference_sample(ref, plane_points(plane))
        assert inside.sum() > 1000
        assert np.abs(ours - expected)[inside].max() <= 1.0, (name, plane.kind)


def _is_image(path: Path) -> bool:
    import pydicom.errors

    try:
        return "PixelData" in pydicom.dcmread(path, stop_before_pixels=False, defer_size=64)
    except (pydicom.errors.InvalidDicomError, OSError):
        return False


def test_frames_loader_accepts_the_same_files(testdata: Path) -> None:
    folder = testdata / "series" / "mr-brain-tumorprog-24sl"
    frames = load_frames([p for p in files_in(folder) if _is_image(p)])
    assert isinstance(build_mpr_volume(frames), MprVolume)
