"""The 3-D view's full-quality still pictures, drawn on one long-lived worker thread.

A still frame of the fixed-point ray caster takes ~140 ms on a quiet machine and
220-500 ms under load: too long for the GUI thread (the issue allows 200 ms). VTK
releases Python's GIL inside ``vtkRenderWindow.Render()``, so a worker thread that owns
its own offscreen window, renderer, mapper and property (an
:class:`~workstation.mpr._vtk.vtk_volume_render.OffscreenPicture`) draws the picture
while the GUI thread keeps running. The worker shares only the view's vtkImageData,
which nobody modifies; the preset, crop and camera come as plain values in a
:class:`StillRequest` and are set on the worker's own objects, on the worker thread.

Only the newest request counts: a new one replaces a pending one and aborts a picture
of an older generation being drawn (the mapper polls the window's abort flag), and
:meth:`StillRenderWorker.cancel` does the same without a new request. The caller
compares the generation handed back with its own and drops stale pictures.
:meth:`StillRenderWorker.close` aborts, lets the worker ``Finalize()`` its window on
its own thread (the GL context is that thread's) and joins it for a moment: a ray cast
stops within a few ray bundles, but the worker's first picture computes the mapper's
gradients, which cannot be aborted (up to a second or two). A worker still running
then ends on its own, touching nothing of the closed view; the interpreter joins such
workers at exit, so none is cut off inside VTK.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from vtkmodules.vtkCommonDataModel import vtkImageData

from workstation.mpr._vtk.vtk_volume_render import (
    STILL_SAMPLE_DISTANCE,
    VIEW_BACKGROUND,
    CameraPose,
    OffscreenPicture,
    SceneLook,
)
from workstation.mpr.thread_priority import lower_this_thread
from workstation.mpr.volume import MprVolume

logger = logging.getLogger(__name__)

#: How long :meth:`StillRenderWorker.close` waits on the GUI thread (an aborted ray
#: cast ends within this; gradients being computed do not).
CLOSE_WAIT_S = 0.05
#: How long the interpreter's exit waits for workers still ending.
EXIT_WAIT_S = 30.0

_ending: set[threading.Thread] = set()
_ending_lock = threading.Lock()


@atexit.register
def _join_ending_workers() -> None:
    with _ending_lock:
        threads = list(_ending)
    for thread in threads:
        thread.join(EXIT_WAIT_S)


@dataclass(frozen=True)
class StillRequest:
    """One still picture to draw: `size` (width, height) in window pixels."""

    generation: int
    size: tuple[int, int]
    look: SceneLook
    pose: CameraPose


#: Called on the worker thread with (generation, RGB picture, top row first).
PictureCallback = Callable[[int, np.ndarray], None]


class StillRenderWorker:
    """One thread drawing still pictures of `volume` (its vtkImageData `image`, shared
    read-only with the on-screen scene) and handing them to `on_picture`."""

    def __init__(
        self,
        volume: MprVolume,
        image: vtkImageData,
        on_picture: PictureCallback,
        *,
        background: tuple[float, float, float] = VIEW_BACKGROUND,
        sample_distance: float = STILL_SAMPLE_DISTANCE,
    ) -> None:
        self._volume = volume
        self._image = image
        self._on_picture = on_picture
        self._background = background
        self._sample_distance = sample_distance
        self._lock = threading.Condition()
        self._pending: StillRequest | None = None
        self._drawing: int | None = None  # generation being drawn
        self._closing = False
        self._picture: OffscreenPicture | None = None  # made, used, closed by the worker
        self.pictures_drawn = 0
        #: Seconds the last picture handed over took to draw (and read back).
        self.last_draw_s = 0.0
        self._thread = threading.Thread(target=self._run, name="mpr-3d-still", daemon=True)
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def busy(self) -> bool:
        """A picture is being drawn now."""
        with self._lock:
            return self._drawing is not None

    def request(self, request: StillRequest) -> None:
        """Draw `request` next (replaces a pending one; aborts an older one in progress)."""
        with self._lock:
            if self._closing:
                return
            self._pending = request
            if self._drawing is not None and self._drawing != request.generation:
                self._abort_locked()
            self._lock.notify()

    def cancel(self) -> None:
        """Forget the pending request and abort the picture being drawn."""
        with self._lock:
            self._pending = None
            if self._drawing is not None:
                self._abort_locked()

    def close(self, timeout: float = CLOSE_WAIT_S) -> bool:
        """Abort, let the worker finalize its window, join it; False if it did not end
        within `timeout` seconds (it then ends on its own, touching nothing shown, and
        the interpreter's exit waits for it)."""
        with self._lock:
            self._closing = True
            self._pending = None
            self._abort_locked()
            self._lock.notify()
        self._thread.join(timeout)
        if self._thread.is_alive():
            logger.debug("the 3-D still-picture worker ends on its own (it was busy)")
            return False
        return True

    def _abort_locked(self) -> None:
        if self._picture is not None:
            self._picture.abort()

    def _run(self) -> None:
        lower_this_thread()  # the ray cast's helper threads give way to the GUI thread
        with _ending_lock:
            _ending.add(self._thread)
        try:
            while True:
                with self._lock:
                    while self._pending is None and not self._closing:
                        self._lock.wait()
                    request, self._pending = self._pending, None
                    if self._closing or request is None:
                        return
                    self._drawing = request.generation
                    if self._picture is not None:
                        self._picture.allow()
                started = time.perf_counter()
                rgb = self._draw(request)
                with self._lock:
                    self._drawing = None
                if rgb is not None:
                    self.last_draw_s = time.perf_counter() - started
                    self.pictures_drawn += 1
                    self._on_picture(request.generation, rgb)
        finally:
            with self._lock:
                picture, self._picture = self._picture, None
            if picture is not None:
                picture.close()
            with _ending_lock:
                _ending.discard(self._thread)

    def _draw(self, request: StillRequest) -> np.ndarray | None:
        try:
            if self._picture is None:
                picture = OffscreenPicture(
                    self._volume, image=self._image, size=request.size,
                    background=self._background, sample_distance=self._sample_distance,
                )  # fmt: skip
                with self._lock:
                    self._picture = picture
                    if self._closing:
                        return None
            return self._picture.draw(request.look, request.pose, request.size)
        except Exception:  # the view keeps its live picture; never lost in the thread
            logger.exception("drawing a 3-D still picture failed")
            return None
