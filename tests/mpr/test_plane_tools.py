"""The 2-D tools on reformatted planes, through the same interaction model as a viewport.

A synthetic CT with two bright markers at known voxels; the reference side reads the
files with pydicom and samples with scipy (tests/mpr/phantoms.py), never through the
code under test.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.mpr.phantoms import (
    load_frames,
    plane_points,
    random_hu,
    read_reference,
    reference_sample,
    write_series,
)
from workstation.mpr.reslice import Quality
from workstation.mpr.viewing import MprViewState
from workstation.mpr.volume import MprVolume, build_mpr_volume
from workstation.viewer.interaction.events import move, press, release
from workstation.viewer.interaction.plane_host import PlaneAnnotations, PlaneToolHost
from workstation.viewer.interaction.session import ToolSession
from workstation.viewer.interaction.tools import Tool

pytestmark = pytest.mark.vtk

#: Two markers (slice, row, column) in the same row: the same coronal plane.
MARKERS = ((5, 20, 8), (22, 20, 40))
MARKER_HU = 3000
CORONAL = 1


@pytest.fixture(scope="module")
def marked_series(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    hu = random_hu((30, 40, 48), seed=11)
    for k, j, i in MARKERS:
        hu[k, j, i] = MARKER_HU
    return write_series(tmp_path_factory.mktemp("markers"), hu)


@pytest.fixture
def coronal(marked_series: list[Path]):  # type: ignore[no-untyped-def]
    volume = build_mpr_volume(load_frames(marked_series))
    assert isinstance(volume, MprVolume), volume
    ref = read_reference(marked_series)
    marker_lps = [
        ref.affine[:3, :3] @ np.array([i, j, k]) + ref.affine[:3, 3] for k, j, i in MARKERS
    ]
    state = MprViewState(volume)
    state.set_crosshair(marker_lps[0])
    notes = PlaneAnnotations()
    host = PlaneToolHost(
        notes,
        lambda: state.views[CORONAL].plane,
        lambda: state.values(CORONAL, Quality.FULL),
        units="HU",
        frame_of_reference_uid=volume.frame_of_reference_uid,
    )
    return state, ToolSession(host), notes, ref, marker_lps


def _drag(s: ToolSession, a, b) -> None:  # type: ignore[no-untyped-def]
    s.handle(press(a))
    s.handle(move(((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)))
    s.handle(release(b))


def test_length_across_two_markers_is_their_lps_distance(coronal) -> None:  # type: ignore[no-untyped-def]
    state, s, notes, _ref, marker_lps = coronal
    plane = state.views[CORONAL].plane
    ends = [tuple(float(v) for v in plane.patient_to_pixel(p)) for p in marker_lps]
    # The markers are where the picture is brightest (within half a pixel).
    picture = state.values(CORONAL, Quality.FULL)
    for c, r in ends:
        rr, cc = np.unravel_index(
            np.argmax(picture[round(r) - 2 : round(r) + 3, round(c) - 2 : round(c) + 3]), (5, 5)
        )
        assert abs(round(r) - 2 + rr - r) <= 0.5 and abs(round(c) - 2 + cc - c) <= 0.5
    s.set_tool(Tool.LENGTH)
    _drag(s, ends[0], ends[1])
    (ann,) = notes.all()
    expected = float(np.linalg.norm(marker_lps[1] - marker_lps[0]))
    assert ann.results["length"] == pytest.approx(expected, abs=1e-6)
    assert ann.results["length_unit"] == "mm"
    assert np.asarray(ann.results["points_lps"]) == pytest.approx(np.array(marker_lps), abs=1e-6)


def test_roi_on_a_coronal_plane_is_the_numpy_mean_of_the_same_voxels(coronal) -> None:  # type: ignore[no-untyped-def]
    state, s, notes, ref, _markers = coronal
    plane = state.views[CORONAL].plane
    (c0, r0), (c1, r1) = (6.0, 4.0), (40.0, 30.0)
    s.set_tool(Tool.RECTANGLE)
    _drag(s, (c0 - 0.3, r0 - 0.2), (c1 + 0.4, r1 + 0.1))
    (roi,) = notes.all()
    points = plane_points(plane)[int(r0) : int(r1) + 1, int(c0) : int(c1) + 1]
    expected, inside = reference_sample(ref, points)
    assert inside.all()
    assert roi.results["value_unit"] == "HU"
    assert roi.results["pixel_count"] == expected.size
    assert roi.results["mean"] == pytest.approx(expected.mean(), abs=1.0)
    assert roi.results["max"] == pytest.approx(expected.max(), abs=1.0)
    spacing = plane.spacing_mm
    assert roi.results["area"] == pytest.approx((c1 - c0 + 0.7) * (r1 - r0 + 0.3) * spacing**2)

    s.set_tool(Tool.PROBE)
    s.handle(press((c0, r0)))
    s.handle(release((c0, r0)))
    probe = notes.all()[-1]
    assert probe.results["value"] == pytest.approx(float(expected[0, 0]), abs=1.0)


def test_a_plane_annotation_follows_its_plane(coronal) -> None:  # type: ignore[no-untyped-def]
    state, s, notes, _ref, _markers = coronal
    s.set_tool(Tool.LENGTH)
    _drag(s, (10.0, 10.0), (30.0, 12.0))
    assert len(s.host.annotations()) == 1
    state.scroll(CORONAL, 2)  # 2 voxel spacings away: not on this plane
    assert s.host.annotations() == [] and len(notes.all()) == 1
    state.scroll(CORONAL, -2)
    (back,) = s.host.annotations()
    assert np.array(back.points) == pytest.approx(np.array([(10.0, 10.0), (30.0, 12.0)]))


def test_roi_on_isotropic_voxels_is_numpy_on_the_very_voxels(tmp_path: Path) -> None:
    """1 mm voxels: the coronal plane's pixels are voxel centres (head at the top, the
    patient's right on the left), so the ROI is a plain numpy mean of a voxel block."""
    hu = random_hu((24, 30, 36), seed=5)
    paths = write_series(tmp_path, hu, pixel_spacing=(1.0, 1.0), slice_spacing=1.0)
    volume = build_mpr_volume(load_frames(paths))
    assert isinstance(volume, MprVolume), volume
    j = 13
    state = MprViewState(volume)
    state.set_crosshair(volume.index_to_patient([5, j, 7]))
    notes = PlaneAnnotations()
    host = PlaneToolHost(
        notes, lambda: state.views[CORONAL].plane, lambda: state.values(CORONAL, Quality.FULL)
    )
    s = ToolSession(host)
    s.set_tool(Tool.RECTANGLE)
    (c0, r0), (c1, r1) = (4, 3), (29, 17)
    _drag(s, (c0 - 0.4, r0 - 0.4), (c1 + 0.4, r1 + 0.4))
    (roi,) = notes.all()
    n = hu.shape[0]
    block = hu[n - 1 - r1 : n - r0, j, c0 : c1 + 1].astype(float)
    assert roi.results["pixel_count"] == block.size
    assert roi.results["mean"] == pytest.approx(block.mean(), abs=1e-3)
    assert roi.results["sd"] == pytest.approx(block.std(), abs=1e-3)
    assert (roi.results["min"], roi.results["max"]) == pytest.approx((block.min(), block.max()))
