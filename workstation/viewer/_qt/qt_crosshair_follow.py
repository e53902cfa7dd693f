"""The 2-D viewer's side of the shared MPR crosshair (see
:mod:`workstation.viewer.crosshair_link`).

When an MPR window of the same Frame of Reference moves its crosshair, every viewport
of that Frame of Reference jumps to the slice nearest the point and shows a small
cross there (drawn with the reference lines). Shift + left click on an image puts the
crosshair at that point: the MPR windows and the other viewports follow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QPointF

from workstation.viewer import geometry
from workstation.viewer.crosshair_link import CrosshairLink
from workstation.viewer.crosshair_mark import (
    Segment,
    mark_segments,
    nearest_slice,
    slice_gap_mm,
)

if TYPE_CHECKING:
    from workstation.viewer._qt.qt_viewer import QtViewer
    from workstation.viewer._qt.qt_viewport import QtViewport
    from workstation.viewer.frames import DisplayFrame
    from workstation.viewer.model import Viewport


class CrosshairFollower:
    """Follows `link` in `viewer`'s viewports and publishes Shift+clicks to it."""

    def __init__(self, viewer: QtViewer, link: CrosshairLink | None = None) -> None:
        self.viewer = viewer
        self.link = link or CrosshairLink()
        #: (Frame of Reference UID, LPS point) of the last crosshair, or None.
        self.point: tuple[str, np.ndarray] | None = None
        self._gaps: dict[str, float] = {}
        self._unsubscribe = self.link.subscribe(self._on_point)

    def close(self) -> None:
        self._unsubscribe()

    def _on_point(self, for_uid: str, point: np.ndarray, source: object) -> None:
        self.point = (for_uid, point)
        for vp in self.viewer.model.viewports:
            if vp is source or vp.source is None or vp.frame_of_reference_uid != for_uid:
                continue
            index = nearest_slice(self._geometries(vp), point)
            if index is not None and index != vp.index:
                vp.set_index(index)
        self.viewer.update_reference_lines()

    def _geometries(self, vp: Viewport) -> list:
        assert vp.source is not None
        return [vp.source.ref(i).geometry for i in range(vp.count)]

    def marks(self, vp: Viewport, frame: DisplayFrame | None) -> list[Segment]:
        """The cross on `vp`'s frame where the crosshair is (empty when elsewhere)."""
        if self.point is None or frame is None or vp.source is None:
            return []
        for_uid, point = self.point
        if vp.frame_of_reference_uid != for_uid or not frame.geometry.has_plane:
            return []
        if vp.series_uid not in self._gaps:
            self._gaps[vp.series_uid] = slice_gap_mm(self._geometries(vp))
        return mark_segments(frame.geometry, point, 0.5 * self._gaps[vp.series_uid])

    def click(self, view: QtViewport, pos: QPointF) -> bool:
        """Shift + click at `pos` in `view`: publish that point; False if the image has
        no place in a Frame of Reference."""
        vp = view.viewport
        frame = vp.current_frame()
        at = view.image_point(pos)
        if frame is None or at is None or not frame.geometry.has_plane:
            return False
        if not vp.frame_of_reference_uid:
            return False
        point = geometry.pixel_to_patient(frame.geometry, at[0], at[1])
        self.link.publish(vp.frame_of_reference_uid, point, vp)
        return True
