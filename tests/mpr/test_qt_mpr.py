"""The MPR / 3-D window in a real X window (Xvfb): linked planes, labels, crosshair,
scroll, rotation, slab controls, the 3-D view; screenshots under artifacts/mpr/."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from tests.mpr.phantoms import load_frames
from tests.mpr.test_volume_stacks import _tilted_sphere
from tests.viewer.gui_helpers import drag, save_png, settle, wheel
from workstation.mpr.geometry import PlaneKind
from workstation.mpr.volume import MprVolume, build_mpr_volume

pytestmark = [pytest.mark.qt, pytest.mark.vtk]

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "mpr"


def grab(widget) -> np.ndarray:  # type: ignore[no-untyped-def]
    from workstation.mpr._vtk.vtk_volume_render import grab_rgb

    widget.render_now()
    return grab_rgb(widget.GetRenderWindow())


def tiled(view) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The window's VTK views tiled 2x2 as they sit (QWidget.grab misses VTK)."""
    pictures = [grab(p) for p in view.planes]
    if view.volume_view is not None and view.volume_view.isVisible():
        pictures.append(grab(view.volume_view))
    h = max(p.shape[0] for p in pictures)
    w = max(p.shape[1] for p in pictures)
    out = np.zeros((2 * h, 2 * w, 3), np.uint8)
    for i, p in enumerate(pictures):
        r, c = divmod(i, 2)
        out[r * h : r * h + p.shape[0], c * w : c * w + p.shape[1]] = p
    return out


@pytest.fixture
def sphere_volume(tmp_path: Path) -> MprVolume:
    volume = build_mpr_volume(load_frames(_tilted_sphere(tmp_path, 0.0)))
    assert isinstance(volume, MprVolume)
    return volume


@pytest.fixture
def make_view(qtbot):  # type: ignore[no-untyped-def]
    from workstation.mpr._qt.qt_mpr_view import QtMprView

    made = []

    def make(volume: MprVolume, layout: str = "2x2"):  # type: ignore[no-untyped-def]
        view = QtMprView(volume, layout)
        qtbot.addWidget(view)
        view.resize(1000, 800)
        view.show()
        qtbot.waitExposed(view)
        made.append(view)
        return view

    yield make
    for view in made:
        view.close()


def _colour_pixels(picture: np.ndarray, colour: tuple[int, int, int]) -> int:
    return int(np.all(np.abs(picture.astype(int) - colour) <= 2, axis=2).sum())


def test_linked_planes_labels_scroll_rotate_and_slab(qtbot, make_view, sphere_volume) -> None:  # type: ignore[no-untyped-def]
    from workstation.mpr._vtk.vtk_plane_picture import PLANE_COLOURS

    view = make_view(sphere_volume)
    qtbot.waitUntil(lambda: view.volume_view.first_shown, timeout=120_000)
    settle(100)
    # the one-time preparation drove the progress bar to 100 %, then hid it
    assert view.volume_view.progress_seen and view.volume_view.progress_seen[-1] == 100
    assert not view.volume_view.progress.isVisible()
    axial, coronal, sagittal = view.planes
    labels = {e: axial.picture.labels[e].GetInput() for e in ("left", "right", "top", "bottom")}
    assert labels == {"left": "R", "right": "L", "top": "A", "bottom": "P"}
    assert coronal.picture.labels["top"].GetInput() == "H"
    assert sagittal.picture.labels["left"].GetInput() == "A"
    shot = grab(axial)
    assert _colour_pixels(shot, PLANE_COLOURS[1]) > 50  # coronal line (green)
    assert _colour_pixels(shot, PLANE_COLOURS[2]) > 50  # sagittal line (yellow)
    # wheel on the axial plane: the crosshair moves along its normal (+z, head)
    z0 = float(view.state.crosshair[2])
    wheel(axial, 2)
    assert float(view.state.crosshair[2]) == pytest.approx(z0 + 2 * view.state.spacing_mm)
    # a click in the coronal plane moves the crosshair there, every plane follows
    qtbot.mouseClick(
        coronal, Qt.MouseButton.LeftButton, pos=coronal.rect().center() + QPointF(40, -30).toPoint()
    )
    settle(50)
    for v in view.state.views:
        assert abs(float(v.plane.distance_mm(view.state.crosshair))) < 1e-6
    # ctrl-drag in the axial plane turns the others (oblique)
    start = QPointF(axial.width() / 2, axial.height() / 2)
    drag(qtbot, axial, start, start + QPointF(60, 0), modifier=Qt.KeyboardModifier.ControlModifier)
    assert view.state.views[1].plane.kind is PlaneKind.OBLIQUE
    view.set_slab("mip", 12.0)
    settle(100)
    assert "MIP 12 mm" in coronal.picture.labels["info"].GetInput()
    picture = tiled(view)
    assert (grab(view.volume_view).max(axis=2) > 30).mean() > 0.01
    save_png(picture, ARTIFACTS / "mpr-2x2-oblique-slab-sphere.png")


def test_one_by_three_layout_and_preset(qtbot, make_view, sphere_volume) -> None:  # type: ignore[no-untyped-def]
    view = make_view(sphere_volume, "1x3")
    assert view.volume_view is None
    settle(100)
    assert all(grab(p).max() > 0 for p in view.planes)
    view.set_layout("2x2")
    qtbot.waitUntil(lambda: view.volume_view.first_shown, timeout=120_000)
    view.preset_box.setCurrentText("CT-MIP")
    settle(100)
    assert view.volume_view.preset_name == "CT-MIP"
