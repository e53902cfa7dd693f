"""One linked MPR plane in a window: picture, crosshair, handles, labels; mouse to read.

Left button: put the crosshair there (the other planes follow); drag to move it. On
each other plane's line (in its colour) a square at both ends is a rotate handle
(drag: the other planes turn about this plane's normal; Ctrl + left drag anywhere does
the same) and a square set off to the side is the slab handle (drag it away from the
line: that plane becomes a slab of twice the distance, 0-50 mm, whose faces are drawn
dashed beside the line). Wheel: scroll this plane along its normal. Right drag: window
(horizontal) and level (vertical). While a button is down the planes are sampled at
preview quality; on release, full. Only pictures that changed are sampled again; the
crosshair, handles and measurements are a line overlay redrawn on every change.

With a measuring tool chosen (``tool``), the left button and Delete/Escape go to the
same Qt-free tool session as a 2-D viewport's (:mod:`workstation.viewer.interaction`),
on this plane's own geometry and values; the right-button window drag always does.
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
from workstation.viewer.interaction.events import (
    Button,
    KeyEvent,
    PointerAction,
    PointerEvent,
    ToolKey,
)
from workstation.viewer.interaction.plane_host import PlaneAnnotations, PlaneToolHost
from workstation.viewer.interaction.session import ToolSession
from workstation.viewer.interaction.tools import Tool

_NAMES = {"axial": _("Axial"), "coronal": _("Coronal"), "sagittal": _("Sagittal")}
_NOTE_RGB, _SELECTED_RGB = (255, 190, 40), (80, 220, 255)
_KEYS = {Qt.Key.Key_Delete: ToolKey.DELETE, Qt.Key.Key_Escape: ToolKey.ESCAPE}
#: Half the side of a handle's square, and how near the mouse must come, in screen px.
HANDLE_HALF_PX = 5.0
HANDLE_GRAB_PX = 9.0
#: Dashes (and gaps) of a slab's faces, in screen pixels.
DASH_PX = 6.0


class _PlaneWindow:
    """The tool session's view controls on one plane: the window drag (no pan or zoom)."""

    def __init__(self, state: MprViewState, index: int) -> None:
        self.state, self.index = state, index

    def drag_window(self, dx: float, dy: float) -> None:
        w = self.state.views[self.index].window
        self.state.set_window(self.index, w.center + 2.0 * dy, w.width + 4.0 * dx)

    def pan(self, dx: float, dy: float) -> None:
        pass

    def zoom(self, factor: float, anchor: tuple[float, float], view_size: tuple[int, int]) -> None:
        pass


class QtMprPlane(ViewerRenderWidget):
    """View of plane `index` of `state`."""

    def __init__(
        self,
        state: MprViewState,
        index: int,
        parent=None,
        notes: PlaneAnnotations | None = None,
    ) -> None:
        super().__init__(parent)
        self.state = state
        self.index = index
        self.picture = VtkPlanePicture(self.GetRenderWindow())
        self._picture_dirty = True
        self._overlay_dirty = True
        #: (button, x, y, mode, handle) of the crosshair drag in progress.
        self._drag: tuple[Qt.MouseButton, float, float, str, handles.Handle | None] | None = None
        self._rotate_from = np.zeros(2)
        state.subscribe(self._on_state_changed)
        #: None: the left button moves the crosshair; else the measuring tool it runs.
        self.tool: Tool | None = None
        self.notes = notes if notes is not None else PlaneAnnotations()
        first = state.volume.frames[0] if state.volume.frames else None
        self.tool_host = PlaneToolHost(
            self.notes,
            lambda: state.views[index].plane,
            lambda: state.values(index, Quality.FULL),
            units="HU" if first is not None and first.modality == "CT" else "",
            frame_of_reference_uid=state.volume.frame_of_reference_uid,
        )
        self.tools = ToolSession(self.tool_host, _PlaneWindow(state, index))
        self.tools.changed.connect(self._on_tools_changed)
        self.notes.changed.connect(self._on_tools_changed)

    # -- the model -------------------------------------------------------------------
    def _on_state_changed(self, indices: tuple[int, ...]) -> None:
        if self.index in indices:
            self.tool_host.invalidate()
            self._picture_dirty = True
        self._overlay_dirty = True  # crosshair lines move even when only another plane did
        self.request_render()

    def _on_tools_changed(self, *_args: object) -> None:
        self._overlay_dirty = True
        self.request_render()

    def prepare_render(self) -> None:
        if self._picture_dirty:
            self._picture_dirty = False
            self.picture.set_picture(self.state.display_u8(self.index))
            self._overlay_dirty = True
        if self._overlay_dirty:
            self._overlay_dirty = False
            strokes, notes = self.strokes(), self._measurements()
            self.picture.set_overlay(strokes + notes[0])
            self.picture.set_notes(notes[1])
            self.picture.set_labels(self.state.labels(self.index), self._info(), self._scale())

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

    def _measurements(self) -> tuple[list[Stroke], list[tuple[float, float, str]]]:
        """The tool session's glyphs as strokes, and their labels (column, row, text)."""
        strokes: list[Stroke] = []
        notes = []
        for glyph in self.tools.glyphs(self._zoom()):
            colour = _SELECTED_RGB if glyph.selected else _NOTE_RGB
            for line, loop in zip(glyph.polylines, glyph.closed, strict=True):
                points = np.array([*line, *(line[:1] if loop else ())], dtype=float)
                if len(points) >= 2:
                    strokes.append((points, colour))
            if glyph.text:
                notes.append((glyph.anchor[0], glyph.anchor[1], glyph.text))
        return strokes, notes

    def _zoom(self) -> float:
        """Screen (logical) pixels per plane pixel."""
        return self.picture.pixel_size_on_screen() / max(self.devicePixelRatioF(), 1e-6)

    def set_tool(self, tool: Tool | None) -> None:
        """None: the left button moves the crosshair; else it measures with `tool`."""
        self.tool = tool
        self.tools.set_tool(tool or Tool.WINDOW)

    def _pointer(self, ev, action: PointerAction, button: Button = Button.NONE) -> PointerEvent:
        pos = ev.position()
        c, r = self._plane_pixel(ev)
        return PointerEvent(
            action,
            (float(c), float(r)),
            (pos.x(), pos.y()),
            button,
            (self.width(), self.height()),
            self._zoom(),
            bool(ev.modifiers() & Qt.KeyboardModifier.ControlModifier),
        )

    def _measuring(self, ev) -> bool:
        return self.tool is not None and ev.button() == Qt.MouseButton.LeftButton

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
        x, y = self.picture.pixel_to_display(float(pixel[0]), float(pixel[1]))
        return x / ratio, self.height() - 1 - y / ratio

    def mousePressEvent(self, ev) -> None:
        pos = ev.position()
        button = ev.button()
        self.setFocus()
        if not self.picture.shown:  # nothing on screen to point at yet
            ev.ignore()
            return
        if self._measuring(ev):
            self._drag = (button, pos.x(), pos.y(), "tool", None)
            self.tools.handle(self._pointer(ev, PointerAction.PRESS, Button.LEFT))
            ev.accept()
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
            self.tools.handle(self._pointer(ev, PointerAction.PRESS, Button.RIGHT))
        ev.accept()

    def mouseMoveEvent(self, ev) -> None:
        if self.tools.drag_mode or (self._drag is None and self.tools.drawing is not None):
            self.tools.handle(self._pointer(ev, PointerAction.MOVE))  # a tool's drag or rubber band
            ev.accept()
            return
        if self._drag is None or self.tool is not None:
            ev.ignore()
            return
        button, x0, _y0, mode, handle = self._drag
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
        ev.accept()

    def mouseReleaseEvent(self, ev) -> None:
        self._drag = None
        button = {Qt.MouseButton.LeftButton: Button.LEFT, Qt.MouseButton.RightButton: Button.RIGHT}
        pressed = button.get(ev.button(), Button.NONE)
        self.tools.handle(self._pointer(ev, PointerAction.RELEASE, pressed))
        self.state.set_quality(Quality.FULL)
        ev.accept()

    def keyPressEvent(self, ev) -> None:
        key = _KEYS.get(Qt.Key(ev.key()))
        if key is None or self.tool is None:
            super().keyPressEvent(ev)
            return
        self.tools.handle(KeyEvent(key))

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
