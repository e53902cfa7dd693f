"""The state of linked MPR views, without Qt: crosshair, planes, windows, slabs.

:class:`MprViewState` holds one crosshair point in LPS shared by three planes
(axial, coronal, sagittal to start with). Moving the crosshair moves every plane
through it; scrolling a plane moves the crosshair along that plane's normal; rotating
in one plane turns the *other* two about its normal through the crosshair (oblique and
double-oblique reading). Each plane has its own window and slab. Listeners are called
with the indices of the planes whose picture changed; a Qt view re-renders those.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from workstation.events import Event
from workstation.imaging.orientation import OrientationLabels
from workstation.imaging.windowing import VoiWindow, apply_voi
from workstation.mpr.geometry import (
    Plane,
    PlaneKind,
    Slab,
    Vector,
    covering_plane,
    plane_labels,
    rotation_matrix,
    standard_plane,
)
from workstation.mpr.reslice import Quality, Reslicer
from workstation.mpr.volume import MprVolume

Listener = Callable[[tuple[int, ...]], None]
STANDARD_KINDS = (PlaneKind.AXIAL, PlaneKind.CORONAL, PlaneKind.SAGITTAL)


@dataclass(frozen=True)
class PlaneView:
    """One plane and how it is shown."""

    plane: Plane
    window: VoiWindow
    slab: Slab | None = None


class MprViewState:
    """Linked planes through one crosshair (see the module docstring)."""

    def __init__(self, volume: MprVolume, window: tuple[float, float] = (40.0, 400.0)) -> None:
        self.volume = volume
        self.reslicer = Reslicer(volume)
        self._corners = volume.corners_mm()
        self.spacing_mm = min(volume.spacing_mm)
        self.crosshair = volume.centre_mm()
        voi = VoiWindow(*window)
        self.views = [
            PlaneView(standard_plane(k, self._corners, self.spacing_mm, self.crosshair), voi)
            for k in STANDARD_KINDS
        ]
        self.changed = Event("MPR planes")
        #: PREVIEW while the user drags (every plane samples faster), FULL when still.
        self.quality = Quality.FULL

    def subscribe(self, listener: Listener) -> None:
        self.changed.connect(listener)

    def _changed(self, indices: Sequence[int]) -> None:
        self.changed.emit(tuple(indices))

    # -- moving ----------------------------------------------------------------------------
    def set_crosshair(self, point_mm: Vector) -> None:
        """Put the crosshair at `point_mm` (clamped to the volume's box)."""
        lo, hi = self._corners.min(axis=0), self._corners.max(axis=0)
        self.crosshair = np.clip(np.asarray(point_mm, dtype=float), lo, hi)
        self.views = [replace(v, plane=v.plane.moved_to(self.crosshair)) for v in self.views]
        self._changed(range(len(self.views)))

    def click(self, index: int, column: float, row: float) -> None:
        """The user pointed at pixel (column, row) of plane `index`."""
        self.set_crosshair(self.views[index].plane.pixel_to_patient(np.array([column, row])))

    def scroll(self, index: int, steps: float) -> None:
        """Move plane `index` (and the crosshair) `steps` voxel spacings along its normal."""
        normal = self.views[index].plane.normal
        self.set_crosshair(self.crosshair + steps * self.spacing_mm * normal)

    def rotate(self, index: int, angle_deg: float) -> None:
        """Turn the other planes about plane `index`'s normal through the crosshair."""
        rot = rotation_matrix(self.views[index].plane.normal, angle_deg)
        for i, view in enumerate(self.views):
            if i == index:
                continue
            p = view.plane
            row, column = rot @ np.asarray(p.row), rot @ np.asarray(p.column)
            plane = covering_plane(
                self._corners, row, column, p.spacing_mm, self.crosshair, PlaneKind.OBLIQUE
            )
            self.views[i] = replace(view, plane=plane)
        self._changed([i for i in range(len(self.views)) if i != index] + [index])

    def reset(self) -> None:
        """Back to axial, coronal and sagittal through the current crosshair."""
        self.views = [
            replace(v, plane=standard_plane(k, self._corners, self.spacing_mm, self.crosshair))
            for v, k in zip(self.views, STANDARD_KINDS, strict=True)
        ]
        self._changed(range(len(self.views)))

    # -- presentation ------------------------------------------------------------------------
    def set_window(self, index: int, centre: float, width: float) -> None:
        self.views[index] = replace(self.views[index], window=VoiWindow(centre, max(width, 1.0)))
        self._changed([index])

    def set_slab(self, slab: Slab | None, indices: Sequence[int] | None = None) -> None:
        """A slab (None: thin) on the given planes (default all)."""
        chosen = range(len(self.views)) if indices is None else indices
        for i in chosen:
            self.views[i] = replace(self.views[i], slab=slab)
        self._changed(list(chosen))

    def set_quality(self, quality: Quality) -> None:
        """Preview while interacting; back to FULL refines every plane."""
        if quality is self.quality:
            return
        self.quality = quality
        if quality is Quality.FULL:
            self._changed(range(len(self.views)))

    # -- reading -------------------------------------------------------------------------------
    def values(self, index: int, quality: Quality | None = None) -> np.ndarray:
        """Modality values of plane `index` (at the state's quality by default)."""
        view = self.views[index]
        return self.reslicer.plane(view.plane, view.slab, quality or self.quality)

    def display_u8(self, index: int, quality: Quality | None = None) -> np.ndarray:
        """The plane as 8-bit grey through its window (rows, columns)."""
        levels = apply_voi(self.values(index, quality), self.views[index].window)
        return np.rint(levels).astype(np.uint8)

    def crosshair_pixel(self, index: int) -> np.ndarray:
        return self.views[index].plane.patient_to_pixel(self.crosshair)

    def labels(self, index: int) -> OrientationLabels:
        return plane_labels(self.views[index].plane)

    def line_in(self, index: int, other: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Where plane `other` cuts plane `index`: two pixel points on the edges, or None."""
        a, b = self.views[index].plane, self.views[other].plane
        direction = np.cross(a.normal, b.normal)
        norm = float(np.linalg.norm(direction))
        if norm < 1e-6:
            return None
        direction = direction / norm
        half = 0.5 * max(a.size) * a.spacing_mm * 1.5
        ends = [self.crosshair - half * direction, self.crosshair + half * direction]
        return a.patient_to_pixel(ends[0]), a.patient_to_pixel(ends[1])
