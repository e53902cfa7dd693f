"""How the MPR planes draw: what a plane shows on screen is its picture, pixel for
pixel, at both qualities; a plane whose look did not change is not drawn again.

The preview picture goes to the screen as sampled (every second pixel, magnified by the
texture), the full one at every pixel; under every screen pixel of the picture the grey
must be the windowed value of the plane pixel there (``MprViewState.display_u8``,
compared with the engine's own reference :func:`apply_voi` in test_crosshair_handles).
Real window under Xvfb, read back with ``vtkWindowToImageFilter``.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.mpr.test_qt_mpr import grab
from tests.viewer.gui_helpers import settle
from workstation.mpr.reslice import Quality
from workstation.mpr.volume import MprVolume

pytestmark = [pytest.mark.qt, pytest.mark.vtk]


def _screen_vs_picture(plane, expected: np.ndarray) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(grey screen pixels over the picture, how many differ from the plane pixel under
    them). Overlay lines and labels are coloured and left out."""
    shot = grab(plane).astype(int)
    rows, columns = expected.shape
    ratio = plane.devicePixelRatioF()
    height = shot.shape[0]
    checked = wrong = 0
    for y in range(2, height - 2, 3):
        for x in range(2, shot.shape[1] - 2, 3):
            r, g, b = shot[y, x]
            if not (r == g == b):
                continue  # a crosshair line, a handle or a label
            column, row = plane.picture.display_to_pixel(x + 0.5, height - 1 - y + 0.5)
            c, rr = int(np.floor(column + 0.5)), int(np.floor(row + 0.5))
            if not (0 <= c < columns and 0 <= rr < rows):
                continue
            # a screen pixel whose centre lies within 0.02 plane pixels of a pixel edge
            # may show either neighbour: skip those few
            if (
                min(abs(column + 0.5 - round(column + 0.5)), abs(row + 0.5 - round(row + 0.5)))
                < 0.02
            ):
                continue
            checked += 1
            wrong += int(r != expected[rr, c])
    assert ratio > 0
    return checked, wrong


@pytest.fixture
def patterned_volume() -> MprVolume:
    """Odd sizes and spacings and a value that changes from every voxel to the next
    along each axis, so a picture shifted or stretched by one pixel shows."""
    k, j, i = np.mgrid[0:53, 0:67, 61:0:-1]
    voxels = ((i * 37 + j * 101 + k * 13) % 397 - 100).astype(np.int16)
    affine = np.diag([0.8, 0.9, 1.3, 1.0])
    affine[:3, 3] = (-20.0, -30.0, -35.0)
    return MprVolume(voxels=np.ascontiguousarray(voxels), affine=affine)


@pytest.fixture
def plane_view(qtbot, patterned_volume: MprVolume):  # type: ignore[no-untyped-def]
    from workstation.mpr._qt.qt_mpr_view import QtMprView

    view = QtMprView(patterned_volume, "1x3")
    qtbot.addWidget(view)
    view.resize(1000, 500)
    view.show()
    qtbot.waitExposed(view)
    yield view
    view.close()


@pytest.mark.parametrize("quality", [Quality.FULL, Quality.PREVIEW])
def test_screen_shows_the_plane_picture_pixel_for_pixel(plane_view, quality: Quality) -> None:  # type: ignore[no-untyped-def]
    view = plane_view
    view.state.rotate(0, 17.0)  # two oblique planes, odd sizes likely
    view.state.set_window(1, 90.0, 500.0)
    view.state.set_quality(quality)
    view.state.click(2, 21.3, 17.8)
    settle(100)
    for index, plane in enumerate(view.planes):
        expected = view.state.display_u8(index)
        assert plane.picture.shape == expected.shape
        checked, wrong = _screen_vs_picture(plane, expected)
        assert checked > 2000, (index, checked)
        assert wrong == 0, (index, quality, wrong, checked)
        assert len(np.unique(expected)) > 100  # a picture with content, not a flat field


def test_only_planes_whose_look_changed_are_drawn(plane_view) -> None:  # type: ignore[no-untyped-def]
    view = plane_view
    settle(100)
    drawn = [0, 0, 0]
    for i, plane in enumerate(view.planes):
        plane.GetRenderWindow().AddObserver(
            "EndEvent", lambda *_a, i=i: drawn.__setitem__(i, drawn[i] + 1)
        )
    view.state.set_window(1, 100.0, 300.0)  # the coronal's picture and info text only
    settle(100)
    assert drawn[1] >= 1 and drawn[0] == 0 and drawn[2] == 0, drawn
    view.state.scroll(1, 3.0)  # the coronal moves: its line moves in the other two
    settle(100)
    assert all(n >= 1 for n in drawn), drawn
    before = list(drawn)
    view.planes[2].request_render()  # a request from elsewhere (a tool's glyphs) draws
    settle(100)
    assert drawn[2] > before[2] and drawn[0] == before[0], drawn
