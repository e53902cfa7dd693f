"""The 3-D view never blocks the GUI thread over the issue's 200 ms: opening it (the
first picture comes at dragging quality, refined in timer steps), a preset change, a
rotation by the mouse and its release. The full-quality still picture is drawn by the
view's worker thread offscreen and shown when done; the GUI thread never draws a frame
at still quality. A 10 ms QTimer heartbeat measures the longest GUI-thread stall; each
GUI frame is timed. On the 255-slice test CT (skipped without the shared test data)
and on a synthetic 512 x 512 x 300 CT.

Not counted: the window's own first (empty) frame, which sets up its GL context and
software GL's first shaders (70-120 ms on a quiet machine, up to ~250 ms with the
machine loaded): every VTK view pays it once when it opens, the 2-D viewports too;
it is timed and printed, and kept apart from the volume's frames (the view draws it
before the preparation starts loading both cores)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from tests.mpr.volume_3d_helpers import Heartbeat, body_ct
from tests.viewer.gui_helpers import point, settle
from workstation.mpr.series_input import SeriesInput, files_in, read_series
from workstation.mpr.volume import MprVolume, build_mpr_volume

pytestmark = [pytest.mark.qt, pytest.mark.vtk]

#: The issue's budget: the UI thread never stalls more than 200 ms.
MAX_STALL_S = 0.2
#: The issue's still-refinement budget (release to still picture on screen).
STILL_BUDGET_S = 1.5


@pytest.fixture(scope="module")
def real_ct(testdata: Path) -> MprVolume:
    loaded = read_series(files_in(testdata / "series" / "ct-chest-ricord-255sl-jpegll"))
    assert isinstance(loaded, SeriesInput), loaded
    volume = build_mpr_volume(loaded.frames)
    assert isinstance(volume, MprVolume), volume
    return volume


@pytest.fixture(scope="module")
def synthetic_ct() -> MprVolume:
    return MprVolume(voxels=body_ct(512, 300), affine=np.diag([0.7, 0.7, 1.0, 1.0]))


def warm_up_vtk() -> None:
    """The process's first VTK window pays VTK's one-time class set-up (~180 ms, in
    ``QVTKRenderWindowInteractor.__init__``); in the app the MPR planes have paid it
    before the 3-D view opens, so it is paid here before the heartbeat counts."""
    from workstation.viewer._vtk.qvtk import ViewerRenderWidget

    widget = ViewerRenderWidget()
    widget.close_vtk()
    widget.deleteLater()
    settle(50)


@pytest.mark.parametrize("which", ["real_ct", "synthetic_ct"])
def test_open_preset_rotate_release_never_stall_the_gui_thread(qtbot, request, which) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QVBoxLayout, QWidget

    from workstation.mpr._qt.qt_volume_view import Qt3DView
    from workstation.mpr._vtk.vtk_volume_render import REFINEMENT_STEPS, STILL_SAMPLE_DISTANCE

    volume = request.getfixturevalue(which)
    warm_up_vtk()
    heartbeat = Heartbeat()
    settle(100)
    opened = time.perf_counter()
    window = QWidget()
    qtbot.addWidget(window)
    view = Qt3DView(volume, "CT-Bone")
    prepared: list[float] = []
    view.sig_prepared.connect(lambda: prepared.append(time.perf_counter()))
    # every frame the GUI thread draws: (start, seconds, scene drawn, ray step, ray spacing)
    frames: list[tuple[float, float, bool, float, float]] = []
    draw = view.render_now

    def timed_render() -> None:
        start = time.perf_counter()
        draw()
        mapper = view.scene.mapper if view.scene else None
        frames.append((
            start, time.perf_counter() - start, bool(mapper and view.renderer.GetDraw()),
            mapper.GetSampleDistance() if mapper else 0.0,
            mapper.GetImageSampleDistance() if mapper else 0.0,
        ))  # fmt: skip

    view.render_now = timed_render  # type: ignore[method-assign]
    layout = QVBoxLayout(window)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(view)
    window.resize(600, 450)
    window.show()
    try:
        qtbot.waitUntil(lambda: view.refined, timeout=180_000)
        first_still = time.perf_counter()
        assert view.still_layer.shown and view.still_worker.pictures_drawn == 1
        scene_frames = [f for f in frames if f[2]]
        # the first picture and each refinement step on the GUI thread are coarse ones
        assert [(s, i) for _t, _d, _s, s, i in scene_frames[: len(REFINEMENT_STEPS)]] == [
            *REFINEMENT_STEPS
        ]
        # a preset change: a coarse frame now, the still picture from the worker
        view.set_preset("CT-Soft-Tissue")
        assert not view.refined and not view.still_layer.shown
        qtbot.waitUntil(lambda: view.refined, timeout=60_000)
        assert view.still_worker.pictures_drawn == 2
        # turn it with the mouse, then let go
        centre = QPointF(view.width() / 2, view.height() / 2)
        qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=point(centre))
        assert not view.still_layer.shown  # back to live frames at once
        for step in range(1, 9):
            qtbot.mouseMove(view, point(centre + QPointF(12 * step, 4 * step)))
            settle(30)
        released = time.perf_counter()
        qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=point(centre + QPointF(96, 32)))
        qtbot.waitUntil(lambda: view.refined, timeout=60_000)
        still_after_release = time.perf_counter() - released
        done = time.perf_counter()
        gl_start, gl_seconds = frames[0][0], frames[0][1]  # the empty window's first frame
        assert not frames[0][2]
        stall, when = max(
            heartbeat.longest_gap(opened, gl_start),
            heartbeat.longest_gap(gl_start + gl_seconds, done),
        )
        gui = [d for _t, d, scene, _s, _i in frames if scene]
        print(
            f"{which}: window's first frame (GL set-up) {gl_seconds * 1000:.0f} ms; "
            f"prepared {prepared[0] - opened:.2f} s, first still picture "
            f"{first_still - opened:.2f} s after opening; "
            f"still after release {still_after_release * 1000:.0f} ms; "
            f"{len(gui)} GUI scene frames {[round(d * 1000) for d in gui]} ms; "
            f"longest GUI stall otherwise {stall * 1000:.0f} ms (+{when - opened:.2f} s); "
            f"worker pictures {view.still_worker.pictures_drawn}"
        )
        assert view.still_worker.pictures_drawn >= 3
        # the GUI thread never drew the scene at still quality (that is the worker's)
        assert not [f for f in frames if f[2] and f[3] == STILL_SAMPLE_DISTANCE and f[4] == 1.0]
        assert still_after_release <= STILL_BUDGET_S
        assert stall <= MAX_STALL_S
        picture = grab_shown(view)
        assert (picture.max(axis=2) > 30).mean() > 0.01
    finally:
        heartbeat.stop()
        view.close_vtk()


def grab_shown(view) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The picture on screen (the still layer redrawn: a texture, no ray cast)."""
    from workstation.mpr._vtk.vtk_volume_render import grab_rgb

    return grab_rgb(view.GetRenderWindow())
