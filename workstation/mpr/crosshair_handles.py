"""The crosshair's handles on one MPR plane, in that plane's pixels (no Qt, no VTK).

On plane `index`, every other plane shows as a line through the crosshair in that
plane's colour. Each line carries two kinds of handle:

- **rotate** (both ends, at :data:`ROTATE_AT` of the half-side): dragging one turns the
  other planes about this plane's normal through the crosshair by the angle swept;
- **slab** (one, at :data:`SLAB_AT` of the half-side, set off to the side by half the
  other plane's slab): dragging it away from the line sets that plane's slab thickness
  to twice the distance (0-50 mm; thin below 1 mm).

When the other plane has a slab, its two faces are drawn as lines parallel to its
line (:func:`slab_edges`). A view asks :func:`overlay` what to draw and :func:`hit`
what the mouse took; :func:`drag_slab` and :func:`rotation_deg` turn a drag into the
state's units.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np

from workstation.mpr.viewing import MprViewState

#: Where along the half-line the handles sit (fraction of the plane's half-side).
ROTATE_AT = 0.78
SLAB_AT = 0.45
#: A slab handle stays this many plane pixels off its line even for a thin plane.
MIN_SLAB_OFFSET_PX = 6.0


class HandleKind(enum.StrEnum):
    ROTATE = "rotate"
    SLAB = "slab"


@dataclass(frozen=True)
class Handle:
    """A handle of plane `other`'s line on the viewed plane, at `pixel` (column, row)."""

    kind: HandleKind
    other: int
    pixel: tuple[float, float]


def _frame(state: MprViewState, index: int, other: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Unit direction of `other`'s line on plane `index`, and its unit normal in pixels."""
    line = state.line_in(index, other)
    return None if line is None else _direction(line)


def _direction(line: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray] | None:
    d = np.asarray(line[1], float) - np.asarray(line[0], float)
    length = float(np.linalg.norm(d))
    if length < 1e-9:
        return None
    d /= length
    return d, np.array([-d[1], d[0]])


def clipped(
    a: np.ndarray, b: np.ndarray, size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray] | None:
    """The part of segment a-b on a picture of `size` (columns, rows), pixel centres at
    integers (Liang-Barsky), or None when it misses the picture."""
    lo, hi = np.array([-0.5, -0.5]), np.array([size[0] - 0.5, size[1] - 0.5])
    d = b - a
    t0, t1 = 0.0, 1.0
    for axis in (0, 1):
        if abs(d[axis]) < 1e-12:
            if not lo[axis] <= a[axis] <= hi[axis]:
                return None
            continue
        ta, tb = (lo[axis] - a[axis]) / d[axis], (hi[axis] - a[axis]) / d[axis]
        t0, t1 = max(t0, min(ta, tb)), min(t1, max(ta, tb))
    if t0 >= t1:
        return None
    return a + t0 * d, a + t1 * d


def _half_side(state: MprViewState, index: int) -> float:
    return 0.5 * min(state.views[index].plane.size)


def slab_half_px(state: MprViewState, index: int, other: int) -> float:
    """Half of plane `other`'s slab in plane `index`'s pixels (0 when thin)."""
    slab = state.views[other].slab
    if slab is None:
        return 0.0
    return 0.5 * slab.thickness_mm / state.views[index].plane.spacing_mm


@dataclass(frozen=True)
class Overlay:
    """What plane `index` shows of the crosshair: each other plane's line, its slab
    faces (empty when thin) and its handles, by the other plane's index."""

    lines: dict[int, tuple[np.ndarray, np.ndarray]]  # clipped to the picture
    slab_faces: dict[int, list[tuple[np.ndarray, np.ndarray]]]
    handles: list[Handle]


def overlay(state: MprViewState, index: int) -> Overlay:
    """The crosshair's lines, slab faces and handles on plane `index`, in one pass."""
    centre = state.crosshair_pixel(index)
    half = _half_side(state, index)
    lines: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    faces: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
    out: list[Handle] = []
    for other in range(len(state.views)):
        line = None if other == index else state.line_in(index, other)
        frame = None if line is None else _direction(line)
        if line is None or frame is None:
            continue
        d, n = frame
        a, b = np.asarray(line[0], float), np.asarray(line[1], float)
        size = state.views[index].plane.size
        shown = clipped(a, b, size)
        if shown is not None:
            lines[other] = shown
        slab_half = slab_half_px(state, index, other)
        faces[other] = []
        for sign in (1.0, -1.0) if slab_half > 0.0 else ():
            face = clipped(a + sign * slab_half * n, b + sign * slab_half * n, size)
            if face is not None:
                faces[other].append(face)
        for sign in (1.0, -1.0):
            p = centre + sign * ROTATE_AT * half * d
            out.append(Handle(HandleKind.ROTATE, other, (float(p[0]), float(p[1]))))
        p = centre + SLAB_AT * half * d + max(slab_half, MIN_SLAB_OFFSET_PX) * n
        out.append(Handle(HandleKind.SLAB, other, (float(p[0]), float(p[1]))))
    return Overlay(lines, faces, out)


def handles_on(state: MprViewState, index: int) -> list[Handle]:
    """Every handle drawn on plane `index`."""
    return overlay(state, index).handles


def hit(state: MprViewState, index: int, pixel: np.ndarray, tolerance_px: float) -> Handle | None:
    """The handle within `tolerance_px` plane pixels of `pixel` (the nearest), or None."""
    best, best_d = None, tolerance_px
    for handle in handles_on(state, index):
        distance = math.dist(handle.pixel, (float(pixel[0]), float(pixel[1])))
        if distance <= best_d:
            best, best_d = handle, distance
    return best


def drag_slab(state: MprViewState, index: int, other: int, pixel: np.ndarray) -> None:
    """The slab handle of `other`'s line dragged to `pixel` on plane `index`: `other`'s
    slab becomes twice the distance from its line (see
    :meth:`MprViewState.set_slab_thickness`)."""
    frame = _frame(state, index, other)
    if frame is None:
        return
    _d, n = frame
    off = float((np.asarray(pixel, float) - state.crosshair_pixel(index)) @ n)
    state.set_slab_thickness(other, 2.0 * abs(off) * state.views[index].plane.spacing_mm)


def rotation_deg(state: MprViewState, index: int, start: np.ndarray, now: np.ndarray) -> float:
    """The angle swept about the crosshair from pixel `start` to `now` on plane `index`,
    as :meth:`MprViewState.rotate` takes it (positive from the row towards the column
    direction, i.e. right-handed about the plane's normal)."""
    c = state.crosshair_pixel(index)
    a, b = np.asarray(start, float) - c, np.asarray(now, float) - c
    if float(np.linalg.norm(a)) < 1e-6 or float(np.linalg.norm(b)) < 1e-6:
        return 0.0
    angle = math.atan2(b[1], b[0]) - math.atan2(a[1], a[0])
    return math.degrees(math.atan2(math.sin(angle), math.cos(angle)))


def slab_edges(state: MprViewState, index: int, other: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The two faces of `other`'s slab on plane `index` as pixel segments (none if thin)."""
    return overlay(state, index).slab_faces.get(other, [])
