"""MPR and 3-D benchmark: our engine beside a bare VTK script on the same volume, same run.

Volume: a synthetic CT of 512x512x500 int16 (0.7 x 0.7 x 1.0 mm; a body cylinder,
bone rods, contrast spheres), held once as :class:`workstation.mpr.volume.MprVolume`.

MPR (engine, offscreen arrays, linear, 512-ish planes at 0.7 mm):
  * first three planes (axial, coronal, sagittal) from a fresh reslicer;
  * crosshair move: all three planes re-sampled for a 1 mm shift, p50/p95 per step;
  * rotation: three oblique planes turned by 2 degrees a step, p50/p95;
  * the same two at preview quality (nearest neighbour), as while a button is down;
  * slab 20 mm MIP on the coronal: preview (nearest, half the samples) and refined;
  * bare: ``vtkImageReslice`` configured by hand on the same array, same planes.
3-D (``vtkFixedPointVolumeRayCastMapper``, CT-Bone, 512x512 offscreen; ours as the 3-D
window renders it: volumes over 40 M voxels from every second voxel, so 256x256x250
here; the bare script renders every voxel):
  * first image (includes the mapper's gradient preparation), rotation frames with
    ``AutoAdjustSampleDistances`` (p50/p95), still refinement, preset change;
  * bare: the same mapper and transfer function set up by hand.
Memory: resident size after the volume, what MPR and 3-D add, peak (VmHWM).
On screen (``--screen``, needs a display, e.g. under xvfb-run): the MPR window's three
planes (1x3, 1500x600) as the user drives them, a frame being the state change plus
every plane drawn: crosshair drag (a click-drag in the axial plane, preview quality),
wheel scroll of the coronal plane (full quality), rotation by the axial plane's handle
(preview); beside them a bare script (three ``vtkImageReslice`` -> window/level ->
``vtkImageActor`` windows of the same size, all three re-sliced and drawn a frame). The
3-D view (600x450, the decimated volume as the window shows it): first (coarse)
picture, refined to still quality (the still picture drawn by the view's worker thread
and shown); turned while dragging, p50/p95; the still refinement after the release
(release to still picture on screen) and a preset change (to still picture); the
longest GUI-thread stall over all of it (a 10 ms QTimer heartbeat's longest gap while
the event loop runs; a dragging frame is a stall of its length; opening also without
the window's own first frame, its GL set-up, which any VTK view pays). Beside them the bare
fixed-point mapper on the same input in a window of that size: turned, and its still
frame, which a plain VTK window draws on the GUI thread (so that is its stall).
The planes' frames are also given as CPU time (all threads of the process, GL's
included): on a shared machine that figure moves far less than the wall clock with the
other processes' load.
Figures, not pass/fail.

    python benchmarks/mpr_bench.py            # full (a few minutes on 2 cores)
    python benchmarks/mpr_bench.py --quick    # 128x128x100, seconds (used by a test)
    xvfb-run -a python benchmarks/mpr_bench.py --screen   # also the on-screen figures
    xvfb-run -a python benchmarks/mpr_bench.py --planes   # only the on-screen planes
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workstation.mpr.geometry import (
    PlaneKind,
    Slab,
    SlabMode,
    rotated,
    standard_plane,
)
from workstation.mpr.presets import preset
from workstation.mpr.reslice import Quality, Reslicer
from workstation.mpr.volume import MprVolume


def _status_mb(key: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def synthetic_ct(n_xy: int, n_z: int, spacing_xy: float = 0.7) -> MprVolume:
    """Air, a water-like body cylinder, four bone rods and contrast spheres, int16 HU."""
    voxels = np.empty((n_z, n_xy, n_xy), np.int16)
    j, i = np.mgrid[0:n_xy, 0:n_xy].astype(np.float32)
    c = (n_xy - 1) / 2
    body = (i - c) ** 2 + ((j - c) * 1.3) ** 2 < (0.42 * n_xy) ** 2
    rods = np.zeros_like(body)
    for dx, dy in ((-0.2, 0.1), (0.2, 0.1), (0.0, 0.25), (0.0, -0.2)):
        rods |= (i - c - dx * n_xy) ** 2 + (j - c - dy * n_xy) ** 2 < (0.03 * n_xy) ** 2
    base = np.where(body, 40, -1000).astype(np.int16)
    base[rods] = 700
    for k in range(n_z):
        voxels[k] = base
        zc = (k - n_z / 2) / n_z
        sphere = (i - c) ** 2 + (j - c) ** 2 + (zc * n_xy) ** 2 < (0.12 * n_xy) ** 2
        voxels[k][sphere] = 300
    affine = np.diag([spacing_xy, spacing_xy, 1.0, 1.0])
    affine[:3, 3] = (-c * spacing_xy, -c * spacing_xy, -n_z / 2)
    return MprVolume(voxels=voxels, affine=affine)


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000.0


def _p(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def bench_mpr(volume: MprVolume, steps: int) -> dict[str, float]:
    corners, centre = volume.corners_mm(), volume.centre_mm()
    spacing = min(volume.spacing_mm)
    kinds = (PlaneKind.AXIAL, PlaneKind.CORONAL, PlaneKind.SAGITTAL)
    planes = [standard_plane(k, corners, spacing, centre) for k in kinds]
    reslicer = Reslicer(volume)
    first = _timed(lambda: [reslicer.plane(p) for p in planes])
    moves = []
    for s in range(steps):
        point = centre + (s - steps / 2) * 1.0
        moved = [p.moved_to(point) for p in planes]
        moves.append(_timed(lambda m=moved: [reslicer.plane(p) for p in m]))
    turns = []
    for s in range(steps):
        turned = [rotated(p, (0.3, 0.5, 0.8), 2.0 * (s + 1)) for p in planes]
        turns.append(_timed(lambda t=turned: [reslicer.plane(p) for p in t]))
    # what the window does while a button is down: preview quality (nearest neighbour)
    preview_moves, preview_turns = [], []
    for s in range(steps):
        point = centre + (s - steps / 2) * 1.0
        moved = [p.moved_to(point) for p in planes]
        preview_moves.append(
            _timed(lambda m=moved: [reslicer.plane(p, quality=Quality.PREVIEW) for p in m])
        )
        turned = [rotated(p, (0.3, 0.5, 0.8), 2.0 * (s + 1)) for p in planes]
        preview_turns.append(
            _timed(lambda t=turned: [reslicer.plane(p, quality=Quality.PREVIEW) for p in t])
        )
    slab = Slab(20.0, SlabMode.MIP, step_mm=1.0)
    coronal = planes[1]
    preview = [_timed(lambda: reslicer.plane(coronal, slab, Quality.PREVIEW)) for _ in range(5)]
    refined = [_timed(lambda: reslicer.plane(coronal, slab)) for _ in range(5)]
    return {
        "mpr_first_three_planes_ms": first,
        "crosshair_move_p50_ms": _p(moves, 50),
        "crosshair_move_p95_ms": _p(moves, 95),
        "rotate_p50_ms": _p(turns, 50),
        "rotate_p95_ms": _p(turns, 95),
        "crosshair_move_preview_p95_ms": _p(preview_moves, 95),
        "rotate_preview_p95_ms": _p(preview_turns, 95),
        "slab20_mip_preview_ms": statistics.median(preview),
        "slab20_mip_refined_ms": statistics.median(refined),
        "plane_pixels": float(coronal.size[0] * coronal.size[1]),
    }


def bench_bare_reslice(volume: MprVolume, steps: int) -> dict[str, float]:
    """vtkImageReslice set up by hand: image data with spacing, standard axes matrices."""
    from vtkmodules.util.numpy_support import numpy_to_vtk
    from vtkmodules.vtkCommonDataModel import vtkImageData
    from vtkmodules.vtkImagingCore import vtkImageReslice

    k, j, i = volume.shape
    sx, sy, sz = volume.spacing_mm
    image = vtkImageData()
    image.SetDimensions(i, j, k)
    image.SetSpacing(sx, sy, sz)
    image.SetOrigin(*volume.affine[:3, 3])
    image.GetPointData().SetScalars(numpy_to_vtk(volume.voxels.reshape(-1), deep=0))
    centre = volume.centre_mm()
    axes = {
        "axial": (1, 0, 0, 0, 1, 0, 0, 0, 1),
        "coronal": (1, 0, 0, 0, 0, 1, 0, -1, 0),
        "sagittal": (0, 0, -1, 1, 0, 0, 0, -1, 0),
    }

    def plane(name: str, c: np.ndarray) -> None:
        r = vtkImageReslice()
        r.SetInputData(image)
        r.SetResliceAxesDirectionCosines(*axes[name])
        r.SetResliceAxesOrigin(*c)
        r.SetOutputDimensionality(2)
        r.SetInterpolationModeToLinear()
        r.SetOutputSpacing(sx, sx, 1.0)
        r.Update()

    first = _timed(lambda: [plane(n, centre) for n in axes])
    moves = [
        _timed(lambda s=s: [plane(n, centre + (s - steps / 2)) for n in axes]) for s in range(steps)
    ]
    return {
        "bare_first_three_planes_ms": first,
        "bare_move_p50_ms": _p(moves, 50),
        "bare_move_p95_ms": _p(moves, 95),
    }


def bench_3d(volume: MprVolume, size: int, frames: int) -> dict[str, float]:
    from vtkmodules.vtkRenderingCore import vtkRenderer, vtkRenderWindow

    from workstation.mpr._vtk.vtk_volume_render import SCREEN_MAX_VOXELS, VtkVolumeScene

    window = vtkRenderWindow()
    window.SetOffScreenRendering(True)
    window.SetSize(size, size)
    renderer = vtkRenderer()
    window.AddRenderer(renderer)
    scene = VtkVolumeScene(volume, renderer, SCREEN_MAX_VOXELS)  # as the 3-D window does
    scene.set_preset(preset("CT-Bone"))
    scene.reset_camera()
    first = _timed(window.Render)
    scene.set_interactive(True)
    camera = renderer.GetActiveCamera()
    rotation = []
    for _ in range(frames):
        camera.Azimuth(5.0)
        rotation.append(_timed(window.Render))
    scene.set_interactive(False)
    still = _timed(window.Render)
    scene.set_preset(preset("CT-Soft-Tissue"))
    preset_change = _timed(window.Render)
    scene.close()
    window.Finalize()
    return {
        "3d_first_image_ms": first,
        "3d_rotation_p50_ms": _p(rotation, 50),
        "3d_rotation_p95_ms": _p(rotation, 95),
        "3d_still_ms": still,
        "3d_preset_change_ms": preset_change,
    }


def bench_bare_3d(volume: MprVolume, size: int, frames: int) -> dict[str, float]:
    """The fixed-point mapper set up by hand with CT-Bone (image data with spacing)."""
    import vtkmodules.vtkRenderingOpenGL2
    import vtkmodules.vtkRenderingVolumeOpenGL2  # noqa: F401
    from vtkmodules.util.numpy_support import numpy_to_vtk
    from vtkmodules.vtkCommonDataModel import vtkImageData, vtkPiecewiseFunction
    from vtkmodules.vtkRenderingCore import (
        vtkColorTransferFunction,
        vtkRenderer,
        vtkRenderWindow,
        vtkVolume,
        vtkVolumeProperty,
    )
    from vtkmodules.vtkRenderingVolume import vtkFixedPointVolumeRayCastMapper

    k, j, i = volume.shape
    image = vtkImageData()
    image.SetDimensions(i, j, k)
    image.SetSpacing(*volume.spacing_mm)
    image.SetOrigin(*volume.affine[:3, 3])
    image.GetPointData().SetScalars(numpy_to_vtk(volume.voxels.reshape(-1), deep=0))
    bone = preset("CT-Bone")
    opacity, colour = vtkPiecewiseFunction(), vtkColorTransferFunction()
    for x, y in bone.scalar_opacity:
        opacity.AddPoint(x, y)
    for x, r, g, b in bone.color:
        colour.AddRGBPoint(x, r, g, b)
    prop = vtkVolumeProperty()
    prop.SetScalarOpacity(opacity)
    prop.SetColor(colour)
    prop.SetShade(True)
    prop.SetInterpolationTypeToLinear()
    mapper = vtkFixedPointVolumeRayCastMapper()
    mapper.SetInputData(image)
    actor = vtkVolume()
    actor.SetMapper(mapper)
    actor.SetProperty(prop)
    window = vtkRenderWindow()
    window.SetOffScreenRendering(True)
    window.SetSize(size, size)
    renderer = vtkRenderer()
    renderer.AddVolume(actor)
    window.AddRenderer(renderer)
    renderer.ResetCamera()
    first = _timed(window.Render)
    mapper.SetAutoAdjustSampleDistances(True)
    window.SetDesiredUpdateRate(10.0)
    rotation = []
    for _ in range(frames):
        renderer.GetActiveCamera().Azimuth(5.0)
        rotation.append(_timed(window.Render))
    window.Finalize()
    return {
        "bare_3d_first_image_ms": first,
        "bare_3d_rotation_p50_ms": _p(rotation, 50),
        "bare_3d_rotation_p95_ms": _p(rotation, 95),
    }


def bench_screen_planes(volume: MprVolume, frames: int) -> dict[str, float]:
    """The MPR window's three planes on screen, beside the bare three-window script."""
    from PySide6.QtWidgets import QApplication

    from workstation.mpr._qt.qt_mpr_view import QtMprView

    app = QApplication.instance() or QApplication([])
    view = QtMprView(volume, "1x3")
    view.resize(1500, 600)
    view.show()
    for _ in range(50):
        app.processEvents()
        time.sleep(0.01)
    state = view.state

    cpu: dict[str, list[float]] = {"drag": [], "rotate": [], "scroll": []}

    def frame(change: Callable[[], object], kind: str = "") -> float:
        start, start_cpu = time.perf_counter(), time.process_time()
        change()
        for plane in view.planes:
            plane._do_render()  # what the coalesced render request runs
        if kind:  # CPU time of every thread of this process (GL's included)
            cpu[kind].append((time.process_time() - start_cpu) * 1000.0)
        return (time.perf_counter() - start) * 1000.0

    axial = state.views[0].plane
    w, h = axial.size
    state.set_quality(Quality.PREVIEW)  # a button is down
    drag = [
        frame(lambda s=s: state.click(0, w / 2 + s, h / 2 + s / 2), "drag") for s in range(frames)
    ]
    turn = [frame(lambda: state.rotate(0, 2.0), "rotate") for _ in range(frames)]
    state.set_quality(Quality.FULL)
    state.reset()
    frame(lambda: None)
    scroll = [frame(lambda: state.scroll(1, 1.0), "scroll") for _ in range(frames)]
    view.close()
    return {
        **{f"screen_{kind}_cpu_p50_ms": _p(times, 50) for kind, times in cpu.items()},
        "screen_drag_p50_ms": _p(drag, 50),
        "screen_drag_p95_ms": _p(drag, 95),
        "screen_scroll_p50_ms": _p(scroll, 50),
        "screen_scroll_p95_ms": _p(scroll, 95),
        "screen_rotate_p50_ms": _p(turn, 50),
        "screen_rotate_p95_ms": _p(turn, 95),
        **_bare_screen_planes(volume, frames),
    }


def bench_screen(volume: MprVolume, frames: int) -> dict[str, float]:
    """The MPR window's planes and 3-D view on screen (see the module docstring)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget

    from workstation.mpr._qt.qt_volume_view import Qt3DView

    planes = bench_screen_planes(volume, frames)
    app = QApplication.instance() or QApplication([])
    beats: list[float] = []  # a 10 ms GUI-thread heartbeat: its longest gap is a stall
    heartbeat = QTimer()
    heartbeat.setInterval(10)
    heartbeat.timeout.connect(lambda: beats.append(time.perf_counter()))
    heartbeat.start()

    def until_refined(start: float) -> tuple[float, float]:
        """Run the event loop until the still picture is shown: (ms, longest stall ms)."""
        while not volume_view.refined:
            app.processEvents()
            time.sleep(0.005)
        end = time.perf_counter()
        gaps = np.diff([start, *[t for t in beats if start <= t <= end], end])
        return (end - start) * 1000.0, float(gaps.max()) * 1000.0

    host = QWidget()  # as in the window: the view's progress bar paints on a plain parent
    layout = QVBoxLayout(host)
    layout.setContentsMargins(0, 0, 0, 0)
    start = time.perf_counter()
    volume_view = Qt3DView(volume)
    layout.addWidget(volume_view)
    host.resize(600, 450)
    host.show()
    while not volume_view.preparation_started:  # the window's first frame (GL set-up) drawn
        app.processEvents()
        time.sleep(0.005)
    gl_ready = time.perf_counter()
    while not volume_view.first_shown:
        app.processEvents()
        time.sleep(0.005)
    first = (time.perf_counter() - start) * 1000.0
    refined, open_stall = until_refined(start)  # coarse first picture, then the worker's
    _after_gl, open_stall_after_gl = until_refined(gl_ready)
    assert volume_view.scene is not None
    camera = volume_view.renderer.GetActiveCamera()
    volume_view._go_live()  # as a button press: the still picture gives way to live frames
    volume_view.scene.set_interactive(True)
    rotation = []
    for _ in range(frames):
        camera.Azimuth(5.0)
        rotation.append(_timed(volume_view.render_now))
    released = time.perf_counter()
    volume_view.scene.set_interactive(False)  # as the release does
    volume_view.refine()
    still, release_stall = until_refined(released)
    worker_still = (
        volume_view.still_worker.last_draw_s * 1000.0 if volume_view.still_worker else 0.0
    )
    changed = time.perf_counter()
    volume_view.set_preset("CT-Soft-Tissue")
    preset_change, preset_stall = until_refined(changed)
    heartbeat.stop()
    pictures = volume_view.still_worker.pictures_drawn if volume_view.still_worker else 0
    shown_input = volume_view.scene.volume
    volume_view.close_vtk()
    host.close()
    return {
        **planes,
        "screen_3d_first_image_ms": first,
        "screen_3d_refined_ms": refined,
        "screen_3d_rotation_p50_ms": _p(rotation, 50),
        "screen_3d_rotation_p95_ms": _p(rotation, 95),
        "screen_3d_still_ms": still,
        "screen_3d_worker_still_draw_ms": worker_still,
        "screen_3d_preset_change_ms": preset_change,
        "screen_3d_open_stall_ms": open_stall,
        "screen_3d_open_stall_after_gl_setup_ms": open_stall_after_gl,
        "screen_3d_release_stall_ms": release_stall,
        "screen_3d_preset_stall_ms": preset_stall,
        "screen_3d_longest_gui_stall_ms": max(
            open_stall, release_stall, preset_stall, max(rotation)
        ),
        "screen_3d_worker_pictures": float(pictures),
        **_bare_screen_3d(shown_input, frames),
    }


def _bare_screen_planes(volume: MprVolume, frames: int) -> dict[str, float]:
    """Three on-screen windows, each vtkImageReslice -> vtkImageMapToWindowLevelColors ->
    vtkImageActor, every plane re-sliced (linear) and drawn a frame."""
    from vtkmodules.util.numpy_support import numpy_to_vtk
    from vtkmodules.vtkCommonDataModel import vtkImageData
    from vtkmodules.vtkImagingColor import vtkImageMapToWindowLevelColors
    from vtkmodules.vtkImagingCore import vtkImageReslice
    from vtkmodules.vtkRenderingCore import vtkImageActor, vtkRenderer, vtkRenderWindow

    k, j, i = volume.shape
    sx, sy, sz = volume.spacing_mm
    image = vtkImageData()
    image.SetDimensions(i, j, k)
    image.SetSpacing(sx, sy, sz)
    image.SetOrigin(*volume.affine[:3, 3])
    image.GetPointData().SetScalars(numpy_to_vtk(volume.voxels.reshape(-1), deep=0))
    axes = [
        (1, 0, 0, 0, 1, 0, 0, 0, 1),
        (1, 0, 0, 0, 0, 1, 0, -1, 0),
        (0, 0, -1, 1, 0, 0, 0, -1, 0),
    ]
    planes = []
    for n, cosines in enumerate(axes):
        reslice = vtkImageReslice()
        reslice.SetInputData(image)
        reslice.SetResliceAxesDirectionCosines(*cosines)
        reslice.SetOutputDimensionality(2)
        reslice.SetInterpolationModeToLinear()
        reslice.SetOutputSpacing(sx, sx, 1.0)
        colours = vtkImageMapToWindowLevelColors()
        colours.SetInputConnection(reslice.GetOutputPort())
        colours.SetWindow(400.0)
        colours.SetLevel(40.0)
        actor = vtkImageActor()
        actor.GetMapper().SetInputConnection(colours.GetOutputPort())
        renderer = vtkRenderer()
        renderer.AddActor(actor)
        window = vtkRenderWindow()
        window.SetSize(496, 560)
        window.SetPosition(500 * n, 0)
        window.AddRenderer(renderer)
        reslice.SetResliceAxesOrigin(*volume.centre_mm())
        window.Render()
        renderer.ResetCamera()
        planes.append((reslice, window))

    def step(s: int) -> None:
        centre = volume.centre_mm() + (s - frames / 2) * 0.5
        for reslice, window in planes:
            reslice.SetResliceAxesOrigin(*centre)
            window.Render()

    times = [_timed(lambda s=s: step(s)) for s in range(frames)]
    for _reslice, window in planes:
        window.Finalize()
    return {"bare_screen_move_p50_ms": _p(times, 50), "bare_screen_move_p95_ms": _p(times, 95)}


def _bare_screen_3d(volume: MprVolume, frames: int) -> dict[str, float]:
    """The fixed-point mapper on `volume` in an on-screen 600x450 window, CT-Bone, shaded,
    AutoAdjustSampleDistances with a desired update rate of 10 while turning; then one
    still frame (one-voxel steps, every pixel), drawn where a plain script draws it."""
    import vtkmodules.vtkRenderingOpenGL2
    import vtkmodules.vtkRenderingVolumeOpenGL2  # noqa: F401
    from vtkmodules.util.numpy_support import numpy_to_vtk
    from vtkmodules.vtkCommonDataModel import vtkImageData, vtkPiecewiseFunction
    from vtkmodules.vtkRenderingCore import (
        vtkColorTransferFunction,
        vtkRenderer,
        vtkRenderWindow,
        vtkVolume,
        vtkVolumeProperty,
    )
    from vtkmodules.vtkRenderingVolume import vtkFixedPointVolumeRayCastMapper

    k, j, i = volume.shape
    image = vtkImageData()
    image.SetDimensions(i, j, k)
    image.SetSpacing(*volume.spacing_mm)
    image.GetPointData().SetScalars(numpy_to_vtk(volume.voxels.reshape(-1), deep=0))
    bone = preset("CT-Bone")
    opacity, colour = vtkPiecewiseFunction(), vtkColorTransferFunction()
    for x, y in bone.scalar_opacity:
        opacity.AddPoint(x, y)
    for x, r, g, b in bone.color:
        colour.AddRGBPoint(x, r, g, b)
    prop = vtkVolumeProperty()
    prop.SetScalarOpacity(opacity)
    prop.SetColor(colour)
    prop.SetShade(True)
    prop.SetInterpolationTypeToLinear()
    mapper = vtkFixedPointVolumeRayCastMapper()
    mapper.SetInputData(image)
    actor = vtkVolume()
    actor.SetMapper(mapper)
    actor.SetProperty(prop)
    window = vtkRenderWindow()
    window.SetSize(600, 450)
    renderer = vtkRenderer()
    renderer.AddVolume(actor)
    window.AddRenderer(renderer)
    renderer.ResetCamera()
    window.Render()
    mapper.SetAutoAdjustSampleDistances(True)
    window.SetDesiredUpdateRate(10.0)
    rotation = []
    for _ in range(frames):
        renderer.GetActiveCamera().Azimuth(5.0)
        rotation.append(_timed(window.Render))
    mapper.SetAutoAdjustSampleDistances(False)
    mapper.SetSampleDistance(1.0)
    mapper.SetImageSampleDistance(1.0)
    still = _timed(window.Render)
    window.Finalize()
    return {
        "bare_screen_3d_rotation_p50_ms": _p(rotation, 50),
        "bare_screen_3d_rotation_p95_ms": _p(rotation, 95),
        "bare_screen_3d_still_ms": still,
    }


def run_planes(quick: bool) -> dict[str, float]:
    """Only the on-screen planes (drag, scroll, rotate) and the bare three windows."""
    volume = synthetic_ct(*((128, 100) if quick else (512, 500)))
    out = bench_screen_planes(volume, 10 if quick else 40)
    out["ratio_screen_drag_p50_vs_bare"] = (
        out["screen_drag_p50_ms"] / out["bare_screen_move_p50_ms"]
    )
    out["load_average_1min"] = float(Path("/proc/loadavg").read_text().split()[0])
    return out


def run(quick: bool, screen: bool = False) -> dict[str, float]:
    n_xy, n_z = (128, 100) if quick else (512, 500)
    steps, frames, size = (10, 4, 256) if quick else (40, 12, 512)
    rss0 = _status_mb("VmRSS")
    volume = synthetic_ct(n_xy, n_z)
    out: dict[str, float] = {
        "volume_mb": volume.voxels.nbytes / 1e6,
        "rss_volume_added_mb": _status_mb("VmRSS") - rss0,
    }
    rss1 = _status_mb("VmRSS")
    out.update(bench_mpr(volume, steps))
    out["rss_mpr_added_mb"] = _status_mb("VmRSS") - rss1
    out.update(bench_bare_reslice(volume, steps))
    rss2 = _status_mb("VmRSS")
    out.update(bench_3d(volume, size, frames))
    out["rss_3d_added_mb"] = _status_mb("VmRSS") - rss2
    out.update(bench_bare_3d(volume, size, frames))
    if screen:
        out.update(bench_screen(volume, 10 if quick else 40))
        out["ratio_screen_drag_p50_vs_bare"] = (
            out["screen_drag_p50_ms"] / out["bare_screen_move_p50_ms"]
        )
        out["ratio_screen_3d_rotation_p50_vs_bare"] = (
            out["screen_3d_rotation_p50_ms"] / out["bare_screen_3d_rotation_p50_ms"]
        )
        out["ratio_screen_3d_still_vs_bare"] = (
            out["screen_3d_still_ms"] / out["bare_screen_3d_still_ms"]
        )
    out["peak_rss_mb"] = _status_mb("VmHWM")
    out["ratio_mpr_move_p50_vs_bare"] = out["crosshair_move_p50_ms"] / out["bare_move_p50_ms"]
    out["ratio_3d_first_vs_bare"] = out["3d_first_image_ms"] / out["bare_3d_first_image_ms"]
    out["ratio_3d_rotation_p50_vs_bare"] = (
        out["3d_rotation_p50_ms"] / out["bare_3d_rotation_p50_ms"]
    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="128x128x100, seconds")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--screen", action="store_true", help="also the MPR window on screen (needs a display)"
    )
    parser.add_argument(
        "--planes", action="store_true", help="only the on-screen planes (needs a display)"
    )
    args = parser.parse_args(argv)
    figures = run_planes(args.quick) if args.planes else run(args.quick, args.screen)
    if args.json:
        print(json.dumps(figures, indent=1, sort_keys=True))
    else:
        for key, value in figures.items():
            print(f"{key:32s} {value:10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
