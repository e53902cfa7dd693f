"""The 2-D measuring tools on one MPR plane widget: a thin adapter to the tool session.

:class:`QtPlaneTools` filters the plane widget's mouse and keys: while a measuring tool
is chosen, the left button, the moves of its drag and Delete/Escape become events of
the same Qt-free :class:`~workstation.viewer.interaction.session.ToolSession` a 2-D
viewport uses, on this plane's geometry and full-quality values
(:class:`~workstation.viewer.interaction.plane_host.PlaneToolHost`). Everything else
(the crosshair, its handles, the wheel, the right-button window drag) stays the
widget's. The session's glyphs are drawn by the viewer's glyph layer at the start of
every render of the plane, so they follow zoom, resize and re-sampling.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt

from workstation.mpr.reslice import Quality
from workstation.mpr.viewing import MprViewState
from workstation.viewer._vtk.vtk_glyph_layer import VtkGlyphLayer
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

_KEYS = {Qt.Key.Key_Delete: ToolKey.DELETE, Qt.Key.Key_Escape: ToolKey.ESCAPE}
_ACTIONS = {
    QEvent.Type.MouseButtonPress: PointerAction.PRESS,
    QEvent.Type.MouseMove: PointerAction.MOVE,
    QEvent.Type.MouseButtonRelease: PointerAction.RELEASE,
    QEvent.Type.MouseButtonDblClick: PointerAction.DOUBLE_CLICK,
}
#: The camera looks from +z: lines just above the picture.
_LINE_Z = 0.5


class QtPlaneTools(QObject):
    """Measuring tools on plane widget `plane` (a QtMprPlane) of `state`."""

    def __init__(self, plane: Any, notes: PlaneAnnotations | None = None) -> None:
        super().__init__(plane)
        self.plane = plane
        state: MprViewState = plane.state
        index: int = plane.index
        #: None: the left button is the widget's (crosshair); else the tool it runs.
        self.tool: Tool | None = None
        self.notes = notes if notes is not None else PlaneAnnotations()
        first = state.volume.frames[0] if state.volume.frames else None
        self.host = PlaneToolHost(
            self.notes,
            lambda: state.views[index].plane,
            lambda: state.values(index, Quality.FULL),
            units="HU" if first is not None and first.modality == "CT" else "",
            frame_of_reference_uid=state.volume.frame_of_reference_uid,
        )
        self.session = ToolSession(self.host)
        self.session.changed.connect(self._on_changed)
        self.notes.changed.connect(self._on_changed)
        state.subscribe(self._on_state_changed)
        self._layer = VtkGlyphLayer(plane.picture.renderer, line_z=_LINE_Z)
        plane.picture.renderer.AddObserver("StartEvent", self._draw)
        self._pressed = False
        plane.installEventFilter(self)

    def set_tool(self, tool: Tool | None) -> None:
        self.tool = tool
        self.session.set_tool(tool or Tool.WINDOW)

    # -- model -> screen -----------------------------------------------------------------
    def _on_state_changed(self, indices: tuple[int, ...]) -> None:
        if self.plane.index in indices:
            self.host.invalidate()

    def _on_changed(self, *_args: object) -> None:
        self.plane.request_render()

    def _zoom(self) -> float:
        """Screen (logical) pixels per plane pixel."""
        ratio = max(self.plane.devicePixelRatioF(), 1e-6)
        return float(self.plane.picture.pixel_size_on_screen()) / ratio

    def _draw(self, *_args: object) -> None:
        """Lay out the glyphs for the render about to start."""
        picture = self.plane.picture
        if picture.shape is None:
            return
        rows = picture.shape[0]
        world = np.array([[1.0, 0.0, 0.0], [0.0, -1.0, rows - 1.0], [0.0, 0.0, 1.0]])
        origin = picture.pixel_to_display(np.array([0.0, 0.0]))
        along = picture.pixel_to_display(np.array([1.0, 0.0])) - origin
        down = picture.pixel_to_display(np.array([0.0, 1.0])) - origin
        width, height = picture.renderer.GetSize()
        screen = np.array(
            [
                [along[0], down[0], origin[0]],
                [-along[1], -down[1], height - origin[1]],
                [0.0, 0.0, 1.0],
            ]
        )
        self._layer.set(self.session.glyphs(self._zoom()), world, screen, (width, height))

    # -- screen -> model -----------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self.tool is None:
            return False
        if event.type() == QEvent.Type.KeyPress:
            key = _KEYS.get(Qt.Key(event.key()))  # type: ignore[attr-defined]
            return key is not None and self.session.handle(KeyEvent(key))
        action = _ACTIONS.get(event.type())
        if action is None:
            return False
        left = event.button() == Qt.MouseButton.LeftButton  # type: ignore[attr-defined]
        if action is PointerAction.PRESS:
            if not left:
                return False
            self.plane.setFocus()
            self._pressed = True
        elif action is PointerAction.RELEASE:
            if not (left and self._pressed):
                return False
            self._pressed = False
        elif action is PointerAction.MOVE and not (self._pressed or self.session.drawing):
            return False
        elif action is PointerAction.DOUBLE_CLICK:
            if not left:
                return False
            self._pressed = True  # its release is the tools' too
        self.session.handle(self._pointer(event, action))
        return True

    def _pointer(self, ev: Any, action: PointerAction) -> PointerEvent:
        pos = ev.position()
        ratio = self.plane.devicePixelRatioF()
        y_up = (self.plane.height() - 1 - pos.y()) * ratio
        c, r = self.plane.picture.display_to_pixel(pos.x() * ratio, y_up)
        button = Button.LEFT if action is not PointerAction.MOVE else Button.NONE
        return PointerEvent(
            action,
            (float(c), float(r)),
            (pos.x(), pos.y()),
            button,
            (self.plane.width(), self.plane.height()),
            self._zoom(),
            bool(ev.modifiers() & Qt.KeyboardModifier.ControlModifier),
        )
