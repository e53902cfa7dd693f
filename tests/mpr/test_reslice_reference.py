"""Thin planes and slabs against scipy ``map_coordinates`` straight from the headers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.mpr.phantoms import load_frames, plane_points, read_reference, reference_sample
from workstation.mpr.geometry import (
    Plane,
    PlaneKind,
    Slab,
    SlabMode,
    oblique_plane,
    standard_plane,
)
from workstation.mpr.reslice import Reslicer
from workstation.mpr.volume import MprVolume, build_mpr_volume

pytestmark = pytest.mark.vtk


def _volume(paths: list[Path]) -> MprVolume:
    volume = build_mpr_volume(load_frames(paths))
    assert isinstance(volume, MprVolume), volume
    return volume


def _planes(volume: MprVolume) -> list[Plane]:
    corners, centre = volume.corners_mm(), volume.centre_mm() + np.array([0.7, -1.3, 2.1])
    out = [standard_plane(kind, corners, 0.6, centre) for kind in list(PlaneKind)[:3]]
    for normal, row in (((1, 1, 1), None), ((0.3, -0.5, 0.8), (0, 1, 0)), ((0, -0.34, 0.94), None)):
        out.append(oblique_plane(corners, normal, 0.6, centre, row))
    return out


@pytest.mark.parametrize("series", ["axial_series", "oblique_series"])
def test_thin_planes_match_map_coordinates(series: str, request: pytest.FixtureRequest) -> None:
    paths = request.getfixturevalue(series)
    volume, ref = _volume(paths), read_reference(paths)
    reslicer = Reslicer(volume)
    for plane in _planes(volume):
        ours = reslicer.plane(plane).astype(np.float64)
        expected, inside = reference_sample(ref, plane_points(plane))
        assert inside.sum() > 200, plane.kind
        err = np.abs(ours - expected)[inside]
        assert err.max() <= 1.0, (plane.kind, plane.row, err.max())


@pytest.mark.parametrize("mode", list(SlabMode))
def test_slabs_match_numpy_along_the_normal(mode: SlabMode, oblique_series: list[Path]) -> None:
    volume, ref = _volume(oblique_series), read_reference(oblique_series)
    slab = Slab(thickness_mm=6.0, mode=mode, step_mm=0.5)
    reslicer = Reslicer(volume)
    for plane in _planes(volume)[::2]:
        samples, masks = [], []
        for off in np.arange(-3.0, 3.0 + 1e-9, 0.5):
            values, inside = reference_sample(ref, plane_points(plane, off))
            samples.append(values)
            masks.append(inside)
        stack, inside = np.stack(samples), np.all(masks, axis=0)
        expected = {SlabMode.MIP: np.max, SlabMode.MINIP: np.min, SlabMode.AVERAGE: np.mean}[mode](
            stack, axis=0
        )
        ours = reslicer.plane(plane, slab).astype(np.float64)
        err = np.abs(ours - expected)[inside]
        assert inside.sum() > 200
        assert np.percentile(err, 99) <= 1.0, (mode, plane.kind, np.percentile(err, 99))


def test_slab_sample_count_and_limits() -> None:
    assert Slab(0.0).samples == 1
    assert Slab(6.0, step_mm=0.5).samples == 13
    with pytest.raises(ValueError, match="outside"):
        Slab(50.5)
