"""In a real X window (Xvfb): the slab handle dragged with the mouse (preview while
dragging, refined on release, never blank; the slab's faces in the plane's colour),
and the 3-D snapshot button storing a Secondary Capture in the study, audited."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from PySide6.QtCore import QPointF, Qt

from tests.mpr.phantoms import load_frames
from tests.mpr.test_qt_mpr import ARTIFACTS, _colour_pixels, grab
from tests.mpr.test_volume_stacks import _tilted_sphere
from tests.viewer.gui_helpers import point, save_png, settle
from workstation.mpr import crosshair_handles as handles
from workstation.mpr.reslice import Quality
from workstation.mpr.volume import MprVolume, build_mpr_volume

pytestmark = [pytest.mark.qt, pytest.mark.vtk]


@pytest.fixture
def sphere_paths(tmp_path: Path) -> list[Path]:
    return _tilted_sphere(tmp_path / "src", 0.0)


@pytest.fixture
def archive(settings: Any) -> Iterator[Any]:
    from workstation.pacs_node.archive.archive import Archive

    with Archive.open(settings) as a:
        yield a


def _view(qtbot, volume: MprVolume, layout: str, **kwargs: Any):  # type: ignore[no-untyped-def]
    from workstation.mpr._qt.qt_mpr_view import QtMprView

    view = QtMprView(volume, layout, **kwargs)
    qtbot.addWidget(view)
    view.resize(1200, 800)
    view.show()
    qtbot.waitExposed(view)
    settle(200)
    return view


def test_dragging_the_slab_handle_with_the_mouse(qtbot, sphere_paths: list[Path]) -> None:  # type: ignore[no-untyped-def]
    from workstation.mpr._vtk.vtk_plane_picture import PLANE_COLOURS

    volume = build_mpr_volume(load_frames(sphere_paths))
    assert isinstance(volume, MprVolume)
    view = _view(qtbot, volume, "1x3")
    axial = view.planes[0]
    state = view.state
    other = 1  # the coronal plane's line on the axial plane
    slab_handle = next(
        h for h in handles.handles_on(state, 0)
        if h.kind is handles.HandleKind.SLAB and h.other == other
    )  # fmt: skip
    green_before = _colour_pixels(grab(axial), PLANE_COLOURS[other])
    start = QPointF(*axial.widget_point_of(slab_handle.pixel))
    assert axial.handle_at(start.x(), start.y()) == slab_handle
    # the drag: 40 screen pixels away from the line, across it
    a, b = state.line_in(0, other)  # type: ignore[misc]
    d = (b - a) / np.linalg.norm(b - a)
    n = np.array([-d[1], d[0]])
    tip = np.array(slab_handle.pixel) + n * (40.0 / axial.picture.pixel_size_on_screen())
    end = QPointF(*axial.widget_point_of(tuple(tip)))
    qtbot.mousePress(axial, Qt.MouseButton.LeftButton, pos=point(start))
    seen_quality, pictures = [], []
    for i in range(1, 6):
        qtbot.mouseMove(axial, point(start + (end - start) * (i / 5)))
        settle(30)
        seen_quality.append(state.quality)
        pictures.append(grab(view.planes[other]))
    qtbot.mouseRelease(axial, Qt.MouseButton.LeftButton, pos=point(end))
    settle(100)
    assert set(seen_quality) == {Quality.PREVIEW}
    for picture in pictures:  # never blank while dragging
        assert (picture.max(axis=2) > 40).mean() > 0.05
    assert state.quality is Quality.FULL
    slab = state.views[other].slab
    assert slab is not None
    expected = 2 * float((tip - state.crosshair_pixel(0)) @ n) * state.views[0].plane.spacing_mm
    assert slab.thickness_mm == pytest.approx(expected, rel=0.05)
    assert state.views[0].slab is None and state.views[2].slab is None
    settle(100)
    assert f"MIP {slab.thickness_mm:.3g} mm" in view.planes[other].picture.labels["info"].GetInput()
    # the slab's faces: dashed lines in the coronal colour, beside its line
    shot = grab(axial)
    save_png(shot, ARTIFACTS / "slab-handle-axial.png")
    # the line plus its two dashed faces (half dashes, half gaps): about twice the line
    assert _colour_pixels(shot, PLANE_COLOURS[other]) > 1.6 * green_before
    view.close()


def test_snapshot_button_stores_a_secondary_capture(  # type: ignore[no-untyped-def]
    qtbot, sphere_paths: list[Path], archive: Any, tmp_path: Path
) -> None:
    from workstation.auth.audit import AuditLog
    from workstation.auth.db import AuthDatabase
    from workstation.services.mpr_actions import Actor, SnapshotTarget

    audit = AuditLog(AuthDatabase.open(f"sqlite:///{tmp_path / 'audit.sqlite3'}"))
    volume = build_mpr_volume(load_frames(sphere_paths))
    assert isinstance(volume, MprVolume)
    target = SnapshotTarget(archive, audit, Actor(name="radiologist"))
    view = _view(qtbot, volume, "2x2", snapshot_target=target, source_path=sphere_paths[0])
    qtbot.waitUntil(lambda: view.volume_view.first_shown, timeout=120_000)
    settle(100)
    assert view.snapshot_button.isEnabled()
    stored: list[Any] = []
    view.sig_snapshot_stored.connect(stored.append)
    qtbot.mouseClick(view.snapshot_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(stored), timeout=30_000)
    result = stored[0]
    source = pydicom.dcmread(sphere_paths[0], stop_before_pixels=True)
    assert result.study_instance_uid == source.StudyInstanceUID and result.stored == 1
    entries = archive.find_instances(result.series_instance_uid)
    assert len(entries) == 1
    ds = pydicom.dcmread(archive.instance_file(entries[0].sop_instance_uid))
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.7"
    assert ds.SeriesDescription == "3-D CT-Bone"
    on_screen = grab(view.volume_view)
    assert ds.pixel_array.shape == on_screen.shape
    assert (ds.pixel_array.max(axis=2) > 30).mean() > 0.02  # the sphere, not a blank
    events = audit.events(action="study_export")
    assert [e.detail["kind"] for e in events] == ["3d-snapshot"]
    assert events[0].actor == "radiologist" and events[0].study_uid == source.StudyInstanceUID
    # without a place to store it the button is off and says why
    view.close()
    plain = _view(qtbot, volume, "2x2")
    assert not plain.snapshot_button.isEnabled()
    plain.close()


def test_iso_surface_follows_the_crop_box_in_the_window(qtbot, sphere_paths: list[Path]) -> None:  # type: ignore[no-untyped-def]
    volume = build_mpr_volume(load_frames(sphere_paths))
    assert isinstance(volume, MprVolume)
    view = _view(qtbot, volume, "2x2")
    qtbot.waitUntil(lambda: view.volume_view.first_shown, timeout=120_000)
    shown: list[int] = []
    view.volume_view.sig_surface_shown.connect(shown.append)
    view.set_3d_mode("iso", 0.0)
    qtbot.waitUntil(lambda: len(shown) == 1, timeout=60_000)
    view.set_crop((0.0, 1.0, 0.0, 1.0, 0.0, 0.5))
    qtbot.waitUntil(lambda: len(shown) >= 2, timeout=60_000)
    settle(100)
    assert 0.25 < shown[-1] / shown[0] < 0.75  # about half the sphere's surface is left
    view.set_crop(None)
    qtbot.waitUntil(lambda: len(shown) >= 3, timeout=60_000)
    assert shown[-1] == shown[0]
    view.close()
