"""The VOI LUT: modality values to display levels (window/level or a VOI LUT table).

Window formulas follow PS3.3 C.11.2.1.2 for the VOI LUT Functions LINEAR,
LINEAR_EXACT and SIGMOID; a VOI LUT Sequence table is scaled from its own bit depth to
the output range. :func:`apply_voi` returns unrounded levels in ``[0, out_max]``;
:mod:`workstation.imaging.render` quantises them for the screen.

When a file has no window of its own, :func:`default_voi` makes one from the minimum
and maximum modality value of the frame (the Supplement 33 form, as dcmtk's ``+Wm``):
centre ``(min + max + 1) / 2``, width ``max - min + 1``, so min is black and max white.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from workstation.imaging.lut import Lut, lut_from_item

FUNCTIONS = ("LINEAR", "LINEAR_EXACT", "SIGMOID")


@dataclass(frozen=True)
class VoiWindow:
    """A window: centre and width in modality units, and the VOI LUT Function."""

    center: float
    width: float
    function: str = "LINEAR"
    explanation: str = ""

    @property
    def is_valid(self) -> bool:
        if not (math.isfinite(self.center) and math.isfinite(self.width)):
            return False
        return self.width >= 1.0 if self.function == "LINEAR" else self.width > 0.0

    @property
    def bounds(self) -> tuple[float, float]:
        """The modality values shown as black and as white (LINEAR/LINEAR_EXACT)."""
        if self.function == "LINEAR":
            half = (self.width - 1.0) / 2.0
            return self.center - 0.5 - half, self.center - 0.5 + half
        return self.center - self.width / 2.0, self.center + self.width / 2.0


#: A VOI LUT Sequence table (its explanation is on the :class:`Lut`).
VoiLut = Lut
Voi = VoiWindow | Lut


def apply_voi(values: np.ndarray, voi: Voi, *, out_max: float = 255.0) -> np.ndarray:
    """Display levels in ``[0, out_max]`` (float64, unrounded) for modality `values`."""
    x = np.asarray(values, dtype=np.float64)
    if isinstance(voi, Lut):
        return voi.lookup(x).astype(np.float64) * (out_max / voi.max_output)
    c, w = float(voi.center), float(voi.width)
    if voi.function == "SIGMOID":
        return out_max / (1.0 + np.exp(-4.0 * (x - c) / w))
    if voi.function == "LINEAR_EXACT":
        y = ((x - c) / w + 0.5) * out_max
    else:
        y = (
            ((x - (c - 0.5)) / (w - 1.0) + 0.5) * out_max
            if w > 1.0
            else np.where(x > c - 0.5, out_max, 0.0)
        )
    lo, hi = voi.bounds
    y = np.where(x <= lo, 0.0, np.where(x > hi, out_max, y))
    return np.clip(y, 0.0, out_max)


def min_max_window(values: np.ndarray) -> VoiWindow:
    """The window that maps the smallest value to black and the largest to white."""
    finite = values[np.isfinite(values)] if values.dtype.kind == "f" else values
    if finite.size == 0:
        return VoiWindow(0.5, 1.0, "LINEAR", "MIN-MAX")
    lo, hi = float(finite.min()), float(finite.max())
    if values.dtype.kind == "f":
        return VoiWindow((lo + hi) / 2.0, max(hi - lo, 1e-6), "LINEAR_EXACT", "MIN-MAX")
    return VoiWindow((lo + hi + 1.0) / 2.0, hi - lo + 1.0, "LINEAR", "MIN-MAX")


def auto_window(
    values: np.ndarray, low_pct: float = 0.5, high_pct: float = 99.5
) -> tuple[float, float]:
    """(centre, width) covering the bulk of a frame's values (MR, or files with no window).

    Percentiles rather than min/max so that a few hot pixels do not flatten the picture.
    Sampled on a grid for speed.
    """
    v = values[::4, ::4] if values.ndim == 2 and values.size > 65536 else values
    lo, hi = np.percentile(v, [low_pct, high_pct])
    if hi <= lo:
        lo, hi = float(np.min(values)), float(np.max(values))
    width = max(float(hi - lo), 1.0)
    return float(lo + width / 2), width


def windows_of(item: Any) -> tuple[VoiWindow, ...]:
    """The valid windows of a data set or Frame VOI LUT item, in file order."""
    centers, widths = _multi(item.get("WindowCenter")), _multi(item.get("WindowWidth"))
    explanations = [str(v) for v in _multi(item.get("WindowCenterWidthExplanation"))]
    function = str(item.get("VOILUTFunction", "") or "LINEAR").strip().upper()
    if function not in FUNCTIONS:
        function = "LINEAR"
    out = []
    for i, (c, w) in enumerate(zip(centers, widths, strict=False)):
        try:
            window = VoiWindow(
                float(c), float(w), function, explanations[i] if i < len(explanations) else ""
            )
        except (TypeError, ValueError):
            continue
        if window.is_valid:
            out.append(window)
    return tuple(out)


def voi_luts_of(item: Any, *, signed_input: bool, little_endian: bool = True) -> tuple[Lut, ...]:
    """The VOI LUT Sequence tables of a data set (unreadable items are skipped)."""
    from workstation.imaging.errors import PixelDataError

    out = []
    for lut_item in item.get("VOILUTSequence") or ():
        try:
            out.append(
                lut_from_item(lut_item, signed_input=signed_input, little_endian=little_endian)
            )
        except PixelDataError:
            continue
    return tuple(out)


def _multi(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, str | bytes | int | float):
        return [value]
    try:
        return list(value)
    except TypeError:
        return [value]
