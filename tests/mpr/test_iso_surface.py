"""The iso-surface: flying edges on the volume, decimated to the triangle budget, placed
in LPS by the volume's affine (checked against the phantom's known sphere)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.mpr.phantoms import load_frames
from tests.mpr.test_volume_stacks import SPHERE_CENTRE, SPHERE_RADIUS, _tilted_sphere
from workstation.mpr.presets import preset
from workstation.mpr.volume import MprVolume, build_mpr_volume

pytestmark = pytest.mark.vtk


def _points_lps(surface, volume: MprVolume) -> np.ndarray:  # type: ignore[no-untyped-def]
    from vtkmodules.util.numpy_support import vtk_to_numpy

    ijk = vtk_to_numpy(surface.GetPoints().GetData()).astype(float)
    return volume.index_to_patient(ijk)


@pytest.mark.parametrize("tilt", [0.0, 20.0])
def test_surface_lies_on_the_sphere_and_keeps_the_budget(tmp_path: Path, tilt: float) -> None:
    from workstation.mpr._vtk.vtk_iso_surface import iso_surface

    volume = build_mpr_volume(load_frames(_tilted_sphere(tmp_path, tilt)))
    assert isinstance(volume, MprVolume)
    full = iso_surface(volume, 0.0)  # halfway between -1000 and 1000 HU
    radii = np.linalg.norm(_points_lps(full, volume) - SPHERE_CENTRE, axis=1)
    assert full.GetNumberOfPolys() > 2000
    assert np.abs(radii - SPHERE_RADIUS).max() < 0.75  # within a voxel of the true sphere
    small = iso_surface(volume, 0.0, max_triangles=1500)
    assert 100 < small.GetNumberOfPolys() <= 1500
    radii = np.linalg.norm(_points_lps(small, volume) - SPHERE_CENTRE, axis=1)
    assert np.abs(radii - SPHERE_RADIUS).max() < 2.0  # coarser, still the same sphere


def test_offscreen_iso_surface_picture(tmp_path: Path) -> None:
    from workstation.mpr._vtk.vtk_volume_render import render_offscreen

    volume = build_mpr_volume(load_frames(_tilted_sphere(tmp_path, 0.0)))
    assert isinstance(volume, MprVolume)
    picture = render_offscreen(volume, preset("CT-Bone"), size=(200, 200), iso_value=0.0)
    lit = picture.max(axis=2) > 40
    assert 0.05 < lit.mean() < 0.9
    # a round disc: lit pixels in the middle row and column span about the same width
    assert abs(int(lit[100].sum()) - int(lit[:, 100].sum())) <= 4


def test_surface_is_clipped_by_the_crop_box(tmp_path: Path) -> None:
    from workstation.mpr._vtk.vtk_iso_surface import iso_surface
    from workstation.mpr._vtk.vtk_volume_render import render_offscreen

    volume = build_mpr_volume(load_frames(_tilted_sphere(tmp_path, 0.0)))
    assert isinstance(volume, MprVolume)
    crop = (0.0, 1.0, 0.0, 1.0, 0.0, 0.5)  # the lower half of the slices
    full, cut = iso_surface(volume, 0.0), iso_surface(volume, 0.0, crop=crop)
    from vtkmodules.util.numpy_support import vtk_to_numpy

    ijk = vtk_to_numpy(cut.GetPoints().GetData())
    z_top = volume.crop_box_index(crop)[5]
    assert ijk[:, 2].max() <= z_top + 1e-6  # nothing above the box
    assert 0.3 < cut.GetNumberOfPolys() / full.GetNumberOfPolys() < 0.7
    radii = np.linalg.norm(_points_lps(cut, volume) - SPHERE_CENTRE, axis=1)
    assert np.abs(radii - SPHERE_RADIUS).max() < 0.75  # still on the sphere, only less of it
    whole = render_offscreen(volume, preset("CT-Bone"), size=(160, 160), iso_value=0.0)
    half = render_offscreen(volume, preset("CT-Bone"), size=(160, 160), iso_value=0.0, crop=crop)
    lit_whole, lit_half = (whole.max(axis=2) > 40).sum(), (half.max(axis=2) > 40).sum()
    assert 0.3 < lit_half / lit_whole < 0.8


def test_crop_box_in_index_units(tmp_path: Path) -> None:
    volume = build_mpr_volume(load_frames(_tilted_sphere(tmp_path, 0.0)))
    assert isinstance(volume, MprVolume)
    k, j, i = volume.shape
    box = volume.crop_box_index((1.0, 0.0, 0.25, 0.75, -1.0, 2.0))
    assert box == pytest.approx((0.0, i - 1, 0.25 * (j - 1), 0.75 * (j - 1), 0.0, k - 1))
    with pytest.raises(ValueError):
        volume.crop_box_index((0.0, 1.0))
