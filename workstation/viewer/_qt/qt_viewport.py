"""One viewport on screen: the VTK picture, a stack scrollbar, mouse and keys.

The widget is thin: it turns input into calls on :class:`~workstation.viewer.model.Viewport`
and redraws when the model says what changed.  Frames decoded in the background are
announced from the loader's thread; a queued signal brings them to the GUI thread.

Moving through the stack is drawn lazily: a frame change only marks the scene stale and
asks for a render, and the scene is rebuilt just before that render.  When the wheel
turns faster than frames can be drawn, the slices in between are stepped over without
being windowed, uploaded or drawn; the one on screen is always the current one.  The
scrollbar follows a moving stack at most every ``SCROLLBAR_EVERY_MS`` (each repaint of
a Qt widget is a round trip to the X server) and exactly when the stack rests.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace

from PySide6.QtCore import QPointF, Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QScrollBar, QWidget

from workstation.i18n import _
from workstation.imaging.render import values_to_u8
from workstation.viewer import glyphs, overlays
from workstation.viewer._vtk.qvtk import ViewerRenderWidget
from workstation.viewer._vtk.vtk_viewport import VtkViewport
from workstation.viewer.documents import document_text
from workstation.viewer.interaction.events import (
    Button,
    KeyEvent,
    PointerAction,
    PointerEvent,
    ToolKey,
)
from workstation.viewer.interaction.session import VIEW_DRAGS, ToolSession
from workstation.viewer.interaction.viewport_host import ViewportToolHost
from workstation.viewer.model import ViewerModel, Viewport

logger = logging.getLogger(__name__)

SERIES_MIME = "application/x-klinika-series-uid"
#: The stack is "still" this long after the last frame change (then sampling turns linear).
STILL_AFTER_MS = 150
#: While the stack moves the scrollbar is repainted at most this often.
SCROLLBAR_EVERY_MS = 100
#: Mouse drags whose steps are drawn lazily (once per render, the latest state).
LAZY_DRAGS = VIEW_DRAGS
_BUTTONS = {
    Qt.MouseButton.LeftButton: Button.LEFT,
    Qt.MouseButton.MiddleButton: Button.MIDDLE,
    Qt.MouseButton.RightButton: Button.RIGHT,
}


class QtRenderView(ViewerRenderWidget):
    """The render widget; forwards input to its owner :class:`QtViewport`."""

    def __init__(self, owner: QtViewport) -> None:
        super().__init__(owner)
        self._owner = owner
        self.setAcceptDrops(True)

    def mousePressEvent(self, ev) -> None:
        self._owner.on_mouse_press(ev)

    def mouseMoveEvent(self, ev) -> None:
        self._owner.on_mouse_move(ev)

    def mouseReleaseEvent(self, ev) -> None:
        self._owner.on_mouse_release(ev)

    def mouseDoubleClickEvent(self, ev) -> None:
        if not self._owner.on_mouse_double_click(ev):
            self._owner.sig_double_clicked.emit(self._owner.viewport.position)

    def wheelEvent(self, ev) -> None:
        self._owner.on_wheel(ev)

    def keyPressEvent(self, ev) -> None:
        if not self._owner.on_key(ev):
            ev.ignore()

    def leaveEvent(self, ev) -> None:
        self._owner.on_leave()

    def resizeEvent(self, ev) -> None:
        super().resizeEvent(ev)
        self._owner.on_resized()

    def prepare_render(self) -> None:
        self._owner.before_render()

    def paintEvent(self, ev) -> None:
        # The first paint has a mapped window: build GL state and shaders now.
        self._owner.on_shown()
        super().paintEvent(ev)

    def dragEnterEvent(self, ev) -> None:
        if ev.mimeData().hasFormat(SERIES_MIME):
            ev.acceptProposedAction()

    def dragMoveEvent(self, ev) -> None:
        if ev.mimeData().hasFormat(SERIES_MIME):
            ev.acceptProposedAction()

    def dropEvent(self, ev) -> None:
        uid = bytes(ev.mimeData().data(SERIES_MIME).data()).decode("ascii", "replace")
        if uid:
            ev.acceptProposedAction()
            self._owner.sig_series_dropped.emit(self._owner.viewport.position, uid)


class QtViewport(QWidget):
    """A viewport widget bound to one model :class:`Viewport`."""

    sig_activated = Signal(int)
    sig_double_clicked = Signal(int)
    sig_series_dropped = Signal(int, str)
    #: This viewport moved to another frame (for sync and reference lines).
    sig_frame_changed = Signal(int)
    #: The first decoded frame of the current series reached the screen.
    sig_first_frame_shown = Signal(int)
    sig_annotation_selected = Signal(str)
    #: (series generation, frame index) from a loader thread; plain ints cross threads.
    _sig_frame_ready = Signal(int, int)

    def __init__(self, viewport: Viewport, model: ViewerModel, host) -> None:
        super().__init__()
        self.viewport = viewport
        self.model = model
        #: The owning viewer: gives the active tool and asks for annotation text.
        self.host = host
        self.render_view = QtRenderView(self)
        self.scene = VtkViewport(self.render_view.GetRenderWindow())
        self.scrollbar = QScrollBar(Qt.Orientation.Vertical)
        self.scrollbar.setEnabled(False)
        self.scrollbar.valueChanged.connect(self._on_scrollbar_changed)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.render_view, 1)
        layout.addWidget(self.scrollbar)
        #: The tools: a Qt-free state machine fed with this widget's mouse and keys.
        self.tools = ToolSession(
            ViewportToolHost(viewport, model, lambda kind: self.host.ask_annotation_text(kind)),
            viewport,
        )
        self.tools.changed.connect(self.refresh)
        self.tools.selected.connect(self.sig_annotation_selected.emit)
        self._first_shown = False
        self._generation = 0
        self._warmed = False
        self._shown_index = -1
        self._updating_scrollbar = False
        self._reference_segments: list = []
        #: The model moved on since the scene was last built (see before_render).
        self._stale = False
        self._still_timer = QTimer(self)
        self._still_timer.setSingleShot(True)
        self._still_timer.setInterval(STILL_AFTER_MS)
        self._still_timer.timeout.connect(self._on_still)
        self._scrollbar_timer = QTimer(self)
        self._scrollbar_timer.setSingleShot(True)
        self._scrollbar_timer.setInterval(SCROLLBAR_EVERY_MS)
        self._scrollbar_timer.timeout.connect(self._update_scrollbar)
        self.cine_timer = QTimer(self)
        self.cine_timer.timeout.connect(self._on_cine_tick)
        self._sig_frame_ready.connect(self._on_frame_ready, Qt.ConnectionType.QueuedConnection)
        viewport.changed.connect(self._on_model_changed)
        self.scene.set_view_size(self.render_view.width(), self.render_view.height())
        self._on_model_changed("series")

    # Model -> screen ---------------------------------------------------------
    def _attach_source(self) -> None:
        self._generation += 1
        source = self.viewport.source
        if source is not None:
            # The listener runs on the loader thread: it only emits a queued signal.
            def announce(index: int, generation: int = self._generation) -> None:
                self._sig_frame_ready.emit(generation, index)

            source.add_listener(announce)

    def _on_frame_ready(self, generation: int, index: int) -> None:
        if generation == self._generation and index == self.viewport.index:
            self.refresh()

    def _on_model_changed(self, what: str) -> None:
        if what == "series":
            self._first_shown = False
            self._shown_index = -1
            self.tools.reset()
            self._attach_source()
            self._update_scrollbar()
            self._update_cine_timer()
        elif what == "frame":
            self.scene.set_interactive(True)
            self._still_timer.start()
            if not self._scrollbar_timer.isActive():
                self._update_scrollbar()
                self._scrollbar_timer.start()
            self.sig_frame_changed.emit(self.viewport.position)
            self._stale = True
            self.render_view.request_render()
            return
        elif what in ("window", "view") and self.tools.drag_mode in LAZY_DRAGS:
            # A W/L, pan or zoom drag: mouse moves are coalesced like wheel notches.
            self.scene.set_interactive(True)
            self._still_timer.start()
            self._stale = True
            self.render_view.request_render()
            return
        elif what == "cine":
            self._update_cine_timer()
        self.refresh()

    def _update_scrollbar(self) -> None:
        self._updating_scrollbar = True
        n = self.viewport.count
        self.scrollbar.setEnabled(n > 1)
        self.scrollbar.setRange(0, max(0, n - 1))
        self.scrollbar.setPageStep(self.viewport.page_step)
        self.scrollbar.setValue(self.viewport.index)
        self._updating_scrollbar = False

    def _view_size(self) -> tuple[int, int]:
        return max(1, self.render_view.width()), max(1, self.render_view.height())

    def before_render(self) -> None:
        """Build the scene for the current frame if the stack moved since the last one."""
        if self._stale:
            self.refresh()

    def refresh(self) -> None:
        """Redraw everything from the model (cheap enough to do on every change)."""
        self._stale = False
        if self.render_view.closed:
            return
        vp, scene = self.viewport, self.scene
        size = self._view_size()
        scene.set_view_size(*size)
        scene.set_active(self.model.active_viewport is vp)
        frame = vp.current_frame()
        header = vp.source.header if vp.source is not None else None
        if vp.source is None:
            self._show(None)
            scene.set_message(_("Drop a series here") if self.model.study_uid else "", hint=True)
            scene.set_corners("", "", "", "")
            scene.set_orientation({})
            scene.set_scale_bar(0, "")
            scene.set_glyphs([])
            scene.set_reference_lines([])
            self.render_view.request_render()
            return
        window = None
        if frame is None:
            scene.set_message(_("Loading…") if self._shown_index < 0 else "", hint=True)
        elif not frame.ok:
            self._show(None)
            document = self.host.document_of(vp.series_uid)
            if document is not None:  # not broken: a document, said in grey
                scene.set_message(document_text(document), hint=True)
            else:
                scene.set_message(_("Cannot display: {reason}").format(reason=frame.error))
        else:
            if vp.fit_mode:
                vp.transform = replace(vp.transform, zoom=self._fit_zoom(frame), pan=(0.0, 0.0))
            scene.set_message("")
            window = vp.display_window(frame)
            assert frame.values is not None
            self._show(frame, window)
            if vp.window is None and frame.voi_lut:
                window = None  # the file's VOI LUT table is in use, not a window
            scene.set_matrix(
                vp.transform.matrix((frame.values.shape[1], frame.values.shape[0]), size)
            )
            self._shown_index = vp.index
        self._update_overlays(frame, window, header, size)
        self.render_view.request_render()
        if frame is not None and not self._first_shown:
            self._first_shown = True
            vp.adopt_file_cine_rate()
            self.render_view.render_now()
            self.sig_first_frame_shown.emit(vp.position)

    def _show(self, frame, window: tuple[float, float] | None = None) -> None:
        """Upload ``frame``'s 8-bit picture, unless the scene holds the one made from the
        same frame, window and inversion (a pan, a zoom or an overlay change re-windows
        and re-uploads nothing)."""
        if frame is None:
            self.scene.show_pixels(None)
            return
        assert window is not None
        vp = self.viewport
        made_of = (vp.window, vp.invert, window)
        held = self.scene.pixels_tag
        if isinstance(held, tuple) and held[0] is frame and held[1] == made_of:
            return
        self.scene.show_pixels(self._pixels(frame, window), tag=(frame, made_of))

    def _pixels(self, frame, window: tuple[float, float]):
        """8-bit picture of ``frame`` at the viewport's window and inversion."""
        vp = self.viewport
        invert = frame.inverted ^ vp.invert
        if frame.render is not None:
            # The user's window; else the file's own VOI (window or table) as the decoder
            # applies it; else the same auto window the corner text shows.
            chosen = vp.window
            if chosen is None and frame.window is None and not frame.voi_lut:
                chosen = window
            return frame.render(chosen, invert)
        if frame.is_color:
            return 255 - frame.values if vp.invert else frame.values
        return values_to_u8(frame.values, window, invert=invert)

    def _fit_zoom(self, frame) -> float:
        from workstation.viewer.view_transform import fit_zoom

        return fit_zoom(
            (frame.values.shape[1], frame.values.shape[0]),
            self._view_size(),
            self.viewport.transform.rotation,
        )

    def _update_overlays(self, frame, window, header, size) -> None:
        vp, scene = self.viewport, self.scene
        ref = vp.current_ref()
        key = ref is not None and self.model.is_key_image(ref.sop_instance_uid, ref.frame_index)
        c = overlays.corners(header, vp.index, vp.count, frame, window, vp.transform.zoom, key)
        extra = ""
        if vp.cine_playing:
            extra = "\n" + _("Cine {fps:.0f} fps").format(fps=vp.cine_fps)
        scene.set_corners(c.top_left, c.top_right, c.bottom_left + extra, c.bottom_right)
        shown = frame if frame is not None and frame.ok else None
        scene.set_orientation(overlays.orientation_markers(shown, vp.transform))
        bar = overlays.scale_bar(frame, vp.transform, size[0])
        scene.set_scale_bar(bar.length_px if bar else 0, bar.text if bar else "")
        scene.set_glyphs(self._glyphs())
        scene.set_reference_lines(self._reference_segments)
        scene.set_magnifier(self.tools.magnifier_at)

    def _glyphs(self) -> list[glyphs.Glyph]:
        return self.tools.glyphs(self.viewport.transform.zoom)

    def set_reference_lines(self, segments: list) -> None:
        if segments == self._reference_segments:
            return  # unchanged: no render (a step in one viewport redraws only that one)
        self._reference_segments = segments
        if not self.render_view.closed:
            self.scene.set_reference_lines(segments)
            self.render_view.request_render()

    # Screen <-> image ----------------------------------------------------------
    def image_point(self, pos: QPointF) -> tuple[float, float] | None:
        size = self.viewport.image_size()
        if size is None:
            return None
        return self.viewport.transform.to_image((pos.x(), pos.y()), size, self._view_size())

    def screen_point(self, point: tuple[float, float]) -> QPointF:
        size = self.viewport.image_size() or (1, 1)
        x, y = self.viewport.transform.to_screen(point, size, self._view_size())
        return QPointF(x, y)

    # Input ----------------------------------------------------------------------
    def on_resized(self) -> None:
        if self.viewport.fit_mode:
            self.refresh()
        else:
            self.scene.set_view_size(*self._view_size())
            self.refresh()

    def on_shown(self) -> None:
        if not self._warmed and not self.render_view.closed:
            self._warmed = True
            self.scene.warm_up()
            self.refresh()

    def _pointer(self, ev, action: PointerAction, button: Button = Button.NONE) -> PointerEvent:
        """The model's event for a Qt mouse event."""
        pos = ev.position()
        return PointerEvent(
            action,
            self.image_point(pos),
            (pos.x(), pos.y()),
            button,
            self._view_size(),
            self.viewport.transform.zoom,
            bool(ev.modifiers() & Qt.KeyboardModifier.ControlModifier),
        )

    def on_mouse_press(self, ev) -> None:
        self.sig_activated.emit(self.viewport.position)
        self.render_view.setFocus()
        shift = bool(ev.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        left = ev.button() == Qt.MouseButton.LeftButton
        if left and shift and self.host.point_crosshair(self, ev.position()):
            return  # the MPR crosshair went there (and the linked views followed)
        if self.tools.tool is not self.host.tool:
            self.tools.set_tool(self.host.tool)
        button = _BUTTONS.get(ev.button(), Button.NONE)
        self.tools.handle(self._pointer(ev, PointerAction.PRESS, button))

    def on_mouse_move(self, ev) -> None:
        self.tools.handle(self._pointer(ev, PointerAction.MOVE))

    def on_mouse_release(self, ev) -> None:
        button = _BUTTONS.get(ev.button(), Button.NONE)
        self.tools.handle(self._pointer(ev, PointerAction.RELEASE, button))
        if self._stale:
            self.refresh()  # the drag's last step, now

    def on_mouse_double_click(self, ev) -> bool:
        """True when the tools used it (a point of a shape in progress)."""
        return self.tools.handle(self._pointer(ev, PointerAction.DOUBLE_CLICK, Button.LEFT))

    def on_wheel(self, ev) -> None:
        steps = ev.angleDelta().y() / 120.0
        if not steps:
            return
        if ev.modifiers() & Qt.KeyboardModifier.ControlModifier:
            pos = ev.position()
            self.viewport.zoom(1.15**steps, (pos.x(), pos.y()), self._view_size())
        else:
            self.viewport.scroll(-round(steps) or (-1 if steps > 0 else 1))

    def on_leave(self) -> None:
        self.tools.leave()

    def on_key(self, ev) -> bool:
        vp, key = self.viewport, ev.key()
        K = Qt.Key
        actions: dict[int, Callable[[], object]] = {
            K.Key_Up: lambda: vp.scroll(-1),
            K.Key_Down: lambda: vp.scroll(1),
            K.Key_Left: lambda: vp.scroll(-1),
            K.Key_Right: lambda: vp.scroll(1),
            K.Key_PageUp: lambda: vp.scroll(-vp.page_step),
            K.Key_PageDown: lambda: vp.scroll(vp.page_step),
            K.Key_Home: lambda: vp.set_index(0),
            K.Key_End: lambda: vp.set_index(vp.count - 1),
            K.Key_I: vp.toggle_invert,
            K.Key_R: lambda: vp.rotate(1),
            K.Key_H: lambda: vp.flip(True),
            K.Key_V: lambda: vp.flip(False),
            K.Key_F: lambda: vp.fit(self._view_size()),
            K.Key_1: vp.one_to_one,
            K.Key_Space: lambda: vp.set_cine(not vp.cine_playing),
            K.Key_K: lambda: self.model.toggle_key_image(vp),
            K.Key_Delete: lambda: self.tools.handle(KeyEvent(ToolKey.DELETE)),
            K.Key_Escape: lambda: self.tools.handle(KeyEvent(ToolKey.ESCAPE)),
        }
        action = actions.get(key)
        if action is None:
            return False
        action()
        if key in (K.Key_K,):
            self.refresh()
        return True

    def remove_selected(self) -> None:
        self.tools.remove_selected()

    def select_annotation(self, annotation_id: str) -> None:
        self.tools.select(annotation_id)

    def cancel_drawing(self) -> None:
        self.tools.cancel()

    def _on_scrollbar_changed(self, value: int) -> None:
        if not self._updating_scrollbar:
            self.viewport.set_index(value)

    def _on_still(self) -> None:
        self._scrollbar_timer.stop()
        self._update_scrollbar()
        if not self.render_view.closed and self.scene.set_interactive(False):
            self.render_view.request_render()

    # Cine ----------------------------------------------------------------------
    def _update_cine_timer(self) -> None:
        vp = self.viewport
        if vp.cine_playing:
            self.cine_timer.start(max(1, round(1000.0 / vp.cine_fps)))
        else:
            self.cine_timer.stop()

    def _on_cine_tick(self) -> None:
        vp = self.viewport
        nxt = (vp.index + 1) % vp.count if vp.count else 0
        if vp.source is not None and vp.source.frame(nxt) is None:
            vp.source.set_current(nxt)  # not decoded yet: wait for it rather than skip
            return
        vp.next_cine_frame()

    # Teardown and frames -------------------------------------------------------
    def grab_frame(self, still: bool = True):
        """The picture as drawn (numpy RGB), rendered now; ``still``: as at rest."""
        if self._stale:
            self.refresh()  # a step not drawn yet: draw the current state
        self.scene.set_interactive(not still)
        self.render_view.render_now()
        return self.scene.grab()

    def close_view(self) -> None:
        self.cine_timer.stop()
        self._still_timer.stop()
        self._scrollbar_timer.stop()
        self.viewport.changed.disconnect(self._on_model_changed)
        self.scene.close()
        self.render_view.close_vtk()

    def timestamp(self) -> float:
        return time.perf_counter()
