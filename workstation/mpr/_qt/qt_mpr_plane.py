"""One linked MPR plane in a window: picture, crosshair, labels; mouse to read.

Left button: put the crosshair there (the other planes follow); drag to move it.
Ctrl + left drag: rotate the other planes about this plane's normal. Wheel: scroll
this plane along its normal. Right drag: window (horizontal) and level (vertical).
While a button is down the planes are sampled at preview quality; on release, full.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from workstation.i18n import _
from workstation.mpr._vtk.vtk_plane_picture import PLANE_COLOURS, VtkPlanePicture, draw_line
from workstation.mpr.reslice import Quality
from workstation.mpr.viewing import MprViewState
from workstation.viewer._vtk.qvtk import ViewerRenderWidget

_NAMES = {"axial": _("Axial"), "coronal": _("Coronal"), "sagittal": _("Sagittal")}


class QtMprPlane(ViewerRenderWidget):
    """View of plane `index` of `state`."""

    def __init__(self, state: MprViewState, index: int, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.index = index
        self.picture = VtkPlanePicture(self.GetRenderWindow())
        self._dirty = True
        self._drag: tuple[Qt.MouseButton, float, float, bool] | None = None
        self._window_start = (0.0, 0.0)
        state.subscribe(self._on_state_changed)

    # -- the model -------------------------------------------------------------------
    def _on_state_changed(self, indices: tuple[int, ...]) -> None:
        self._dirty = True  # crosshair lines move even when only another plane changed
        self.request_render()

    def prepare_render(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        grey = self.state.display_u8(self.index)
        rgb = np.repeat(grey[:, :, None], 3, axis=2)
        for other in range(len(self.state.views)):
            line = None if other == self.index else self.state.line_in(self.index, other)
            if line is not None:
                draw_line(rgb, line[0], line[1], PLANE_COLOURS[other % 3])
        self.picture.set_picture(rgb)
        self.picture.set_labels(self.state.labels(self.index), self._info(), self._scale())

    def _info(self) -> str:
        view = self.state.views[self.index]
        name = _NAMES.get(view.plane.kind.value, _("Oblique"))
        if view.slab is not None and view.slab.samples > 1:
            name += f"  {view.slab.mode.value.upper()} {view.slab.thickness_mm:g} mm"
        w = view.window
        return f"{name}\nW {w.width:g}  L {w.center:g}"

    def _scale(self) -> str:
        mm_per_screen_px = self.state.views[self.index].plane.spacing_mm / max(
            self.picture.pixel_size_on_screen(), 1e-6
        )
        return _("{mm:.1f} mm / 100 px").format(mm=100 * mm_per_screen_px)

    def resizeEvent(self, ev) -> None:
        super().resizeEvent(ev)
        self.picture.fit()
        self._dirty = True
        self.request_render()

    # -- input ------------------------------------------------------------------------
    def _plane_pixel(self, ev) -> np.ndarray:
        ratio = self.devicePixelRatioF()
        pos = ev.position()
        return self.picture.display_to_pixel(pos.x() * ratio, (self.height() - 1 - pos.y()) * ratio)

    def mousePressEvent(self, ev) -> None:
        pos = ev.position()
        rotate = bool(ev.modifiers() & Qt.KeyboardModifier.ControlModifier)
        self._drag = (ev.button(), pos.x(), pos.y(), rotate)
        self.state.set_quality(Quality.PREVIEW)
        if ev.button() == Qt.MouseButton.LeftButton and not rotate:
            self.state.click(self.index, *self._plane_pixel(ev))
        elif ev.button() == Qt.MouseButton.RightButton:
            w = self.state.views[self.index].window
            self._window_start = (w.center, w.width)
        ev.accept()

    def mouseMoveEvent(self, ev) -> None:
        if self._drag is None:
            ev.ignore()
            return
        button, x0, y0, rotate = self._drag
        pos = ev.position()
        if button == Qt.MouseButton.LeftButton and rotate:
            self.state.rotate(self.index, 0.5 * (pos.x() - x0))
            self._drag = (button, pos.x(), pos.y(), rotate)
        elif button == Qt.MouseButton.LeftButton:
            self.state.click(self.index, *self._plane_pixel(ev))
        elif button == Qt.MouseButton.RightButton:
            centre, width = self._window_start
            self.state.set_window(
                self.index, centre + 2.0 * (pos.y() - y0), width + 4.0 * (pos.x() - x0)
            )
        ev.accept()

    def mouseReleaseEvent(self, ev) -> None:
        self._drag = None
        self.state.set_quality(Quality.FULL)
        ev.accept()

    def wheelEvent(self, ev) -> None:
        steps = ev.angleDelta().y() / 120.0
        if steps:
            self.state.scroll(self.index, steps)
        ev.accept()
