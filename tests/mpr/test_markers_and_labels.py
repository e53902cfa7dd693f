"""A marker phantom: known LPS points land within 0.5 px on every plane, and the L/R,
A/P, H/F labels sit on the edges the anatomy really goes towards, for several
acquisition orientations."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from tests.mpr.phantoms import load_frames, write_series
from workstation.mpr.geometry import Plane, PlaneKind, plane_labels, rotated, standard_plane
from workstation.mpr.reslice import Reslicer
from workstation.mpr.volume import MprVolume, build_mpr_volume

pytestmark = pytest.mark.vtk

_T = math.radians(20)
ACQUISITIONS = {
    "head-first supine axial": (1, 0, 0, 0, 1, 0),
    "feet-first supine axial": (-1, 0, 0, 0, 1, 0),
    "head-first prone axial": (-1, 0, 0, 0, -1, 0),
    "sagittal": (0, 1, 0, 0, 0, -1),
    "coronal": (1, 0, 0, 0, 0, -1),
    "20 degree oblique": (1, 0, 0, 0, math.cos(_T), math.sin(_T)),
}
N = 41
CENTRE = (20, 20, 20)
BACKGROUND, MARKER = -1000, 1000
AXES = {"L": np.array([1.0, 0, 0]), "P": np.array([0, 1.0, 0]), "H": np.array([0, 0, 1.0])}


def _phantom(directory: Path, iop: tuple[float, ...]) -> tuple[list[Path], dict[str, np.ndarray]]:
    """Isotropic 1 mm voxels; a marker at the centre and one ~10 mm towards L, P and H."""
    row, col = np.asarray(iop[:3], float), np.asarray(iop[3:], float)
    normal = np.cross(row, col)
    origin = np.array([-5.0, 7.0, 30.0])
    to_lps = np.column_stack([row, col, normal])  # (i, j, k) -> LPS, 1 mm
    hu = np.full((N, N, N), BACKGROUND, np.int16)
    markers = {}
    centre_lps = origin + to_lps @ np.array(CENTRE[::-1], float)
    for name, target in [("centre", centre_lps)] + [
        (letter, centre_lps + 10 * axis) for letter, axis in AXES.items()
    ]:
        ijk = np.rint(np.linalg.solve(to_lps, target - origin)).astype(int)
        hu[ijk[2], ijk[1], ijk[0]] = MARKER
        markers[name] = origin + to_lps @ ijk
    return write_series(
        directory, hu, orientation=iop, pixel_spacing=(1.0, 1.0), origin=origin, slice_spacing=1.0
    ), markers


def _peak(image: np.ndarray, near: np.ndarray, radius: int = 4) -> np.ndarray | None:
    """Centroid (column, row) of the bright blob nearest `near`, None if nothing there."""
    c0, r0 = (int(np.rint(v)) for v in near)
    r_lo, c_lo = max(r0 - radius, 0), max(c0 - radius, 0)
    window = image[r_lo : r0 + radius + 1, c_lo : c0 + radius + 1].astype(float) - BACKGROUND
    if window.size == 0 or window.max() < 0.3 * (MARKER - BACKGROUND):
        return None
    window = np.where(window > 0.05 * window.max(), window, 0)
    rr, cc = np.indices(window.shape)
    total = window.sum()
    return np.array([(cc * window).sum() / total + c_lo, (rr * window).sum() / total + r_lo])


def _planes(volume: MprVolume, through: np.ndarray) -> list[Plane]:
    corners = volume.corners_mm()
    out = [standard_plane(k, corners, 0.5, through) for k in list(PlaneKind)[:3]]
    out.append(rotated(out[0], (1, 0, 0), 20))
    return out


def _expected_pixel(plane: Plane, point: np.ndarray) -> np.ndarray:
    """(column, row) of a point in the plane, from the plane definition written out."""
    d = point - np.asarray(plane.centre_mm)
    return np.array(
        [
            d @ np.asarray(plane.row) / plane.spacing_mm + (plane.size[0] - 1) / 2,
            d @ np.asarray(plane.column) / plane.spacing_mm + (plane.size[1] - 1) / 2,
        ]
    )


@pytest.mark.parametrize("acquisition", list(ACQUISITIONS))
def test_markers_land_and_labels_point_the_right_way(acquisition: str, tmp_path: Path) -> None:
    paths, markers = _phantom(tmp_path, ACQUISITIONS[acquisition])
    volume = build_mpr_volume(load_frames(paths))
    assert isinstance(volume, MprVolume), volume
    reslicer = Reslicer(volume)
    for plane in _planes(volume, markers["centre"]):
        image = reslicer.plane(plane)
        seen = 0
        centre_px = _peak(image, _expected_pixel(plane, markers["centre"]))
        assert centre_px is not None, (acquisition, plane.kind)
        labels = plane_labels(plane)
        for letter, axis in AXES.items():
            if abs(float(axis @ plane.normal)) > 0.05:
                continue  # this marker is off the plane
            expected = _expected_pixel(plane, markers[letter])
            found = _peak(image, expected)
            assert found is not None, (acquisition, plane.kind, letter)
            assert np.abs(found - expected).max() <= 0.5, (acquisition, plane.kind, letter, found)
            seen += 1
            # the marker further towards `letter` must lie towards the edge labelled so
            dc, dr = found - centre_px
            if abs(dc) > abs(dr):
                edge = labels.right if dc > 0 else labels.left
            else:
                edge = labels.bottom if dr > 0 else labels.top
            assert edge[:1] == letter, (acquisition, plane.kind, letter, labels)
        assert seen >= 1
        assert np.abs(centre_px - _expected_pixel(plane, markers["centre"])).max() <= 0.5
