"""One crosshair point in LPS per Frame of Reference, shared by the views that read it.

The MPR window publishes its crosshair here and follows the point others put here; the
2-D viewer shows the point as a mark on the viewports of the same Frame of Reference
(jumping to the nearest slice) and puts a point here when the user Shift+clicks an
image. Neither side knows the other: both subscribe to this object (no Qt, no VTK),
which lives here because MPR sits above the viewer in the layers.

A listener is called with ``(frame_of_reference_uid, point_mm, source)``; `source` is
whatever the publisher passed (a publisher ignores its own announcements by it). Points
are only shared within one Frame of Reference: without one nothing is published.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from workstation.events import Event

#: A point in LPS millimetres.
Vector = Sequence[float] | np.ndarray

LinkListener = Callable[[str, np.ndarray, object], None]


class CrosshairLink:
    """The latest crosshair point of each Frame of Reference, with listeners."""

    def __init__(self) -> None:
        self._points: dict[str, np.ndarray] = {}
        self.moved = Event("crosshair link")
        self._announcing = False

    def subscribe(self, listener: LinkListener) -> Callable[[], None]:
        """Hear every new point; the returned function unsubscribes."""
        return self.moved.connect(listener)

    def point(self, frame_of_reference_uid: str) -> np.ndarray | None:
        """The last point published in that Frame of Reference, or None."""
        found = self._points.get(frame_of_reference_uid)
        return None if found is None else found.copy()

    def publish(self, frame_of_reference_uid: str, point_mm: Vector, source: object) -> None:
        """`source` moved the crosshair of `frame_of_reference_uid` to `point_mm`. A
        listener that publishes while being told (a view following the point) does not
        echo the point back round."""
        if not frame_of_reference_uid or self._announcing:
            return
        point = np.asarray(point_mm, dtype=float).reshape(3).copy()
        if not np.all(np.isfinite(point)):
            raise ValueError("a crosshair point must be finite")
        self._points[frame_of_reference_uid] = point
        self._announcing = True
        try:
            self.moved.emit(frame_of_reference_uid, point.copy(), source)
        finally:
            self._announcing = False

    def forget(self, frame_of_reference_uid: str) -> None:
        self._points.pop(frame_of_reference_uid, None)
