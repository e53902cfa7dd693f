"""The volume MPR and 3-D read: int16 voxels held once, with their exact affine.

:func:`build_mpr_volume` examines the frames (:func:`~workstation.mpr.stack.examine_stack`),
picks one phase, and stacks it through :func:`workstation.imaging.volume.assemble_volume`
(the one imaging core: value mapping, int16, one allocation). The affine it keeps is the
stack's own: for a tilted gantry its slice axis is the sheared step between slices, so
every plane is sampled where the slices really are. Uneven gaps are resampled (linear
along the slice axis) onto the median spacing, and the warning names each gap.

Index order is ``voxels[k, j, i]`` = (slice, row, column); ``affine`` maps
``(i, j, k, 1)`` to LPS millimetres and need not be orthogonal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from workstation.i18n import _
from workstation.imaging.errors import CannotDisplay
from workstation.imaging.frame import Frame
from workstation.imaging.geometry import PlaneGeometry
from workstation.imaging.header import FrameInfo
from workstation.imaging.memory import populated_empty
from workstation.imaging.volume import assemble_volume
from workstation.mpr.stack import StackLayout, examine_stack

#: Slices resampled per block (bounds the float32 scratch memory).
_RESAMPLE_BLOCK = 8


@dataclass(frozen=True, eq=False)
class MprVolume:
    """Voxels, their exact affine, and what the user must know about them.

    Attributes
    ----------
    voxels : numpy.ndarray
        int16, shape (slices, rows, columns), C-contiguous; the only copy.
    affine : numpy.ndarray
        4x4 from (column, row, slice, 1) indices to LPS mm (sheared when tilted).
    value_slope, value_intercept : float
        modality value = voxel * value_slope + value_intercept.
    frames : tuple of FrameInfo
        The source frames of the chosen phase, sorted along the normal.
    tilt_deg : float
        Gantry tilt (0 when none).
    warnings : tuple of str
        Tilt and resampled gaps, for the user.
    phase, phase_count : int
        Which phase of how many (1 for a 3-D series).
    """

    voxels: np.ndarray
    affine: np.ndarray
    value_slope: float = 1.0
    value_intercept: float = 0.0
    frames: tuple[FrameInfo, ...] = ()
    tilt_deg: float = 0.0
    warnings: tuple[str, ...] = ()
    phase: int = 0
    phase_count: int = 1

    @property
    def shape(self) -> tuple[int, int, int]:
        k, j, i = self.voxels.shape
        return int(k), int(j), int(i)

    @property
    def spacing_mm(self) -> tuple[float, float, float]:
        """Length of one index step along column, row and slice (mm)."""
        norms = np.linalg.norm(self.affine[:3, :3], axis=0)
        return float(norms[0]), float(norms[1]), float(norms[2])

    @property
    def frame_of_reference_uid(self) -> str:
        return self.frames[0].frame_of_reference_uid if self.frames else ""

    def index_to_patient(self, ijk: Sequence[float] | np.ndarray) -> np.ndarray:
        """LPS of index points, shape (..., 3) in, (..., 3) out."""
        pts = np.asarray(ijk, dtype=float)
        return pts @ self.affine[:3, :3].T + self.affine[:3, 3]

    def patient_to_index(self, xyz: Sequence[float] | np.ndarray) -> np.ndarray:
        pts = np.asarray(xyz, dtype=float)
        inv = np.linalg.inv(self.affine)
        return pts @ inv[:3, :3].T + inv[:3, 3]

    def corners_mm(self) -> np.ndarray:
        """The 8 corner voxel centres in LPS, shape (8, 3)."""
        k, j, i = self.shape
        idx = np.array([[a, b, c] for a in (0, i - 1) for b in (0, j - 1) for c in (0, k - 1)])
        return self.index_to_patient(idx)

    def centre_mm(self) -> np.ndarray:
        return self.corners_mm().mean(axis=0)

    def crop_box_index(self, fractions: Sequence[float]) -> tuple[float, ...]:
        """The crop box (x0, x1, y0, y1, z0, z1), given in fractions 0-1 of the column,
        row and slice axes, in index units (0 to n - 1), each range ordered."""
        if len(fractions) != 6:
            raise ValueError("a crop box has six fractions")
        k, j, i = self.shape
        out: list[float] = []
        for n, size in enumerate((i, i, j, j, k, k)):
            f = min(max(float(fractions[n]), 0.0), 1.0)
            out.append(f * (size - 1))
        for n in (0, 2, 4):
            out[n], out[n + 1] = sorted(out[n : n + 2])
        return tuple(out)

    def decimated(self, max_voxels: int) -> MprVolume:
        """This volume, or a copy keeping every n-th voxel along each axis (n = 2, 3, ...)
        with fewer than `max_voxels` voxels; the affine scaled so it covers the same
        place. For 3-D on a CPU: gradients and rays cost n³ less."""
        step = 1
        while self.voxels[::step, ::step, ::step].size > max_voxels:
            step += 1
        if step == 1:
            return self
        voxels = np.ascontiguousarray(self.voxels[::step, ::step, ::step])
        affine = self.affine.copy()
        affine[:3, :3] *= step
        return replace(self, voxels=voxels, affine=affine)

    def to_modality(self, values: np.ndarray) -> np.ndarray:
        """Voxel values (any array) in modality units."""
        if self.value_slope == 1.0 and self.value_intercept == 0.0:
            return values
        return values * np.float32(self.value_slope) + np.float32(self.value_intercept)


def examine_frames(infos: Sequence[FrameInfo]) -> StackLayout:
    """:func:`examine_stack` over frame headers (phases ordered by Instance Number)."""
    if any(i.is_color for i in infos):
        return StackLayout(reason=_("Colour images cannot be stacked into a volume."))
    return examine_stack(
        [i.geometry for i in infos],
        [(i.rows, i.columns) for i in infos],
        [
            float(i.instance_number if i.instance_number is not None else n)
            for n, i in enumerate(infos)
        ],
    )


def build_mpr_volume(frames: Sequence[Frame], *, phase: int = 0) -> MprVolume | CannotDisplay:
    """The :class:`MprVolume` of one phase of `frames` (any order), or why not."""
    layout = examine_frames([f.info for f in frames])
    if not layout.ok:
        return CannotDisplay(layout.reason)
    if not 0 <= phase < layout.phase_count:
        return CannotDisplay(
            _("Phase {n} does not exist; this series has {count}.").format(
                n=phase + 1, count=layout.phase_count
            )
        )
    chosen = [frames[i] for i in layout.phases[phase]]
    stacked = assemble_volume(_on_a_straight_line(chosen))
    if isinstance(stacked, CannotDisplay):
        return stacked
    assert layout.positions_mm is not None and layout.slice_step is not None
    voxels = stacked.voxels
    if not layout.regular:
        voxels = _resample_slices(voxels, layout.positions_mm, layout.spacing_mm)
    first = chosen[0].info.geometry
    assert first is not None and first.pixel_spacing_mm is not None
    return MprVolume(
        voxels=voxels,
        affine=_affine(first, layout),
        value_slope=stacked.value_slope,
        value_intercept=stacked.value_intercept,
        frames=tuple(f.info for f in chosen),
        tilt_deg=layout.tilt_deg,
        warnings=layout.warnings(),
        phase=phase,
        phase_count=layout.phase_count,
    )


def _on_a_straight_line(frames: list[Frame]) -> list[Frame]:
    """The frames (sorted) placed at unit steps along the first normal with one
    orientation, so the imaging core stacks them as they are; the real geometry is
    kept in the affine."""
    first = frames[0].info.geometry
    assert first is not None
    origin, normal = np.asarray(first.position), first.normal
    out = []
    for k, frame in enumerate(frames):
        pos = origin + k * normal
        geometry = PlaneGeometry(
            (float(pos[0]), float(pos[1]), float(pos[2])),
            first.row_cosines,
            first.column_cosines,
            first.pixel_spacing_mm,
        )
        out.append(replace(frame, info=replace(frame.info, geometry=geometry)))
    return out


def _affine(first: PlaneGeometry, layout: StackLayout) -> np.ndarray:
    assert first.pixel_spacing_mm is not None and layout.slice_step is not None
    row_mm, col_mm = first.pixel_spacing_mm
    out = np.eye(4)
    out[:3, 0] = np.asarray(first.row_cosines) * col_mm
    out[:3, 1] = np.asarray(first.column_cosines) * row_mm
    out[:3, 2] = layout.slice_step * layout.spacing_mm
    out[:3, 3] = first.position
    return out


def _resample_slices(voxels: np.ndarray, along_mm: np.ndarray, spacing_mm: float) -> np.ndarray:
    """Linear resampling along the slice axis onto a regular grid from the first slice."""
    rel = along_mm - along_mm[0]
    count = int(np.floor(rel[-1] / spacing_mm + 1e-6)) + 1
    out = populated_empty((count, *voxels.shape[1:]), np.int16)
    targets = np.arange(count) * spacing_mm
    upper = np.clip(np.searchsorted(rel, targets, side="right"), 1, len(rel) - 1)
    lower = upper - 1
    weight = np.clip((targets - rel[lower]) / (rel[upper] - rel[lower]), 0.0, 1.0)
    for start in range(0, count, _RESAMPLE_BLOCK):
        sl = slice(start, min(start + _RESAMPLE_BLOCK, count))
        w = weight[sl].astype(np.float32)[:, None, None]
        mixed = voxels[lower[sl]] * (1 - w) + voxels[upper[sl]] * w
        np.copyto(out[sl], np.rint(mixed), casting="unsafe")
    return out
