"""The 3-D view's still picture comes from its worker thread: what it shows equals an
independent full-quality render of the same camera by a plain VTK pipeline set up in
the test; the worker draws only the newest request (an older picture in progress is
aborted); closing the view mid-render (and mid-preparation) ends the worker cleanly."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from tests.mpr.volume_3d_helpers import body_ct, plain_vtk_still
from tests.viewer.gui_helpers import point, settle
from workstation.mpr.volume import MprVolume

pytestmark = [pytest.mark.qt, pytest.mark.vtk]

SPACING = (0.7, 0.7, 1.0)


@pytest.fixture(scope="module")
def big_ct() -> MprVolume:
    """512 x 512 x 300: over the 3-D view's voxel budget, so it shows every second voxel."""
    return MprVolume(voxels=body_ct(512, 300), affine=np.diag([*SPACING, 1.0]))


def open_view(qtbot, volume: MprVolume, size: tuple[int, int], preset_name: str = "CT-Bone"):  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QVBoxLayout, QWidget

    from workstation.mpr._qt.qt_volume_view import Qt3DView

    window = QWidget()
    qtbot.addWidget(window)
    view = Qt3DView(volume, preset_name)
    layout = QVBoxLayout(window)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(view)
    window.resize(*size)
    window.show()
    view.host = window  # type: ignore[attr-defined]  # qtbot holds widgets weakly
    return view


def test_shown_still_picture_equals_an_independent_render(qtbot, big_ct) -> None:  # type: ignore[no-untyped-def]
    from workstation.mpr._vtk.vtk_volume_render import VIEW_BACKGROUND, grab_rgb
    from workstation.mpr.presets import preset

    view = open_view(qtbot, big_ct, (520, 400), "CT-Soft-Tissue")
    try:
        qtbot.waitUntil(lambda: view.refined, timeout=180_000)
        view.set_crop((0.1, 0.8, 0.0, 1.0, 0.2, 0.9))
        view.set_preset("CT-Soft-Tissue", shift=60.0)
        centre = QPointF(view.width() / 2, view.height() / 2)
        qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=point(centre))
        for step in range(1, 5):
            qtbot.mouseMove(view, point(centre + QPointF(15 * step, -10 * step)))
            settle(20)
        qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=point(centre + QPointF(60, -40)))
        qtbot.waitUntil(lambda: view.refined, timeout=60_000)
        assert view.still_layer.shown
        shown = grab_rgb(view.GetRenderWindow())
        camera = view.renderer.GetActiveCamera()
        pose = {
            "position": camera.GetPosition(), "focal_point": camera.GetFocalPoint(),
            "view_up": camera.GetViewUp(), "view_angle": camera.GetViewAngle(),
            "clipping_range": camera.GetClippingRange(),
        }  # fmt: skip
        size = tuple(view.GetRenderWindow().GetSize())
    finally:
        view.close_vtk()
    # the reference: every second voxel (the view's budget), HU points moved by hand
    voxels = np.ascontiguousarray(big_ct.voxels[::2, ::2, ::2])
    affine = np.diag([2 * SPACING[0], 2 * SPACING[1], 2 * SPACING[2], 1.0])
    soft = preset("CT-Soft-Tissue")
    moved = type(soft)(**{
        **soft.__dict__,
        "scalar_opacity": tuple((x + 60.0, y) for x, y in soft.scalar_opacity),
        "color": tuple((x + 60.0, r, g, b) for x, r, g, b in soft.color),
    })  # fmt: skip
    reference = plain_vtk_still(
        voxels, affine, moved, pose, size, VIEW_BACKGROUND, crop=(0.1, 0.8, 0.0, 1.0, 0.2, 0.9)
    )
    assert shown.shape == reference.shape == (size[1], size[0], 3)
    lit = reference.max(axis=2) > 40
    assert lit.mean() > 0.05  # a real picture, not a blank one
    diff = np.abs(shown.astype(int) - reference.astype(int)).max(axis=2)
    print(f"still vs plain VTK: mean {diff.mean():.3f}, p99 {np.percentile(diff, 99):.0f}, "
          f"max {diff.max()}, lit {lit.mean():.3f}")  # fmt: skip
    assert diff.mean() <= 1.0 and np.percentile(diff, 99) <= 8


def test_worker_draws_the_newest_request_and_aborts_an_older_one(big_ct) -> None:
    from workstation.mpr._vtk.vtk_still_render_worker import StillRenderWorker, StillRequest
    from workstation.mpr._vtk.vtk_volume_render import SceneLook, VtkVolumeScene, camera_pose
    from workstation.mpr.presets import preset

    scene = VtkVolumeScene(big_ct, None, 12_000_000)  # its vtkImageData, shared read-only
    scene.reset_camera(30.0, 10.0)
    pose = camera_pose(scene.renderer.GetActiveCamera())
    delivered: list[tuple[int, tuple[int, ...]]] = []
    worker = StillRenderWorker(
        scene.volume, scene.image, lambda g, rgb: delivered.append((g, rgb.shape))
    )
    try:
        look = SceneLook(preset("CT-Bone"))
        worker.request(StillRequest(1, (1600, 1200), look, pose))  # slow: large
        deadline = time.monotonic() + 60
        while not worker.busy and time.monotonic() < deadline:
            time.sleep(0.002)
        assert worker.busy
        time.sleep(0.05)  # well inside the first picture
        worker.request(StillRequest(2, (200, 150), SceneLook(preset("CT-MIP"), blend="mip"), pose))
        while not delivered and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)
        assert delivered == [(2, (150, 200, 3))]  # the older one was aborted, never handed
        worker.cancel()
    finally:
        assert worker.close(timeout=10.0)  # idle: it ends at once
    assert not worker.alive


def test_closing_the_view_mid_render_and_mid_preparation(qtbot, big_ct) -> None:  # type: ignore[no-untyped-def]
    view = open_view(qtbot, big_ct, (1200, 900))
    qtbot.waitUntil(lambda: view.first_shown, timeout=180_000)
    worker = view.still_worker
    assert worker is not None
    qtbot.waitUntil(lambda: worker.busy, timeout=60_000)  # the still picture is being drawn
    start = time.perf_counter()
    view.close_vtk()
    closed_in = time.perf_counter() - start
    # the worker ends (at once from a ray cast; a first picture's gradients run out first)
    qtbot.waitUntil(lambda: not worker.alive, timeout=60_000)
    ended_in = time.perf_counter() - start
    settle(300)  # a late picture (if any was on its way) is dropped, nothing drawn
    assert not view.refined and not view.still_layer.shown
    print(f"closed mid-render: close_vtk {closed_in * 1000:.0f} ms, "
          f"worker ended after {ended_in * 1000:.0f} ms")  # fmt: skip
    assert closed_in < 1.0  # the GUI thread waits only a moment for the worker
    # closed before the worker has prepared anything: no still worker is ever started
    early = open_view(qtbot, big_ct, (300, 200))
    settle(100)
    early.close_vtk()
    settle(2000)
    assert early.scene is None and early.still_worker is None
