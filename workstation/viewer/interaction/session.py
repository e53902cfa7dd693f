"""One view's tool state machine: pointer and key events in, annotations out.

Mouse convention (the README's): the left button runs the active tool; a right drag is
window/level (Ctrl: zoom); a middle drag pans. With a drawing tool the left button draws
(drag tools: press, drag, release; click tools: one click per point); with the select
tool it picks the annotation within :data:`PICK_TOLERANCE_PX` screen pixels and, when
pressed on one of its points, drags that point and re-measures on release. Delete
removes the selected annotation; Escape drops a drawing in progress.

The session keeps no picture and no store: it asks its :class:`~.host.ToolHost` for the
picture under the tools and hands finished annotations back to it, measured by
:func:`~workstation.viewer.annotations.evaluate`. It emits ``changed`` when what it
draws changed (a shape in progress, the selection, the magnifier) and ``selected``
with the id of an annotation the user picked.
"""

from __future__ import annotations

import math

from workstation.viewer import glyphs
from workstation.viewer.annotations import Annotation, Kind, evaluate
from workstation.viewer.interaction.events import (
    Button,
    KeyEvent,
    PointerAction,
    PointerEvent,
    ToolKey,
)
from workstation.viewer.interaction.handles import Handle, moved, nearest_handle
from workstation.viewer.interaction.host import ToolHost, ViewControls
from workstation.viewer.interaction.tools import (
    CLICK_KINDS,
    DRAG_KINDS,
    MIN_DRAG_PX,
    Drawing,
    Tool,
    too_small,
)
from workstation.viewer.model import Event

#: How near (screen pixels) a press must land to pick an annotation or grab a point.
PICK_TOLERANCE_PX = 6.0
#: Drags that only change how the picture is shown.
VIEW_DRAGS = ("window", "pan", "zoom")


class ToolSession:
    """The tools of one view (see the module docstring)."""

    def __init__(self, host: ToolHost, controls: ViewControls | None = None) -> None:
        self.host = host
        self.controls = controls
        self.tool = Tool.WINDOW
        self.changed = Event()
        self.selected = Event()
        #: The shape being drawn, in image pixels.
        self.drawing: Drawing | None = None
        self.selection = ""
        #: Screen point of the magnifier while it is held down.
        self.magnifier_at: tuple[float, float] | None = None
        #: What the held button does: "", "window", "pan", "zoom", "magnify", "draw",
        #: "click" or "handle".
        self.drag_mode = ""
        self._last_screen = (0.0, 0.0)
        self._press_screen = (0.0, 0.0)
        self._handle: Handle | None = None
        #: The annotation whose point is being dragged, as it would be if released now.
        self._editing: Annotation | None = None

    # -- state -------------------------------------------------------------------------
    def set_tool(self, tool: Tool) -> None:
        self.tool = tool
        self.cancel()

    def cancel(self) -> None:
        """Drop a drawing or a point drag in progress."""
        self.drawing, self._handle, self._editing = None, None, None
        self.changed.emit()

    def reset(self) -> None:
        """A new picture source: nothing drawn, nothing selected (the view redraws)."""
        self.drawing, self._handle, self._editing = None, None, None
        self.selection = ""

    def leave(self) -> None:
        """The pointer left the view: the magnifier goes unless it is held down."""
        if self.magnifier_at is not None and self.drag_mode != "magnify":
            self.magnifier_at = None
            self.changed.emit()

    def select(self, annotation_id: str) -> None:
        self.selection = annotation_id
        self.changed.emit()

    def remove_selected(self) -> None:
        if self.selection:
            self.host.remove(self.selection)
            self.selection = ""
            self.changed.emit()

    # -- what to draw ------------------------------------------------------------------
    def glyphs(self, zoom: float) -> list[glyphs.Glyph]:
        """The annotations on the picture and the shape in progress, as drawn."""
        shown = self.host.annotations()
        if self._editing is not None:
            shown = [self._editing if a.annotation_id == self._editing.annotation_id else a
                     for a in shown]  # fmt: skip
        out = [glyphs.glyph(a, zoom, a.annotation_id == self.selection) for a in shown]
        preview = self._preview()
        if preview is not None:
            out.append(glyphs.glyph(preview, zoom, True))
        return out

    def _preview(self) -> Annotation | None:
        if self.drawing is None or not self.drawing.preview():
            return None
        a = self.host.new_annotation(self.drawing.kind, self.drawing.preview(), "")
        frame = self.host.frame()
        if a is not None and frame is not None and frame.ok and len(a.points) >= 2:
            a = evaluate(a, frame)
        return a

    # -- events ------------------------------------------------------------------------
    def handle(self, event: PointerEvent | KeyEvent) -> bool:
        """Act on one event; True when the tools used it."""
        if isinstance(event, KeyEvent):
            return self._key(event.key)
        if event.action is PointerAction.PRESS:
            return self._press(event)
        if event.action is PointerAction.MOVE:
            return self._move(event)
        if event.action is PointerAction.RELEASE:
            return self._release(event)
        return self._double_click(event)

    def _key(self, key: ToolKey) -> bool:
        if key is ToolKey.DELETE:
            self.remove_selected()
        else:
            self.cancel()
        return True

    def _press(self, ev: PointerEvent) -> bool:
        self._last_screen = self._press_screen = ev.screen
        if ev.button is Button.RIGHT:
            self.drag_mode = "zoom" if ev.ctrl else "window"
        elif ev.button is Button.MIDDLE:
            self.drag_mode = "pan"
        elif ev.button is Button.LEFT:
            self.drag_mode = self._press_tool(ev)
        return True

    def _press_tool(self, ev: PointerEvent) -> str:
        tool = self.tool
        if tool in (Tool.WINDOW, Tool.PAN, Tool.ZOOM):
            return tool.value
        if tool is Tool.MAGNIFY:
            self.magnifier_at = ev.screen
            self.changed.emit()
            return "magnify"
        point = ev.image
        if point is None:
            return ""
        if tool is Tool.SELECT:
            return self._press_select(point, ev.zoom)
        kind = tool.kind
        assert kind is not None
        if kind in (Kind.PROBE, Kind.TEXT):
            self._finish(Drawing(kind, [point]))
            return ""
        if kind in CLICK_KINDS:
            self._add_click_point(kind, point)
            return "click"
        self.drawing = Drawing(kind, [point])
        return "draw"

    def _press_select(self, point: tuple[float, float], zoom: float) -> str:
        tol = PICK_TOLERANCE_PX / max(zoom, 1e-6)
        handle = nearest_handle(self.host.annotations(), point, tol, prefer=self.selection)
        picked = handle.annotation_id if handle else glyphs.nearest(self.glyphs(zoom), point, tol)
        self.selection = picked or ""
        self._handle = handle
        if self.selection:
            self.selected.emit(self.selection)
        self.changed.emit()
        return "handle" if handle else ""

    def _add_click_point(self, kind: Kind, point: tuple[float, float]) -> None:
        if self.drawing is None or self.drawing.kind is not kind:
            self.drawing = Drawing(kind)
        self.drawing.points.append(point)
        self.drawing.floating = None
        if self.drawing.complete:
            self._finish(self.drawing)
        else:
            self.changed.emit()

    def _move(self, ev: PointerEvent) -> bool:
        dx, dy = ev.screen[0] - self._last_screen[0], ev.screen[1] - self._last_screen[1]
        self._last_screen = ev.screen
        mode = self.drag_mode
        if mode in VIEW_DRAGS:
            self._view_drag(mode, dx, dy, ev)
        elif mode == "magnify":
            self.magnifier_at = ev.screen
            self.changed.emit()
        elif mode == "handle":
            self._drag_handle(ev.image, ev.screen)
        elif self.drawing is not None:
            if ev.image is None:
                return True
            if self.drawing.kind is Kind.FREEHAND and mode == "draw":
                self.drawing.points.append(ev.image)
            else:
                self.drawing.floating = ev.image
            self.changed.emit()
        else:
            return False
        return True

    def _view_drag(self, mode: str, dx: float, dy: float, ev: PointerEvent) -> None:
        if self.controls is None:
            return
        if mode == "window":
            self.controls.drag_window(dx, dy)
        elif mode == "pan":
            self.controls.pan(dx, dy)
        else:
            self.controls.zoom(1.0 + (-dy) / 200.0, ev.screen, ev.view_size)

    def _drag_handle(self, point: tuple[float, float] | None, screen: tuple[float, float]) -> None:
        if self._handle is None or point is None:
            return
        if self._editing is None and math.dist(screen, self._press_screen) < MIN_DRAG_PX:
            return  # a click that shook: the point stays where it was
        base = self._editing or next(
            (a for a in self.host.annotations() if a.annotation_id == self._handle.annotation_id),
            None,
        )
        if base is None:
            return
        self._editing = moved(base, self._handle.index, point)
        self.changed.emit()

    def _release(self, ev: PointerEvent) -> bool:
        mode, self.drag_mode = self.drag_mode, ""
        if mode == "magnify":
            self.magnifier_at = None
            self.changed.emit()
            return True
        if mode == "handle":
            self._release_handle()
            return True
        if mode != "draw" or self.drawing is None:
            return bool(mode)
        drawing, point = self.drawing, ev.image
        if drawing.kind in DRAG_KINDS and point is not None:
            drawing.points.append(point)
            drawing.floating = None
        if drawing.complete and not too_small(drawing.kind, drawing.points, ev.zoom):
            self._finish(drawing)
        else:
            self.drawing = None
            self.changed.emit()
        return True

    def _release_handle(self) -> None:
        edited, self._editing, self._handle = self._editing, None, None
        frame = self.host.frame()
        if edited is not None and frame is not None and frame.ok:
            self.host.store(evaluate(edited, frame))
        self.changed.emit()

    def _double_click(self, ev: PointerEvent) -> bool:
        """A double click adds a point to a click-drawn shape in progress (Qt sends it in
        place of the second press); otherwise it is the view's (e.g. maximise)."""
        if self.drawing is not None and self.drawing.kind in CLICK_KINDS and ev.image:
            self._add_click_point(self.drawing.kind, ev.image)
            return True
        return False

    # -- finishing ---------------------------------------------------------------------
    def _finish(self, drawing: Drawing) -> None:
        self.drawing = None
        frame = self.host.frame()
        if frame is None or not frame.ok:
            self.changed.emit()
            return
        text = ""
        if drawing.kind in (Kind.TEXT, Kind.ARROW):
            asked = self.host.ask_text(drawing.kind)
            if asked is None or (drawing.kind is Kind.TEXT and not asked):
                self.changed.emit()
                return
            text = asked
        a = self.host.new_annotation(drawing.kind, tuple(drawing.points), text)
        if a is not None:
            self.host.store(evaluate(a, frame))
        self.changed.emit()
