"""The one module that embeds VTK's Qt widget (``QVTKRenderWindowInteractor``).

VTK's own interactor styles are switched off: the viewer's Qt layer handles mouse and
keys and drives the model, and VTK only draws.  Renders are requested through a Qt
signal and coalesced, so they always run on the GUI thread and at most once per event
loop turn: input that arrives faster than frames can be drawn (a spun wheel) costs one
render per turn, not one per event.  Just before each render :meth:`prepare_render`
runs, so a subclass can bring the scene up to date once per drawn frame.  After
:meth:`ViewerRenderWidget.close_vtk` every render is a no-op.
"""

from __future__ import annotations

import logging

import vtkmodules.qt

vtkmodules.qt.PyQtImpl = "PySide6"

from PySide6.QtCore import Qt, Signal  # noqa: E402
from vtkmodules.qt.QVTKRenderWindowInteractor import QVTKRenderWindowInteractor  # noqa: E402

logger = logging.getLogger(__name__)


class ViewerRenderWidget(QVTKRenderWindowInteractor):
    """A VTK render window in a QWidget that leaves input to its Qt subclass."""

    sig_render_requested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._closed = False
        self._render_pending = False
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        # No VTK interactor style: input goes to the Qt event handlers of subclasses.
        self.GetRenderWindow().GetInteractor().SetInteractorStyle(None)
        self.sig_render_requested.connect(self._do_render, Qt.ConnectionType.QueuedConnection)

    @property
    def closed(self) -> bool:
        return self._closed

    def request_render(self) -> None:
        """Ask for a render on the GUI thread (coalesced)."""
        if self._closed or self._render_pending:
            return
        self._render_pending = True
        self.sig_render_requested.emit()

    def render_now(self) -> None:
        if not self._closed:
            self._render_pending = False
            self.GetRenderWindow().Render()

    def prepare_render(self) -> None:
        """Called before a requested render; subclasses update the scene here."""

    def _do_render(self) -> None:
        if self._render_pending and not self._closed:
            try:
                self.prepare_render()
            except Exception:  # the last good scene is drawn; the view stays alive
                logger.exception("scene update before a render failed")
            if self._render_pending:  # prepare_render may have drawn already
                self.render_now()

    def close_vtk(self) -> None:
        """Stop rendering and release the GL context (call before the widget goes)."""
        if self._closed:
            return
        self._closed = True
        try:
            self.Finalize()
        except (AttributeError, RuntimeError):
            logger.debug("render window already gone")

    # Qt input is handled by subclasses; the base class would forward it to VTK.
    def _ignore_input(self, ev) -> None:
        ev.ignore()

    mousePressEvent = mouseReleaseEvent = mouseMoveEvent = _ignore_input
    wheelEvent = keyPressEvent = keyReleaseEvent = _ignore_input
    enterEvent = leaveEvent = _ignore_input
