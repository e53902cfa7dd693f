"""One linked MPR plane in a window: picture, crosshair, handles, labels; mouse to read.

Left button: put the crosshair there (the other planes follow); drag to move it. On
each other plane's line (in its colour) a square at both ends is a rotate handle
(drag: the other planes turn about this plane's normal; Ctrl + left drag anywhere does
the same) and a square set off to the side is the slab handle (drag it away from the
line: that plane becomes a slab of twice the distance, 0-50 mm, whose faces are drawn
dashed beside the line). Wheel: scroll this plane along its normal. Right drag: window
(horizontal) and level (vertical). While a button is down the planes are sampled at
preview quality (every second pixel, shown magnified); on release, full. Only pictures
that changed are sampled again; the crosshair, handles and measurements are a line
overlay laid out again on every change, and a plane whose picture, lines and labels
all stayed the same is not drawn again (a window change elsewhere costs it nothing).

Each plane is its own render window. One window with three viewports was measured
(llvmpipe under Xvfb, the machine these budgets are for) and is no faster: the cost of
a frame is per pixel (clear, draw, blit, swap), not per window.

The measuring tools are an event filter on this widget
(:mod:`workstation.mpr._qt.qt_plane_tools`): while one is chosen it takes the left
button and Delete/Escape, and draws its glyphs over the picture.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from workstation.i18n import _
from workstation.mpr import crosshair_handles as handles
from workstation.mpr._vtk.vtk_plane_picture import PLANE_COLOURS, Stroke, VtkPlanePicture
from workstation.mpr.reslice import Quality
from workstation.mpr.viewing import MprViewState
from workstation.viewer._vtk.qvtk import ViewerRenderWidget

_NAMES = {"axial": _("Axial"), "coronal": _("Coronal"), "sagittal": _("Sagittal")}
#: Half the side of a handle's square, and how near the mouse must come, in screen px.
HANDLE_HALF_PX = 5.0
HANDLE_GRAB_PX = 9.0
#: Dashes (and gaps) of a slab's faces, in screen pixels.
DASH_PX = 6.0


class QtMprPlane(ViewerRenderWidget):
    """View of plane `index` of `state`."""

    def __init__(self, state: MprViewState, index: int, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.index = index
        self.picture = VtkPlanePicture(self.GetRenderWindow())
        self._picture_dirty = True
        self._overlay_dirty = True
        self._must_draw = True
        #: (button, x, y, mode, handle) of the crosshair drag in progress.
        self._drag: tuple[Qt.MouseButton, float, float, str, handles.Handle | None] | None = None
        self._rotate_from = np.zeros(2)
        self._window_start = (0.0, 0.0)
        state.subscribe(self._on_state_changed)

    # -- the model -------------------------------------------------------------------
    def request_render(self) -> None:
        """Draw on the next turn (every request but the state's own is drawn)."""
        self._must_draw = True
        super().request_render()

    def _on_state_changed(self, indices: tuple[int, ...]) -> None:
        if self.index in indices:
            self._picture_dirty = True
        self._overlay_dirty = True  # crosshair lines move even when only another plane did
        super().request_render()  # drawn only if this plane's look changed

    def prepare_render(self) -> None:
        changed = self._must_draw
        self._must_draw = False
        if self._picture_dirty:
            self._picture_dirty = False
            picture, step = self.state.sampled_u8(self.index)
            self.picture.set_picture(picture, step, self.state.views[self.index].plane.size)
            self._overlay_dirty = changed = True
        if self._overlay_dirty:
            self._overlay_dirty = False
            changed |= self.picture.set_overlay(self.strokes())
            changed |= self.picture.set_labels(
                self.state.labels(self.index), self._info(), self._scale()
            )
        if not changed:  # e.g. another plane's window changed: nothing here to draw
            self._render_pending = False

    def strokes(self) -> list[Stroke]:
        """The other planes' lines, their slab faces and the handles, in their colours."""
        out: list[Stroke] = []
        per_screen_px = 1.0 / max(self.picture.pixel_size_on_screen(), 1e-6)
        shown = handles.overlay(self.state, self.index)
        for other, line in shown.lines.items():
            colour = PLANE_COLOURS[other % 3]
            out.append((np.array(line), colour))
            for face in shown.slab_faces[other]:
                out.extend((seg, colour) for seg in _dashes(*face, DASH_PX * per_screen_px))
        half = HANDLE_HALF_PX * per_screen_px
        for handle in shown.handles:
            x, y = handle.pixel
            square = np.array([(x - half, y - half), (x + half, y - half), (x + half, y + half),
                               (x - half, y + half), (x - half, y - half)])  # fmt: skip
            out.append((square, PLANE_COLOURS[handle.other % 3]))
        return out

    def _info(self) -> str:
        view = self.state.views[self.index]
        name = _NAMES.get(view.plane.kind.value, _("Oblique"))
        if view.slab is not None and view.slab.samples > 1:
            name += f"  {view.slab.mode.value.upper()} {view.slab.thickness_mm:.3g} mm"
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
        self._overlay_dirty = True
        self.request_render()

    # -- input ------------------------------------------------------------------------
    def plane_pixel_at(self, x: float, y: float) -> np.ndarray:
        """The plane pixel (column, row) under widget point (x, y)."""
        ratio = self.devicePixelRatioF()
        return self.picture.display_to_pixel(x * ratio, (self.height() - 1 - y) * ratio)

    def _plane_pixel(self, ev) -> np.ndarray:
        pos = ev.position()
        return self.plane_pixel_at(pos.x(), pos.y())

    def handle_at(self, x: float, y: float) -> handles.Handle | None:
        """The crosshair handle under widget point (x, y), if any."""
        if not self.picture.shown:
            return None
        tolerance = HANDLE_GRAB_PX / max(self.picture.pixel_size_on_screen(), 1e-6)
        return handles.hit(self.state, self.index, self.plane_pixel_at(x, y), tolerance)

    def widget_point_of(self, pixel: tuple[float, float]) -> tuple[float, float]:
        """Widget point (x, y) of plane pixel (column, row) (for tests and tools)."""
        ratio = self.devicePixelRatioF()
        x, y = self.picture.pixel_to_display(np.asarray(pixel, dtype=float))
        return x / ratio, self.height() - 1 - y / ratio

    def mousePressEvent(self, ev) -> None:
        pos = ev.position()
        button = ev.button()
        self.setFocus()
        if not self.picture.shown:  # nothing on screen to point at yet
            ev.ignore()
            return
        handle = self.handle_at(pos.x(), pos.y()) if button == Qt.MouseButton.LeftButton else None
        mode = ""
        if handle is not None:
            mode = handle.kind.value
        elif button == Qt.MouseButton.LeftButton:
            ctrl = ev.modifiers() & Qt.KeyboardModifier.ControlModifier
            mode = "turn" if ctrl else "move"
        self._drag = (button, pos.x(), pos.y(), mode, handle)
        self.state.set_quality(Quality.PREVIEW)
        if mode == "move":
            self.state.click(self.index, *self._plane_pixel(ev))
        elif mode == "rotate":
            self._rotate_from = self._plane_pixel(ev)
        elif button == Qt.MouseButton.RightButton:
            w = self.state.views[self.index].window
            self._window_start = (w.center, w.width)
        ev.accept()

    def mouseMoveEvent(self, ev) -> None:
        if self._drag is None:
            ev.ignore()
            return
        button, x0, y0, mode, handle = self._drag
        pos = ev.position()
        pixel = self._plane_pixel(ev)
        if mode == "turn":
            self.state.rotate(self.index, 0.5 * (pos.x() - x0))
            self._drag = (button, pos.x(), pos.y(), mode, handle)
        elif mode == "rotate":
            angle = handles.rotation_deg(self.state, self.index, self._rotate_from, pixel)
            if abs(angle) > 1e-3:
                self.state.rotate(self.index, angle)
                self._rotate_from = pixel
        elif mode == "slab" and handle is not None:
            handles.drag_slab(self.state, self.index, handle.other, pixel)
        elif mode == "move":
            self.state.click(self.index, *pixel)
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


def _dashes(a: np.ndarray, b: np.ndarray, dash_px: float) -> list[np.ndarray]:
    """Segment a-b as dashes `dash_px` plane pixels long with equal gaps (at most 400)."""
    length = float(np.linalg.norm(b - a))
    dash_px = max(dash_px, length / 800.0)
    n = max(1, int(length // (2 * dash_px)))
    t = np.arange(n) * 2 * dash_px / max(length, 1e-9)
    step = dash_px / max(length, 1e-9)
    return [np.array([a + s * (b - a), a + min(s + step, 1.0) * (b - a)]) for s in t]
