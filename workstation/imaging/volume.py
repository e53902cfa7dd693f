"""A regular volume for MPR and 3D: int16 voxels in one array, with its patient geometry.

:func:`assemble_volume` sorts frames along the slice normal, checks they form a regular
grid (:func:`~workstation.imaging.geometry.check_stack`), allocates the int16 array once
and copies each slice in. When the modality values fit int16 (CT in HU, most MR) the
voxels *are* the modality values; otherwise ``value = voxel * value_slope +
value_intercept``. The ``on_slice`` callback lets a cache swap its per-frame arrays for
views into the volume, so the series is held once.

Index order is ``voxels[k, j, i]`` = (slice, row, column); the affine maps ``(i, j, k, 1)``
to LPS millimetres.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from workstation.i18n import _
from workstation.imaging import limits
from workstation.imaging.errors import CannotDisplay
from workstation.imaging.frame import Frame
from workstation.imaging.geometry import PlaneGeometry, check_stack
from workstation.imaging.header import FrameInfo
from workstation.imaging.memory import populated_empty

#: Called with (index in the input, slice index in the volume, the volume slice) when the
#: slice holds exactly the frame's modality values (value slope 1, intercept 0).
SliceCallback = Callable[[int, int, np.ndarray], None]


@dataclass(frozen=True, eq=False)
class Volume:
    """Voxels and where they are in the patient.

    Attributes
    ----------
    voxels : numpy.ndarray
        int16, shape (slices, rows, columns), C-contiguous.
    origin_mm : tuple of float
        LPS position of the centre of voxel (0, 0, 0).
    spacing_mm : tuple of float
        (column, row, slice) spacing: x, y, z in VTK's terms.
    direction : numpy.ndarray
        3x3; its columns are the unit vectors of increasing column, row and slice index.
    value_slope, value_intercept : float
        modality value = voxel * value_slope + value_intercept (1 and 0 for CT).
    frames : tuple of FrameInfo
        The frame of each slice, in volume order.
    """

    voxels: np.ndarray
    origin_mm: tuple[float, float, float]
    spacing_mm: tuple[float, float, float]
    direction: np.ndarray
    value_slope: float = 1.0
    value_intercept: float = 0.0
    frames: tuple[FrameInfo, ...] = ()

    @property
    def shape(self) -> tuple[int, int, int]:
        k, j, i = self.voxels.shape
        return int(k), int(j), int(i)

    @property
    def nbytes(self) -> int:
        return int(self.voxels.nbytes)

    @property
    def affine(self) -> np.ndarray:
        """4x4 matrix from (column, row, slice, 1) indices to LPS millimetres."""
        out = np.eye(4)
        out[:3, :3] = self.direction * np.asarray(self.spacing_mm)
        out[:3, 3] = self.origin_mm
        return out

    def index_to_patient(self, ijk: Sequence[float]) -> np.ndarray:
        return (self.affine @ np.array([*ijk[:3], 1.0]))[:3]

    def patient_to_index(self, xyz: Sequence[float]) -> np.ndarray:
        return (np.linalg.inv(self.affine) @ np.array([*xyz[:3], 1.0]))[:3]

    def modality_values(self) -> np.ndarray:
        """The voxels in modality units (the voxels themselves when slope 1, intercept 0)."""
        if self.value_slope == 1.0 and self.value_intercept == 0.0:
            return self.voxels
        return self.voxels * np.float32(self.value_slope) + np.float32(self.value_intercept)


def assemble_volume(
    frames: Sequence[Frame], *, on_slice: SliceCallback | None = None
) -> Volume | CannotDisplay:
    """Build a :class:`Volume` from greyscale frames of one stack, in any order."""
    if any(f.is_color for f in frames):
        return CannotDisplay(_("Colour images cannot be stacked into a volume."))
    planes = [f.info.geometry for f in frames]
    check = check_stack(planes, [f.shape for f in frames])
    if not check.ok or check.spacing_mm is None:
        return CannotDisplay(check.reason or _("These images do not form a volume."))
    rows, cols = frames[0].shape
    if len(frames) * rows * cols * 2 > limits.MAX_VOLUME_BYTES:
        return CannotDisplay(_("This series is too large to hold as a volume."))
    slope, intercept = _value_mapping(frames)
    voxels = populated_empty((len(frames), rows, cols), np.int16)
    for k, index in enumerate(check.order):
        _copy_slice(frames[index], voxels[k], slope, intercept)
        if on_slice is not None and slope == 1.0 and intercept == 0.0:
            on_slice(index, k, voxels[k])
    first = planes[check.order[0]]
    assert first is not None and first.pixel_spacing_mm is not None  # checked above
    return Volume(
        voxels=voxels,
        origin_mm=first.position,
        spacing_mm=(first.pixel_spacing_mm[1], first.pixel_spacing_mm[0], check.spacing_mm),
        direction=_direction(first),
        value_slope=slope,
        value_intercept=intercept,
        frames=tuple(frames[i].info for i in check.order),
    )


def _direction(plane: PlaneGeometry) -> np.ndarray:
    return np.column_stack(
        [np.asarray(plane.row_cosines), np.asarray(plane.column_cosines), plane.normal]
    )


def _value_mapping(frames: Sequence[Frame]) -> tuple[float, float]:
    """(slope, intercept) so that modality = voxel * slope + intercept fits int16."""
    lo, hi, integral = np.inf, -np.inf, True
    for f in frames:
        values = f.modality_values()
        if values.size:
            lo, hi = min(lo, float(values.min())), max(hi, float(values.max()))
        integral = integral and values.dtype.kind in "iu"
    if not np.isfinite(lo):
        return 1.0, 0.0
    if integral and lo >= -32768 and hi <= 32767:
        return 1.0, 0.0
    if integral and hi - lo <= 65535:
        return 1.0, float(lo + 32768)
    slope = max((hi - lo) / 65535.0, 1e-12)
    return slope, lo + 32768.0 * slope


def _copy_slice(frame: Frame, out: np.ndarray, slope: float, intercept: float) -> None:
    values = frame.modality_values()
    if slope == 1.0 and intercept == 0.0:
        np.copyto(out, values, casting="unsafe")
    elif slope == 1.0:
        np.copyto(out, values.astype(np.int32) - int(intercept), casting="unsafe")
    else:
        np.copyto(out, np.rint((values - intercept) / slope), casting="unsafe")
