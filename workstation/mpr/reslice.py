"""Sampling planes and slabs from an :class:`~workstation.mpr.volume.MprVolume`.

:class:`Reslicer` is the engine's entry point: it returns modality values (HU for CT)
for a :class:`~workstation.mpr.geometry.Plane`, thin or as a slab. The sampling runs in
``vtkImageReslice`` (``_vtk/vtk_reslice.py``, imported on first use); this module
imports no VTK itself, so code that only plans planes stays light.

``preview`` quality is for interaction (a drag, a scroll): the plane sampled at half
resolution (nearest neighbour, slab samples twice as far apart) and each sample shown
as 2 x 2 pixels, so the picture keeps its size and place (within half a pixel);
``full`` is trilinear at every pixel and the requested step.
"""

from __future__ import annotations

import enum
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from workstation.mpr.geometry import Plane, Slab
from workstation.mpr.volume import MprVolume

if TYPE_CHECKING:
    from workstation.mpr._vtk.vtk_reslice import VtkReslicer


class Quality(enum.StrEnum):
    PREVIEW = "preview"
    FULL = "full"


class Reslicer:
    """Planes of one volume in modality units."""

    def __init__(self, volume: MprVolume) -> None:
        self.volume = volume
        self._vtk: VtkReslicer | None = None

    def _backend(self) -> Any:
        if self._vtk is None:
            from workstation.mpr._vtk.vtk_reslice import VtkReslicer

            self._vtk = VtkReslicer(self.volume)
        return self._vtk

    def plane(
        self, plane: Plane, slab: Slab | None = None, quality: Quality = Quality.FULL
    ) -> np.ndarray:
        """Modality values on `plane` (rows, columns)."""
        return self.volume.to_modality(self.voxels(plane, slab, quality))

    def voxels(
        self, plane: Plane, slab: Slab | None = None, quality: Quality = Quality.FULL
    ) -> np.ndarray:
        """Stored voxel values on `plane` (rows, columns): the volume's integer type,
        float32 for an average slab; :meth:`MprVolume.to_modality` makes them HU."""
        values, step = self.sampled_voxels(plane, slab, quality)
        return upsampled(values, step, plane.size)

    def sampled_voxels(
        self, plane: Plane, slab: Slab | None = None, quality: Quality = Quality.FULL
    ) -> tuple[np.ndarray, int]:
        """Stored voxel values as sampled, and the step: at preview quality every
        second pixel (step 2, each sample standing for 2 x 2 pixels of `plane`), else
        every pixel (step 1). A view can show the samples as they are, magnified."""
        if quality is Quality.PREVIEW:
            w, h = plane.size
            coarse = replace(
                plane, spacing_mm=plane.spacing_mm * 2.0, size=((w + 1) // 2, (h + 1) // 2)
            )
            if slab is not None and slab.samples > 1:
                slab = replace(slab, step_mm=slab.step_mm * 2.0)
            return self._backend().reslice(coarse, slab, "nearest"), 2
        values: np.ndarray = self._backend().reslice(plane, slab, "linear")
        return values, 1

    def close(self) -> None:
        self._vtk = None


def upsampled(values: np.ndarray, step: int, size: tuple[int, int]) -> np.ndarray:
    """Samples taken every `step` pixels as a picture of `size` (columns, rows): each
    sample repeated over step x step pixels."""
    if step == 1:
        return values
    w, h = size
    full: np.ndarray = np.repeat(np.repeat(values, step, axis=0), step, axis=1)[:h, :w]
    return full
