"""The 3-D view: the volume ray-cast on the CPU; drag to turn it.

While a button is down the mapper lowers its sampling to keep about ten frames a
second (``AutoAdjustSampleDistances``); on release one full-quality frame is drawn.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QProgressBar

from workstation.i18n import _
from workstation.mpr._vtk.vtk_volume_render import scene_in
from workstation.mpr.presets import preset
from workstation.mpr.volume import MprVolume
from workstation.viewer._vtk.qvtk import ViewerRenderWidget


class Qt3DView(ViewerRenderWidget):
    """A :class:`VtkVolumeScene` in a window."""

    #: Emitted after the first picture (the one-time preparation) is on screen.
    sig_first_image_shown = Signal()

    def __init__(self, volume: MprVolume, preset_name: str = "CT-Bone", parent=None) -> None:
        super().__init__(parent)
        self.scene = scene_in(self.GetRenderWindow(), volume)
        self.renderer = self.scene.renderer
        self.preset_name = preset_name
        self.shift = 0.0
        self.blend = "composite"
        self.scene.set_preset(preset(preset_name))
        self.scene.reset_camera()
        self.scene.set_status(_("Preparing 3-D…"))
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 100)
        self.progress.setFormat(_("Preparing 3-D… %p%"))
        self.progress_seen: list[int] = []
        self.scene.on_preparation_progress(self._on_preparation_progress)
        self.first_shown = False
        self._last = (0.0, 0.0)
        self._dragging = False
        # the one-time preparation (gradients) runs after the window has shown its text
        QTimer.singleShot(50, self._first_render)

    def _on_preparation_progress(self, fraction: float) -> None:
        """Runs inside the first render (GUI thread): paint the bar now."""
        value = round(100 * fraction)
        self.progress_seen.append(value)
        self.progress.setValue(value)
        self.progress.repaint()

    def resizeEvent(self, ev) -> None:
        super().resizeEvent(ev)
        w = min(320, self.width() - 20)
        self.progress.setGeometry((self.width() - w) // 2, self.height() - 40, w, 24)

    def _first_render(self) -> None:
        if self.closed:
            return
        self.progress.show()
        self.progress.repaint()
        self.render_now()  # the gradients are prepared here, the bar follows
        self.scene.set_status("")
        self.progress.hide()
        self.render_now()
        self.first_shown = True
        self.sig_first_image_shown.emit()

    def set_preset(self, name: str, shift: float | None = None) -> None:
        self.preset_name = name
        if shift is not None:
            self.shift = shift
        self.scene.set_preset(preset(name), shift=self.shift, blend=self.blend)
        self.request_render()

    def set_blend(self, blend: str) -> None:
        self.blend = blend
        self.set_preset(self.preset_name)

    def mousePressEvent(self, ev) -> None:
        self._dragging = True
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
        self._dragging = False
        self.scene.set_interactive(False)
        self.request_render()
        ev.accept()

    def close_vtk(self) -> None:
        if not self.closed:
            self.scene.close()
        super().close_vtk()
