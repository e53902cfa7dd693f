"""The crosshair's handles without Qt: slab thickness by dragging, rotation by angle,
slab faces drawn beside the line, and pictures re-sampled only where they changed."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from workstation.imaging.windowing import apply_voi
from workstation.mpr import crosshair_handles as handles
from workstation.mpr.geometry import MAX_SLAB_MM, Slab, SlabMode
from workstation.mpr.reslice import Quality
from workstation.mpr.viewing import MprViewState
from workstation.mpr.volume import MprVolume

pytestmark = pytest.mark.vtk


def _line_frame(state: MprViewState, index: int, other: int) -> tuple[np.ndarray, np.ndarray]:
    a, b = state.line_in(index, other)  # type: ignore[misc]
    d = (b - a) / np.linalg.norm(b - a)
    return d, np.array([-d[1], d[0]])


def test_every_plane_shows_rotate_and_slab_handles_of_the_others(axial_volume: MprVolume) -> None:
    state = MprViewState(axial_volume)
    for index in range(3):
        shown = handles.handles_on(state, index)
        others = sorted({h.other for h in shown})
        assert others == [i for i in range(3) if i != index]
        kinds = [h.kind for h in shown]
        assert kinds.count(handles.HandleKind.ROTATE) == 4
        assert kinds.count(handles.HandleKind.SLAB) == 2
        for h in shown:  # every handle sits on (rotate) or beside (slab) its line
            _d, n = _line_frame(state, index, h.other)
            off = (np.array(h.pixel) - state.crosshair_pixel(index)) @ n
            if h.kind is handles.HandleKind.ROTATE:
                assert abs(off) < 1e-6
            else:
                assert off == pytest.approx(handles.MIN_SLAB_OFFSET_PX)


def test_dragging_a_slab_handle_sets_that_planes_thickness(axial_volume: MprVolume) -> None:
    state = MprViewState(axial_volume)
    calls: list[tuple[int, ...]] = []
    state.subscribe(calls.append)
    index, other = 0, 1  # the coronal plane's line on the axial plane
    slab_handle = next(
        h for h in handles.handles_on(state, index)
        if h.kind is handles.HandleKind.SLAB and h.other == other
    )  # fmt: skip
    grabbed = handles.hit(state, index, np.array(slab_handle.pixel) + 1.0, 4.0)
    assert grabbed == slab_handle
    spacing = state.views[index].plane.spacing_mm
    _d, n = _line_frame(state, index, other)
    centre = state.crosshair_pixel(index)
    handles.drag_slab(state, index, other, centre + 9.0 * n)
    slab = state.views[other].slab
    assert slab is not None and slab.mode is SlabMode.MIP
    assert slab.thickness_mm == pytest.approx(2 * 9.0 * spacing)
    assert calls[-1] == (other,)  # only the coronal picture changes
    assert state.views[0].slab is None and state.views[2].slab is None
    # its faces are drawn half the thickness either side of the line, parallel to it
    faces = handles.slab_edges(state, index, other)
    assert len(faces) == 2
    for (a, b), sign in zip(faces, (1.0, -1.0), strict=True):
        assert float((a - centre) @ n) == pytest.approx(sign * 9.0)
        assert float((b - centre) @ n) == pytest.approx(sign * 9.0)
    # the handle moved out with the face: grabbing it where it now is works
    moved = next(
        h for h in handles.handles_on(state, index)
        if h.kind is handles.HandleKind.SLAB and h.other == other
    )  # fmt: skip
    assert float((np.array(moved.pixel) - centre) @ n) == pytest.approx(9.0)
    # a mode set before (average) is kept while the thickness changes
    state.set_slab(Slab(4.0, SlabMode.AVERAGE), [other])
    handles.drag_slab(state, index, other, centre - 5.0 * n)
    kept = state.views[other].slab
    assert kept is not None and kept.mode is SlabMode.AVERAGE
    assert kept.thickness_mm == pytest.approx(10 * spacing)
    # far out: clamped to 50 mm; back onto the line: thin again
    handles.drag_slab(state, index, other, centre + 10_000.0 * n)
    assert state.views[other].slab.thickness_mm == MAX_SLAB_MM  # type: ignore[union-attr]
    handles.drag_slab(state, index, other, centre + 0.2 * n)
    assert state.views[other].slab is None
    assert handles.slab_edges(state, index, other) == []


def test_rotate_handle_turns_the_lines_by_the_angle_swept(axial_volume: MprVolume) -> None:
    state = MprViewState(axial_volume)
    index, other = 0, 2
    handle = next(
        h for h in handles.handles_on(state, index)
        if h.kind is handles.HandleKind.ROTATE and h.other == other
    )  # fmt: skip
    centre = state.crosshair_pixel(index)
    start = np.array(handle.pixel)
    turn = math.radians(25.0)
    rot = np.array([[math.cos(turn), -math.sin(turn)], [math.sin(turn), math.cos(turn)]])
    now = centre + rot @ (start - centre)
    angle = handles.rotation_deg(state, index, start, now)
    assert angle == pytest.approx(25.0)
    state.rotate(index, angle)
    # the sagittal line now points at where the mouse went
    d, _n = _line_frame(state, index, other)
    towards = (now - centre) / np.linalg.norm(now - centre)
    assert abs(float(d @ towards)) == pytest.approx(1.0, abs=1e-6)


def test_moving_the_crosshair_in_a_plane_resamples_only_the_others(
    axial_volume: MprVolume,
) -> None:
    state = MprViewState(axial_volume)
    calls: list[tuple[int, ...]] = []
    state.subscribe(calls.append)
    state.click(0, 10.0, 12.0)  # in the axial plane: it stays where it is
    assert calls[-1] == (1, 2)
    state.scroll(1, 2)  # the coronal plane moves alone
    assert calls[-1] == (1,)
    state.rotate(0, 10.0)
    assert calls[-1] == (1, 2)


@pytest.mark.parametrize("slab", [None, Slab(6.0, SlabMode.MIP), Slab(6.0, SlabMode.AVERAGE)])
def test_display_picture_is_the_window_applied_to_the_values(
    axial_volume: MprVolume, slab: Slab | None
) -> None:
    state = MprViewState(axial_volume, window=(40.0, 350.0))
    state.set_slab(slab)
    for index in range(3):
        for quality in (Quality.PREVIEW, Quality.FULL):
            expected = np.rint(
                apply_voi(state.values(index, quality), state.views[index].window)
            ).astype(np.uint8)
            got = state.display_u8(index, quality)
            assert got.dtype == np.uint8 and got.shape == expected.shape
            assert np.array_equal(got, expected)


def test_lut_follows_a_rescaled_volume(axial_volume: MprVolume) -> None:
    scaled = replace(axial_volume, value_slope=2.0, value_intercept=-1024.0)
    state = MprViewState(scaled, window=(-200.0, 900.0))
    expected = np.rint(apply_voi(state.values(1), state.views[1].window)).astype(np.uint8)
    assert np.array_equal(state.display_u8(1), expected)
