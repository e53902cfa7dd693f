"""The 3-D view: the volume ray-cast on the CPU; drag to turn it.

While a button is down the mapper lowers its sampling to keep about ten frames a
second (``AutoAdjustSampleDistances``). The one-time preparation (decimation, mapper
input, gradients) runs on a worker thread with a progress bar; the GUI thread only
attaches the ready scene and draws it. The first picture, and the picture after a
release, a preset, blend or crop change, comes at dragging quality and is then refined
in steps driven by a timer (``REFINEMENT_STEPS``), one coarse frame each; the mouse can
interrupt the refinement. The full-quality still picture is never drawn on the GUI
thread: the view hands a snapshot (generation, size, preset, crop, camera) to its
:class:`~workstation.mpr._vtk.vtk_still_render_worker.StillRenderWorker`, which draws
it offscreen, and shows the finished picture in place of the live scene
(:class:`~workstation.mpr._vtk.vtk_still_layer.StillLayer`) only if nothing changed
meanwhile (the generation still matches); any change goes back to live frames. An
iso-surface has no rays to refine: it is drawn once, on screen.
Shift+click twice measures a two-point distance on what is drawn; the line and its
length sit on an overlay layer, over the live or the still picture alike.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QProgressBar

from workstation.i18n import _
from workstation.mpr._vtk.vtk_distance_3d import DistanceLine, pick_point
from workstation.mpr._vtk.vtk_still_layer import StillLayer, marks_overlay_in
from workstation.mpr._vtk.vtk_still_render_worker import StillRenderWorker, StillRequest
from workstation.mpr._vtk.vtk_volume_render import (
    REFINEMENT_STEPS,
    SCREEN_MAX_VOXELS,
    SceneLook,
    VtkVolumeScene,
    camera_pose,
    remember_window_class,
    renderer_in,
)
from workstation.mpr.presets import preset
from workstation.mpr.thread_priority import lower_this_thread
from workstation.mpr.volume import MprVolume
from workstation.viewer._vtk.qvtk import ViewerRenderWidget

logger = logging.getLogger(__name__)

#: Share of the bar for decimating the volume and building the mapper input.
_INPUT_SHARE = 0.1
#: Pause between two refinement frames (the event loop runs input and other views).
REFINE_INTERVAL_MS = 20


class _Relay(QObject):
    """Carries the worker's progress and result to the GUI thread."""

    sig_progress = Signal(float)
    sig_ready = Signal(object)
    sig_surface = Signal(object, object)  # ((iso value, crop), vtkPolyData or exception)
    sig_still = Signal(int, object)  # (generation, RGB picture) from the still worker


class Qt3DView(ViewerRenderWidget):
    """A :class:`VtkVolumeScene` in a window, prepared on a worker thread."""

    #: Emitted when the worker has prepared the scene (before the first picture).
    sig_prepared = Signal()
    #: Emitted after the first picture is on screen.
    sig_first_image_shown = Signal()
    #: Emitted when the picture is at still quality (the worker's still picture shown).
    sig_refined = Signal()
    #: Emitted when an iso-surface is on screen (its triangle count).
    sig_surface_shown = Signal(int)
    #: Emitted when a two-point distance is measured (millimetres).
    sig_distance_measured = Signal(float)

    def __init__(self, volume: MprVolume, preset_name: str = "CT-Bone", parent=None) -> None:
        super().__init__(parent)
        self.renderer = renderer_in(self.GetRenderWindow())
        remember_window_class(self.GetRenderWindow())  # workers' windows: no factory probe
        self.still_layer = StillLayer(self.GetRenderWindow(), self.renderer)
        self.marks = marks_overlay_in(self.GetRenderWindow(), self.renderer)
        self.scene: VtkVolumeScene | None = None
        self.still_worker: StillRenderWorker | None = None
        #: Counts the changes of what is drawn; a still picture of an older one is stale.
        self.generation = 0
        self.preset_name = preset_name
        self.shift = 0.0
        self.blend = "composite"
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 100)
        self.progress.setFormat(_("Preparing 3-D… %p%"))
        self.progress_seen: list[int] = []
        self.first_shown = False
        self._last = (0.0, 0.0)
        self._dragging = False
        self.refined = False
        self._refine_left: list[tuple[float, float]] = []
        self._refine_timer = QTimer(self)
        self._refine_timer.setSingleShot(True)
        self._refine_timer.setInterval(REFINE_INTERVAL_MS)
        self._refine_timer.timeout.connect(self._refine_step)
        self._relay = _Relay()
        self._relay.sig_progress.connect(
            self._on_preparation_progress, Qt.ConnectionType.QueuedConnection
        )
        self._relay.sig_ready.connect(self._on_prepared, Qt.ConnectionType.QueuedConnection)
        self._relay.sig_surface.connect(self._on_surface, Qt.ConnectionType.QueuedConnection)
        self._relay.sig_still.connect(self._on_still, Qt.ConnectionType.QueuedConnection)
        self.iso_value: float | None = None
        self.crop: tuple[float, ...] | None = None
        #: (iso value, crop box) of the surface being built; older results are dropped.
        self._surface_asked: object = None
        self.distance_points: list[np.ndarray] = []
        self._distance_line: DistanceLine | None = None
        self.progress.show()
        #: Prepared once the view is first shown (:meth:`_start_preparation`).
        self._to_prepare: tuple[MprVolume, str] | None = (volume, preset_name)

    def _prepare(self, volume: MprVolume, preset_name: str) -> None:
        """Worker thread: decimate, build the mapper input, compute the gradients. The
        scene is in no renderer yet, so no render window is touched here."""
        lower_this_thread()
        try:
            scene = VtkVolumeScene(volume, None, SCREEN_MAX_VOXELS)
            self._relay.sig_progress.emit(_INPUT_SHARE)
            scene.set_preset(preset(preset_name))
            scene.on_preparation_progress(
                lambda f: self._relay.sig_progress.emit(_INPUT_SHARE + (1 - _INPUT_SHARE) * f)
            )
            scene.prepare()
            self._relay.sig_ready.emit(scene)
        except Exception as exc:  # shown to the user, never lost in the thread
            logger.exception("preparing the 3-D view failed")
            self._relay.sig_ready.emit(exc)

    def _on_preparation_progress(self, fraction: float) -> None:
        value = round(100 * fraction)
        self.progress_seen.append(value)
        self.progress.setValue(value)

    def resizeEvent(self, ev) -> None:
        super().resizeEvent(ev)
        w = min(320, self.width() - 20)
        self.progress.setGeometry((self.width() - w) // 2, self.height() - 40, w, 24)
        if self.scene is not None and not self.closed and ev.size() != ev.oldSize():
            self._go_live()  # the still picture has the old size: refine anew, on the timer
            self.refined = False
            self._refine_left = list(REFINEMENT_STEPS)
            self._refine_timer.start()

    def showEvent(self, ev) -> None:
        super().showEvent(ev)
        if self._to_prepare is not None:
            # after a turn of the event loop: showing and the first frame are two stalls
            QTimer.singleShot(REFINE_INTERVAL_MS, self._start_preparation)

    @property
    def preparation_started(self) -> bool:
        """The window's first frame is drawn and the preparation worker runs (or ran)."""
        return self._to_prepare is None

    def _start_preparation(self) -> None:
        """Once shown: draw the empty window (its first frame sets up the GL context,
        70-120 ms on software GL, better paid alone than on top of the first volume
        frame or while the preparation loads both cores), then prepare on a worker."""
        if self.closed or self._to_prepare is None:
            return
        volume, preset_name = self._to_prepare
        self._to_prepare = None
        self.render_now()
        threading.Thread(
            target=self._prepare, args=(volume, preset_name), name="mpr-3d-prepare", daemon=True
        ).start()

    def _on_prepared(self, result: object) -> None:
        if self.closed:
            return
        if not isinstance(result, VtkVolumeScene):
            self.progress.setFormat(_("3-D could not be prepared."))
            return
        self.scene = result
        self.still_worker = StillRenderWorker(
            result.volume, result.image, self._relay.sig_still.emit
        )
        result.attach(self.renderer)
        result.reset_camera()
        result.set_preset(preset(self.preset_name), shift=self.shift, blend=self.blend)
        result.set_crop(self.crop)
        self.sig_prepared.emit()
        self.progress.hide()
        self.refine()  # the coarse first frame now, the finer ones on the timer
        self.first_shown = True
        logger.info("3-D view: first picture on screen")
        self.sig_first_image_shown.emit()
        if self.iso_value is not None:
            self.set_iso(self.iso_value)

    def set_preset(self, name: str, shift: float | None = None) -> None:
        self.preset_name = name
        if shift is not None:
            self.shift = shift
        if self.scene is not None:  # else applied when the preparation ends
            self.scene.set_preset(preset(name), shift=self.shift, blend=self.blend)
            self.refine()

    def look(self) -> SceneLook:
        """What the volume shows now, the camera aside (a value for the worker)."""
        return SceneLook(preset(self.preset_name), self.shift, self.blend, self.crop)

    def refine(self) -> None:
        """Draw the scene at the coarsest refinement step now, the finer ones on the
        timer, then ask the worker for the still picture (restarts a refinement)."""
        if self.scene is None or self.closed:
            return
        self._go_live()
        self.refined = False
        if self.scene.surface_actor is not None:  # polygons: no coarser frame to refine
            self._refine_left = []
            self.render_now()
            self._now_refined()
            return
        self._refine_left = list(REFINEMENT_STEPS)
        self._refine_step()

    def _go_live(self) -> None:
        """Something changed: a still picture asked for or shown is stale."""
        self.generation += 1
        self._refine_timer.stop()
        if self.still_worker is not None:
            self.still_worker.cancel()
        self.still_layer.hide()

    def _refine_step(self) -> None:
        if self.scene is None or self.closed or self._dragging or not self._refine_left:
            return
        self.scene.set_fixed_quality(*self._refine_left.pop(0))
        self.render_now()
        if self._refine_left:
            self._refine_timer.start()
        elif self.scene.surface_actor is not None:  # the surface as drawn is final
            self._now_refined()
        elif self.still_worker is not None:
            w, h = self.GetRenderWindow().GetSize()
            pose = camera_pose(self.renderer.GetActiveCamera())
            self.still_worker.request(StillRequest(self.generation, (w, h), self.look(), pose))

    def _on_still(self, generation: int, rgb: object) -> None:
        """GUI thread: the worker's picture; shown if nothing changed since it was asked."""
        if self.closed or self.scene is None or self._dragging or generation != self.generation:
            return
        w, h = self.GetRenderWindow().GetSize()
        if rgb.shape[:2] != (h, w):  # type: ignore[attr-defined]
            return  # resized meanwhile (the resize asks anew)
        self.still_layer.show(rgb)  # type: ignore[arg-type]
        self.render_now()
        self._now_refined()

    def _now_refined(self) -> None:
        self.refined = True
        self.sig_refined.emit()

    def finish_refinement(self) -> None:
        """Have the still picture on screen now: if the worker's is not shown yet, one
        full-quality frame drawn here (for a snapshot that cannot wait)."""
        if self.scene is None or self.closed or self.refined:
            return
        self._go_live()
        self.scene.set_fixed_quality(*self.scene.still_quality())
        self.render_now()
        self._now_refined()

    def set_iso(self, value: float | None) -> None:
        """Show the iso-surface at `value` (modality units), built on a worker thread
        (flying edges, decimated to the triangle budget); None shows the volume."""
        self.iso_value = value
        if self.scene is None:
            return  # built when the preparation ends
        if value is None:
            self.scene.set_iso_surface(None)
            self.refine()
            return
        self.progress.setRange(0, 0)
        self.progress.setFormat(_("Building the surface…"))
        self.progress.show()
        volume = self.scene.volume
        self._surface_asked = (value, self.crop)
        threading.Thread(
            target=self._build_surface, args=(volume, value, self.crop), name="mpr-iso",
            daemon=True,
        ).start()  # fmt: skip

    def _build_surface(
        self, volume: MprVolume, value: float, crop: tuple[float, ...] | None
    ) -> None:
        from workstation.mpr._vtk.vtk_iso_surface import iso_surface

        lower_this_thread()
        try:
            self._relay.sig_surface.emit((value, crop), iso_surface(volume, value, crop=crop))
        except Exception as exc:  # shown to the user, never lost in the thread
            logger.exception("building the iso-surface failed")
            self._relay.sig_surface.emit((value, crop), exc)

    def _on_surface(self, asked: object, surface: object) -> None:
        if self.closed or self.scene is None or asked != self._surface_asked:
            return  # closed, or another value or crop box was asked for meanwhile
        self.progress.setRange(0, 100)
        if isinstance(surface, Exception):
            self.progress.setFormat(_("The surface could not be built."))
            return
        self.progress.hide()
        self.scene.set_iso_surface(surface)  # type: ignore[arg-type]
        self.refine()
        self.sig_surface_shown.emit(surface.GetNumberOfPolys())  # type: ignore[attr-defined]

    def set_crop(self, fractions: Sequence[float] | None) -> None:
        """Keep the box (x0, x1, y0, y1, z0, z1) in fractions 0-1 of the volume's
        columns, rows and slices; None shows all."""
        crop = None if fractions is None else tuple(float(f) for f in fractions)
        changed = crop != self.crop
        self.crop = crop
        if self.scene is not None:  # else applied when the preparation ends
            self.scene.set_crop(self.crop)
            self.refine()
            if changed and self.iso_value is not None:
                self.set_iso(self.iso_value)  # the surface is clipped by the box too

    def set_blend(self, blend: str) -> None:
        self.blend = blend
        self.set_preset(self.preset_name)

    def pick_distance_point(self, x: float, y: float) -> np.ndarray | None:
        """Shift+click: a point of the two-point distance at widget pixel (x, y); the
        third click starts a new measurement. The LPS point, or None if nothing is there."""
        if self.scene is None:
            return None
        scale = self.devicePixelRatioF()  # the pick walks the scene's rays: no frame drawn
        point = pick_point(self.renderer, x * scale, (self.height() - y) * scale)
        if point is None:
            return None
        if len(self.distance_points) == 2:
            self.distance_points.clear()
            if self._distance_line is not None:
                self._distance_line.hide()
        self.distance_points.append(point)
        if len(self.distance_points) == 2:
            a, b = self.distance_points
            length = float(np.linalg.norm(b - a))
            if self._distance_line is None:
                self._distance_line = DistanceLine(self.marks)
            self._distance_line.show(a, b, _("{distance} mm").format(distance=f"{length:.1f}"))
            self.sig_distance_measured.emit(length)
        self.request_render()
        return point

    def mousePressEvent(self, ev) -> None:
        if self.scene is None:
            ev.ignore()
            return
        if ev.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.pick_distance_point(ev.position().x(), ev.position().y())
            ev.accept()
            return
        self._dragging = True
        self._go_live()
        self.refined = False
        self._last = (ev.position().x(), ev.position().y())
        self.scene.set_interactive(True)
        ev.accept()

    def mouseMoveEvent(self, ev) -> None:
        if not self._dragging:
            ev.ignore()
            return
        x, y = ev.position().x(), ev.position().y()
        camera = self.renderer.GetActiveCamera()
        camera.Azimuth(-0.5 * (x - self._last[0]))
        camera.Elevation(0.5 * (y - self._last[1]))
        camera.OrthogonalizeViewUp()
        self.renderer.ResetCameraClippingRange()
        self._last = (x, y)
        self.request_render()
        ev.accept()

    def mouseReleaseEvent(self, ev) -> None:
        if not self._dragging or self.scene is None:
            ev.ignore()
            return
        self._dragging = False
        self.scene.set_interactive(False)
        self.refine()
        ev.accept()

    def close_vtk(self) -> None:
        """Stop the timer, end the still worker (aborts a picture being drawn, finalizes
        its window, joins the thread), then release the window."""
        self._refine_timer.stop()
        if self.still_worker is not None:
            self.still_worker.close()
        if not self.closed and self._distance_line is not None:
            self._distance_line.remove()
        if not self.closed and self.scene is not None:
            self.scene.close()
        super().close_vtk()
