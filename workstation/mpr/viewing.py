"""The state of linked MPR views, without Qt: crosshair, planes, windows, slabs.

:class:`MprViewState` holds one crosshair point in LPS shared by three planes
(axial, coronal, sagittal to start with). Moving the crosshair moves every plane
through it; scrolling a plane moves the crosshair along that plane's normal; rotating
in one plane turns the *other* two about its normal through the crosshair (oblique and
double-oblique reading). Each plane has its own window and slab. Listeners are called
with the indices of the planes whose picture changed (a view redraws only those
pictures; the crosshair lines and handles on every plane follow each call).

The crosshair can be shared in LPS with other views of the same Frame of Reference
through a :class:`~workstation.viewer.crosshair_link.CrosshairLink` (:meth:`link_to`).
Each plane's slab thickness is set by a handle on its crosshair line
(:mod:`workstation.mpr.crosshair_handles`) or by the window's slab controls.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from workstation.events import Event
from workstation.imaging.orientation import OrientationLabels
from workstation.imaging.windowing import VoiWindow, apply_voi
from workstation.mpr.geometry import (
    MAX_SLAB_MM,
    Plane,
    PlaneKind,
    Slab,
    SlabMode,
    Vector,
    covering_plane,
    plane_labels,
    rotation_matrix,
    standard_plane,
)
from workstation.mpr.reslice import Quality, Reslicer, upsampled
from workstation.mpr.volume import MprVolume
from workstation.viewer.crosshair_link import CrosshairLink

Listener = Callable[[tuple[int, ...]], None]
STANDARD_KINDS = (PlaneKind.AXIAL, PlaneKind.CORONAL, PlaneKind.SAGITTAL)
#: A slab handle dragged below this thickness leaves the plane thin.
THIN_BELOW_MM = 1.0
#: Integer voxel ranges up to this many values are windowed through a lookup table.
_LUT_MAX_ENTRIES = 1 << 17


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
        #: How a slab made by dragging a thin plane's slab handle combines its samples.
        self.slab_mode = SlabMode.MIP
        self._link: CrosshairLink | None = None
        self._link_for = ""
        self._unlink: Callable[[], None] | None = None
        self._luts: dict[VoiWindow, tuple[int, np.ndarray]] = {}

    def subscribe(self, listener: Listener) -> None:
        self.changed.connect(listener)

    def _changed(self, indices: Sequence[int]) -> None:
        self.changed.emit(tuple(indices))

    # -- the shared crosshair --------------------------------------------------------------
    def link_to(self, link: CrosshairLink | None) -> None:
        """Share the crosshair with the other views of this volume's Frame of Reference
        (None: stop). A point already published there is taken over."""
        if self._unlink is not None:
            self._unlink()
            self._unlink = None
        self._link, self._link_for = link, self.volume.frame_of_reference_uid
        if link is None or not self._link_for:
            return
        self._unlink = link.subscribe(self._on_linked_point)
        known = link.point(self._link_for)
        if known is not None:
            self.set_crosshair(known, publish=False)
        else:
            link.publish(self._link_for, self.crosshair, self)

    def _on_linked_point(self, for_uid: str, point: np.ndarray, source: object) -> None:
        if source is not self and for_uid == self._link_for:
            self.set_crosshair(point, publish=False)

    def close(self) -> None:
        self.link_to(None)
        self.changed.clear()

    # -- moving ----------------------------------------------------------------------------
    def set_crosshair(self, point_mm: Vector, *, publish: bool = True) -> None:
        """Put the crosshair at `point_mm` (clamped to the volume's box). Only planes that
        the move shifts are re-sampled; the others just redraw their lines."""
        lo, hi = self._corners.min(axis=0), self._corners.max(axis=0)
        self.crosshair = np.clip(np.asarray(point_mm, dtype=float), lo, hi)
        moved = []
        for i, view in enumerate(self.views):
            if abs(float(view.plane.distance_mm(self.crosshair))) > 1e-6:
                self.views[i] = replace(view, plane=view.plane.moved_to(self.crosshair))
                moved.append(i)
        self._changed(moved)
        if publish and self._link is not None:
            self._link.publish(self._link_for, self.crosshair, self)

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
        self._changed([i for i in range(len(self.views)) if i != index])

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

    def set_slab_thickness(self, index: int, thickness_mm: float) -> None:
        """Plane `index`'s slab as thick as `thickness_mm` (clamped to 0-50 mm; below
        1 mm thin), in its slab's mode or, for a thin plane, :attr:`slab_mode`."""
        thickness = min(max(float(thickness_mm), 0.0), MAX_SLAB_MM)
        current = self.views[index].slab
        if thickness < THIN_BELOW_MM:
            slab = None
        elif current is not None:
            slab = replace(current, thickness_mm=thickness)
        else:
            slab = Slab(thickness, self.slab_mode)
        if slab != current:
            self.set_slab(slab, [index])

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
        picture, step = self.sampled_u8(index, quality)
        return upsampled(picture, step, self.views[index].plane.size)

    def sampled_u8(self, index: int, quality: Quality | None = None) -> tuple[np.ndarray, int]:
        """The plane's samples as 8-bit grey through its window, and the step (see
        :meth:`Reslicer.sampled_voxels`: 2 at preview quality, a sample standing for
        2 x 2 pixels). Integer voxels go through a lookup table made once per window
        (the same :func:`apply_voi`, ~10x faster than windowing every pixel)."""
        view = self.views[index]
        voxels, step = self.reslicer.sampled_voxels(view.plane, view.slab, quality or self.quality)
        if voxels.dtype.kind in "iu":
            lut = self._lut(view.window)
            if lut is not None:
                offset, table = lut
                return table[voxels.astype(np.int64) - offset], step
        levels = apply_voi(self.volume.to_modality(voxels), view.window)
        return np.rint(levels).astype(np.uint8), step

    def _lut(self, window: VoiWindow) -> tuple[int, np.ndarray] | None:
        found = self._luts.get(window)
        if found is None:
            voxels = self.volume.voxels
            if voxels.dtype.kind not in "iu" or voxels.dtype.itemsize > 2:
                return None
            info = np.iinfo(voxels.dtype)
            if info.max - info.min + 1 > _LUT_MAX_ENTRIES:
                return None
            stored = np.arange(info.min, info.max + 1, dtype=np.int64)
            levels = apply_voi(self.volume.to_modality(stored), window)
            found = (int(info.min), np.rint(levels).astype(np.uint8))
            if len(self._luts) > 8:
                self._luts.clear()
            self._luts[window] = found
        return found

    def crosshair_pixel(self, index: int) -> np.ndarray:
        return self.views[index].plane.patient_to_pixel(self.crosshair)

    def labels(self, index: int) -> OrientationLabels:
        return plane_labels(self.views[index].plane)

    def line_in(self, index: int, other: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Where plane `other` cuts plane `index`: two pixel points on the edges, or None."""
        a, b = self.views[index].plane, self.views[other].plane
        direction = _cross(_cross(a.row, a.column), _cross(b.row, b.column))
        norm = float(np.linalg.norm(direction))
        if norm < 1e-6:
            return None
        direction = direction / norm
        half = 0.5 * max(a.size) * a.spacing_mm * 1.5
        ends = [self.crosshair - half * direction, self.crosshair + half * direction]
        return a.patient_to_pixel(ends[0]), a.patient_to_pixel(ends[1])


def _cross(u: Sequence[float] | np.ndarray, v: Sequence[float] | np.ndarray) -> np.ndarray:
    """u x v for two 3-vectors (numpy's general cross costs ~50 us a call; the overlay
    asks for a dozen lines every frame)."""
    return np.array(
        [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]]
    )
