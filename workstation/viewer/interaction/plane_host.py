"""The tool host of a reformatted (MPR) plane: the plane's values, annotations in LPS.

A plane knows its own geometry (row and column vectors, spacing, origin in LPS), so the
same tools measure on it as on a 2-D frame: :func:`plane_geometry` turns it into the
:class:`~workstation.viewer.frames.FrameGeometry` the measurements use. Annotations made
on planes belong to no SOP instance; :class:`PlaneAnnotations` keeps them by their LPS
points (for the life of the MPR window) and shows each on any plane it lies in, in that
plane's pixels, so scrolling away hides it and scrolling back shows it again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from workstation.viewer.annotations import Annotation, Kind
from workstation.viewer.frames import DisplayFrame, FrameGeometry
from workstation.viewer.interaction.host import never_ask_text
from workstation.viewer.model import Event


class PlaneLike(Protocol):
    """What the tools need of a plane (``workstation.mpr.geometry.Plane`` has it)."""

    @property
    def row(self) -> tuple[float, float, float]: ...

    @property
    def column(self) -> tuple[float, float, float]: ...

    @property
    def spacing_mm(self) -> float: ...

    @property
    def size(self) -> tuple[int, int]: ...

    @property
    def origin_mm(self) -> np.ndarray: ...

    def patient_to_pixel(self, xyz: np.ndarray) -> np.ndarray: ...

    def distance_mm(self, xyz: np.ndarray) -> np.ndarray: ...


def plane_geometry(plane: PlaneLike, frame_of_reference_uid: str = "") -> FrameGeometry:
    """The frame geometry of a sampled plane: square pixels of ``spacing_mm``, Image
    Position at pixel (0, 0), orientation from the plane's row and column vectors."""
    origin = np.asarray(plane.origin_mm, dtype=float)
    orientation = tuple(float(v) for v in (*plane.row, *plane.column))
    return FrameGeometry(
        rows=int(plane.size[1]),
        columns=int(plane.size[0]),
        pixel_spacing_mm=(float(plane.spacing_mm), float(plane.spacing_mm)),
        calibration_source="pixel_spacing",
        image_position=(float(origin[0]), float(origin[1]), float(origin[2])),
        image_orientation=orientation,  # type: ignore[arg-type]
        frame_of_reference_uid=frame_of_reference_uid,
    )


class PlaneAnnotations:
    """Annotations drawn on the planes of one volume, kept by their LPS points."""

    def __init__(self) -> None:
        self._items: dict[str, Annotation] = {}
        self.changed = Event()

    def all(self) -> list[Annotation]:
        return list(self._items.values())

    def on_plane(self, plane: PlaneLike) -> list[Annotation]:
        """Those lying in ``plane`` (within half its spacing), points in its pixels."""
        out = []
        for a in self._items.values():
            lps = a.results.get("points_lps")
            if not lps:
                continue
            xyz = np.asarray(lps, dtype=float)
            if np.abs(plane.distance_mm(xyz)).max() > plane.spacing_mm / 2.0:
                continue
            pixels = plane.patient_to_pixel(xyz)
            out.append(replace(a, points=tuple((float(c), float(r)) for c, r in pixels)))
        return out

    def store(self, a: Annotation) -> bool:
        if not a.results.get("points_lps"):
            return False
        self._items[a.annotation_id] = a
        self.changed.emit()
        return True

    def remove(self, annotation_id: str) -> None:
        if self._items.pop(annotation_id, None) is not None:
            self.changed.emit()


@dataclass(eq=False)
class PlaneToolHost:
    """:class:`~workstation.viewer.interaction.host.ToolHost` for one MPR plane.

    ``plane()`` gives the plane now; ``values()`` its modality values (HU for CT) at full
    quality, as the picture shows them (a slab: the slab's values). The values are
    sampled once per plane; call :meth:`invalidate` when they change otherwise (slab).
    """

    annotations_store: PlaneAnnotations
    plane: Callable[[], PlaneLike]
    values: Callable[[], np.ndarray]
    units: str = ""
    frame_of_reference_uid: str = ""
    series_uid: str = ""
    ask_text: Callable[[Kind], str | None] = never_ask_text
    _cached: tuple[PlaneLike, DisplayFrame] | None = field(default=None, init=False)

    def invalidate(self) -> None:
        self._cached = None

    def frame(self) -> DisplayFrame:
        plane = self.plane()
        if self._cached is not None and self._cached[0] == plane:
            return self._cached[1]
        geometry = plane_geometry(plane, self.frame_of_reference_uid)
        frame = DisplayFrame("", 0, geometry, np.asarray(self.values()), units=self.units)
        self._cached = (plane, frame)
        return frame

    def annotations(self) -> list[Annotation]:
        return self.annotations_store.on_plane(self.plane())

    def new_annotation(
        self, kind: Kind, points: tuple[tuple[float, float], ...], text: str
    ) -> Annotation:
        return Annotation(kind, points, "", 0, series_instance_uid=self.series_uid, text=text)

    def store(self, annotation: Annotation) -> bool:
        return self.annotations_store.store(annotation)

    def remove(self, annotation_id: str) -> None:
        self.annotations_store.remove(annotation_id)
