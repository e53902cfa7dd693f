"""A whole reformatted stack: parallel planes (thin or slabs) covering a volume.

:func:`reformat_planes` turns a :class:`ReformatRequest` (axial, coronal, sagittal or an
oblique normal, in-plane spacing, step between planes, optional slab) into the planes;
:func:`reformat` samples them. Both are plain calls the CLI, the GUI and tests share.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from workstation.mpr.geometry import (
    Plane,
    PlaneKind,
    Slab,
    oblique_plane,
    plane_stack,
    standard_plane,
)
from workstation.mpr.reslice import Reslicer
from workstation.mpr.volume import MprVolume

#: Most planes one reformat produces (a sanity cap: ~2 m at 0.5 mm).
MAX_PLANES = 4000


@dataclass(frozen=True)
class ReformatRequest:
    """What to reformat; None means "from the volume" (finest voxel spacing)."""

    kind: PlaneKind = PlaneKind.AXIAL
    normal: tuple[float, float, float] | None = None
    row: tuple[float, float, float] | None = None
    spacing_mm: float | None = None
    step_mm: float | None = None
    slab: Slab | None = None


def reformat_planes(volume: MprVolume, request: ReformatRequest) -> list[Plane]:
    """The parallel planes of `request` covering `volume`, first to last along the normal."""
    finest = min(volume.spacing_mm)
    spacing = request.spacing_mm or finest
    corners, centre = volume.corners_mm(), volume.centre_mm()
    if request.kind is PlaneKind.OBLIQUE:
        if request.normal is None:
            raise ValueError("an oblique plane needs a normal")
        base = oblique_plane(corners, request.normal, spacing, centre, request.row)
    else:
        base = standard_plane(request.kind, corners, spacing, centre)
    step = request.step_mm or max(finest, spacing)
    planes = plane_stack(base, corners, step)
    if len(planes) > MAX_PLANES:
        raise ValueError(f"{len(planes)} planes exceed the limit of {MAX_PLANES}")
    return planes


def reformat(
    volume: MprVolume,
    planes: Sequence[Plane],
    slab: Slab | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
) -> list[np.ndarray]:
    """Modality values of every plane (stops early, shorter, when `cancel` is set)."""
    reslicer = Reslicer(volume)
    out = []
    for n, plane in enumerate(planes):
        if cancel is not None and cancel.is_set():
            break
        out.append(reslicer.plane(plane, slab))
        if progress is not None:
            progress(n + 1, len(planes))
    return out
