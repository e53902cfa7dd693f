"""Hostile stacks: gantry tilt, gaps, uneven spacing, phases, and what is refused."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pydicom
import pytest

from tests.mpr.phantoms import load_frames, random_hu, read_reference, write_series
from workstation.imaging.errors import CannotDisplay
from workstation.mpr.geometry import PlaneKind, standard_plane
from workstation.mpr.reslice import Reslicer
from workstation.mpr.volume import MprVolume, build_mpr_volume

SPHERE_CENTRE = np.array([2.0, -3.0, 20.0])
SPHERE_RADIUS = 12.0


def _tilted_sphere(directory: Path, tilt_deg: float) -> list[Path]:
    """A CT of a sphere with the gantry tilted: image planes tilted about x, table along z."""
    t = math.radians(tilt_deg)
    row, col = np.array([1.0, 0, 0]), np.array([0.0, math.cos(t), -math.sin(t)])
    rows = cols = 64
    spacing, dz = 0.75, 1.0
    origin = SPHERE_CENTRE - np.array([cols / 2 * spacing, rows / 2 * spacing * math.cos(t), 25.0])
    positions = [origin + np.array([0, 0, k * dz]) for k in range(50)]
    c, r = np.meshgrid(np.arange(cols), np.arange(rows))
    hu = np.empty((50, rows, cols), np.int16)
    for k, pos in enumerate(positions):
        pts = pos + (c * spacing)[..., None] * row + (r * spacing)[..., None] * col
        inside = np.linalg.norm(pts - SPHERE_CENTRE, axis=-1) <= SPHERE_RADIUS
        hu[k] = np.where(inside, 1000, -1000)
    return write_series(
        directory,
        hu,
        orientation=[*row, *col],
        pixel_spacing=(spacing, spacing),
        positions=positions,
    )


def _extent_mm(image: np.ndarray, spacing: float) -> tuple[float, float]:
    """Width and height (mm) of the region above half height, with sub-pixel edges."""
    above = image > 0
    widths = above.sum(axis=1).max() * spacing
    heights = above.sum(axis=0).max() * spacing
    return float(widths), float(heights)


def test_gantry_tilt_keeps_a_sphere_round(tmp_path: Path) -> None:
    volume = build_mpr_volume(load_frames(_tilted_sphere(tmp_path, 20.0)))
    assert isinstance(volume, MprVolume), volume
    assert volume.tilt_deg == pytest.approx(20.0, abs=0.05)
    assert any("20.0°" in w for w in volume.warnings)
    reslicer = Reslicer(volume)
    for kind in (PlaneKind.AXIAL, PlaneKind.CORONAL, PlaneKind.SAGITTAL):
        plane = standard_plane(kind, volume.corners_mm(), 0.4, SPHERE_CENTRE)
        w, h = _extent_mm(reslicer.plane(plane), plane.spacing_mm)
        diameter = 2 * SPHERE_RADIUS
        assert abs(w - diameter) / diameter <= 0.05, (kind, w)
        assert abs(h - diameter) / diameter <= 0.05, (kind, h)


def test_a_missing_slice_is_resampled_and_named(tmp_path: Path) -> None:
    hu = random_hu((12, 16, 16))
    normal_positions = [np.array([0.0, 0.0, 2.0 * k]) for k in range(12)]
    kept = [k for k in range(12) if k != 6]
    paths = write_series(tmp_path, hu[kept], positions=[normal_positions[k] for k in kept])
    volume = build_mpr_volume(load_frames(paths))
    assert isinstance(volume, MprVolume), volume
    assert volume.shape[0] == 12
    assert volume.spacing_mm[2] == pytest.approx(2.0)
    assert len(volume.warnings) == 1
    assert "4.00 mm" in volume.warnings[0] and "slice 6" in volume.warnings[0]
    ref = read_reference(paths)
    # the missing slice is the mean of its neighbours (linear along the slice axis)
    expected = (ref.hu[5] + ref.hu[6]) / 2
    assert np.abs(volume.voxels[6] - expected).max() <= 0.5
    np.testing.assert_array_equal(volume.voxels[7], ref.hu[6])


def test_uneven_spacing_is_resampled_onto_the_median(tmp_path: Path) -> None:
    z = [0.0, 1.0, 2.0, 3.0, 4.5, 5.5, 6.5, 7.5]
    hu = random_hu((len(z), 8, 8))
    paths = write_series(tmp_path, hu, positions=[(0.0, 0.0, v) for v in z])
    volume = build_mpr_volume(load_frames(paths))
    assert isinstance(volume, MprVolume), volume
    assert volume.shape[0] == 8  # 0..7 mm at 1 mm
    assert any("1.50 mm" in w for w in volume.warnings)
    # voxel k sits at z = k mm: compare with linear interpolation of the source
    ref = read_reference(paths).hu
    for k in range(8):
        expected = np.array([[np.interp(k, z, ref[:, j, i]) for i in range(8)] for j in range(8)])
        assert np.abs(volume.voxels[k] - expected).max() <= 0.5, k


def test_repeated_positions_are_phases_never_merged(tmp_path: Path) -> None:
    a, b = random_hu((6, 8, 8), seed=1), random_hu((6, 8, 8), seed=2)
    positions = [(0.0, 0.0, 3.0 * k) for k in range(6)] * 2
    numbers = [2 * k + 1 for k in range(6)] + [2 * k + 2 for k in range(6)]
    paths = write_series(
        tmp_path, np.concatenate([a, b]), positions=positions, instance_numbers=numbers
    )
    frames = load_frames(paths)
    first, second = build_mpr_volume(frames, phase=0), build_mpr_volume(frames, phase=1)
    assert isinstance(first, MprVolume) and isinstance(second, MprVolume)
    assert (first.phase_count, first.shape) == (2, (6, 8, 8))
    np.testing.assert_array_equal(first.voxels, a)
    np.testing.assert_array_equal(second.voxels, b)
    missing = build_mpr_volume(frames, phase=2)
    assert isinstance(missing, CannotDisplay)


def test_orientation_tolerance_is_at_least_ohifs(tmp_path: Path) -> None:
    hu = random_hu((5, 8, 8))
    paths = write_series(tmp_path / "ok", hu)
    ds = pydicom.dcmread(paths[2])
    ds.ImageOrientationPatient = [1.0, 0.005, 0.0, 0.0, 1.0, 0.0]
    ds.save_as(paths[2])
    assert isinstance(build_mpr_volume(load_frames(paths)), MprVolume)
    ds.ImageOrientationPatient = [1.0, 0.03, 0.0, 0.0, 1.0, 0.0]
    ds.save_as(paths[2])
    refused = build_mpr_volume(load_frames(paths))
    assert isinstance(refused, CannotDisplay)
    assert "orientation" in refused.reason


def test_mixed_sizes_are_refused_with_a_reason(tmp_path: Path) -> None:
    paths = write_series(tmp_path / "a", random_hu((3, 8, 8)))
    other = write_series(tmp_path / "b", random_hu((1, 8, 10)), origin=(0, 0, 10))
    refused = build_mpr_volume(load_frames(paths + other))
    assert isinstance(refused, CannotDisplay)
    assert "size" in refused.reason
