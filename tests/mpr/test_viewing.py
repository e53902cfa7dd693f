"""Linked MPR planes without Qt: crosshair, scroll, rotation, windows, slabs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from workstation.mpr.geometry import PlaneKind, Slab, SlabMode
from workstation.mpr.viewing import MprViewState
from workstation.mpr.volume import MprVolume

pytestmark = pytest.mark.vtk


def _state(axial_volume: MprVolume) -> tuple[MprViewState, list[tuple[int, ...]]]:
    state = MprViewState(axial_volume)
    calls: list[tuple[int, ...]] = []
    state.subscribe(calls.append)
    return state, calls


def test_crosshair_and_scroll_keep_every_plane_through_it(axial_volume: MprVolume) -> None:
    state, calls = _state(axial_volume)
    point = axial_volume.index_to_patient([10, 12, 8])
    state.set_crosshair(point)
    assert calls[-1] == (0, 1, 2)
    for i, view in enumerate(state.views):
        assert abs(float(view.plane.distance_mm(point))) < 1e-9
        assert np.allclose(view.plane.pixel_to_patient(state.crosshair_pixel(i)), point)
    state.scroll(0, 3)
    assert state.crosshair[2] == pytest.approx(point[2] + 3 * state.spacing_mm)
    assert [v.plane.kind for v in state.views] == [
        PlaneKind.AXIAL, PlaneKind.CORONAL, PlaneKind.SAGITTAL,
    ]  # fmt: skip
    for view in state.views:
        assert abs(float(view.plane.distance_mm(state.crosshair))) < 1e-9


def test_rotation_turns_the_other_planes_about_the_crosshair(axial_volume: MprVolume) -> None:
    state, _calls = _state(axial_volume)
    axial_normal = state.views[0].plane.normal.copy()
    before = [v.plane.normal.copy() for v in state.views]
    state.rotate(0, 30.0)
    assert np.allclose(state.views[0].plane.normal, axial_normal)
    for i in (1, 2):
        n = state.views[i].plane.normal
        angle = math.degrees(math.acos(float(np.clip(n @ before[i], -1, 1))))
        assert angle == pytest.approx(30.0, abs=1e-6)
        assert abs(float(n @ axial_normal)) < 1e-9
        assert abs(float(state.views[i].plane.distance_mm(state.crosshair))) < 1e-9
    assert abs(float(state.views[1].plane.normal @ state.views[2].plane.normal)) < 1e-9
    # the crosshair line of the rotated coronal in the axial view passes the crosshair
    line = state.line_in(0, 1)
    assert line is not None
    a, b = line
    c = state.crosshair_pixel(0)
    cross = (b - a)[0] * (c - a)[1] - (b - a)[1] * (c - a)[0]
    assert abs(cross) / np.linalg.norm(b - a) < 1e-6
    state.reset()
    assert state.views[1].plane.kind is PlaneKind.CORONAL


def test_window_and_slab_change_the_picture(axial_volume: MprVolume) -> None:
    state, calls = _state(axial_volume)
    thin = state.values(1)
    state.set_slab(Slab(8.0, SlabMode.MIP, 1.0), [1])
    assert calls[-1] == (1,)
    mip = state.values(1)
    # a MIP is at least the thin plane (VTK's slab sampling differs in ~1 % of pixels,
    # within the 99th-percentile bound the slab reference test holds it to)
    assert np.mean(mip >= thin - 1) >= 0.97 and (mip > thin).mean() > 0.5
    state.set_window(1, 0.0, 100.0)
    u8 = state.display_u8(1)
    assert u8.dtype == np.uint8 and u8.shape == thin.shape
    values = state.values(1)
    assert (u8[values <= -50] == 0).all() and (u8[values >= 50] == 255).all()


def test_preview_keeps_size_and_place(axial_volume: MprVolume) -> None:
    from workstation.mpr.reslice import Quality

    state, _calls = _state(axial_volume)
    for i in range(3):
        full, preview = state.values(i), state.values(i, Quality.PREVIEW)
        assert preview.shape == full.shape
        # the coarse picture is the full one seen through 2x2 blocks: close on average
        assert np.median(np.abs(preview.astype(float) - full)) < np.median(np.abs(full))


def test_decimated_volume_covers_the_same_place(axial_volume: MprVolume) -> None:
    small = axial_volume.decimated(axial_volume.voxels.size // 7)
    assert small.shape == tuple((n + 1) // 2 for n in axial_volume.shape)
    assert np.allclose(small.corners_mm().min(axis=0), axial_volume.corners_mm().min(axis=0))
    assert np.abs(
        small.corners_mm().max(axis=0) - axial_volume.corners_mm().max(axis=0)
    ).max() <= 2 * max(axial_volume.spacing_mm)
    np.testing.assert_array_equal(small.voxels[1, 2, 3], axial_volume.voxels[2, 4, 6])
    assert axial_volume.decimated(axial_volume.voxels.size) is axial_volume
