"""One linked MPR plane in a window: picture, crosshair, labels; mouse to read.

Left button: put the crosshair there (the other planes follow); drag to move it.
Ctrl + left drag: rotate the other planes about this plane's normal. Wheel: scroll
this plane along its normal. Right drag: window (horizontal) and level (vertical).
While a button is down the planes are sampled at preview quality; on release, full.

With a measuring tool chosen (``tool``), the left button and Delete/Escape go to the
same Qt-free tool session as a 2-D viewport's (:mod:`workstation.viewer.interaction`),
on this plane's own geometry and values; the right-button window drag always does.
"""

from __future__ import annotations

import itertools

import numpy as np
from PySide6.QtCore import Qt

from workstation.i18n import _
from workstation.mpr._vtk.vtk_plane_picture import PLANE_COLOURS, VtkPlanePicture, draw_line
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
        self._dirty = True
        self._drag: tuple[Qt.MouseButton, float, float, bool] | None = None
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
        notes = self._draw_measurements(rgb)
        self.picture.set_picture(rgb)
        self.picture.set_notes(notes)
        self.picture.set_labels(self.state.labels(self.index), self._info(), self._scale())

    def _on_tools_changed(self, *_args: object) -> None:
        self._dirty = True
        self.request_render()

    def _draw_measurements(self, rgb: np.ndarray) -> list[tuple[float, float, str]]:
        """Draw the session's glyphs into the picture; their labels (column, row, text)."""
        notes = []
        for glyph in self.tools.glyphs(self._zoom()):
            colour = _SELECTED_RGB if glyph.selected else _NOTE_RGB
            for line, loop in zip(glyph.polylines, glyph.closed, strict=True):
                points = [np.asarray(p, dtype=float) for p in line + (line[:1] if loop else ())]
                for a, b in itertools.pairwise(points):
                    draw_line(rgb, a, b, colour)
            if glyph.text:
                notes.append((glyph.anchor[0], glyph.anchor[1], glyph.text))
        return notes

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
        self.setFocus()
        if self._measuring(ev):
            self.tools.handle(self._pointer(ev, PointerAction.PRESS, Button.LEFT))
            ev.accept()
            return
        self.state.set_quality(Quality.PREVIEW)
        if ev.button() == Qt.MouseButton.LeftButton and not rotate:
            self.state.click(self.index, *self._plane_pixel(ev))
        elif ev.button() == Qt.MouseButton.RightButton:
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
        button, x0, _y0, rotate = self._drag
        pos = ev.position()
        if button == Qt.MouseButton.LeftButton and rotate:
            self.state.rotate(self.index, 0.5 * (pos.x() - x0))
            self._drag = (button, pos.x(), pos.y(), rotate)
        elif button == Qt.MouseButton.LeftButton:
            self.state.click(self.index, *self._plane_pixel(ev))
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
