"""Window/level for the screen: presets per modality, auto windows, and a fast 8-bit map.

The map follows the DICOM LINEAR VOI function (PS3.3 C.11.2.1.2.1), so what the viewer
shows matches ``workstation render`` and dcmtk at the same window.  Integer frames are
mapped through a lookup table (one ``take`` per frame, well under a millisecond for
512x512), which keeps window dragging and scrolling fast on software GL.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workstation.i18n import _


@dataclass(frozen=True)
class WindowPreset:
    key: str
    center: float
    width: float

    @property
    def label(self) -> str:
        """The translated name (looked up now, so a language change applies at once)."""
        labels = {
            "lung": _("Lung"),
            "mediastinum": _("Mediastinum"),
            "bone": _("Bone"),
            "brain": _("Brain"),
            "abdomen": _("Abdomen"),
            "auto": _("Auto (from the data)"),
            "file": _("File window"),
        }
        return labels.get(self.key, self.key)


CT_PRESETS: tuple[WindowPreset, ...] = (
    WindowPreset("lung", -600.0, 1500.0),
    WindowPreset("mediastinum", 50.0, 350.0),
    WindowPreset("bone", 500.0, 2000.0),
    WindowPreset("brain", 40.0, 80.0),
    WindowPreset("abdomen", 50.0, 400.0),
)


def presets_for(modality: str) -> tuple[WindowPreset, ...]:
    """Fixed presets that make sense for a modality (CT has HU presets; others use auto)."""
    return CT_PRESETS if modality.upper() == "CT" else ()


def auto_window(
    values: np.ndarray, low_pct: float = 0.5, high_pct: float = 99.5
) -> tuple[float, float]:
    """A window covering the bulk of the frame's values (MR, or files with no window).

    Percentiles rather than min/max so that a few hot pixels do not flatten the picture.
    Sampled on a grid for speed.
    """
    v = values[::4, ::4] if values.ndim == 2 and values.size > 65536 else values
    lo, hi = np.percentile(v, [low_pct, high_pct])
    if hi <= lo:
        lo, hi = float(np.min(values)), float(np.max(values))
    width = max(float(hi - lo), 1.0)
    return float(lo + width / 2), width


def _linear(x: np.ndarray, center: float, width: float) -> np.ndarray:
    """DICOM LINEAR window to 0..255 as float (x may be any real array)."""
    width = max(width, 1.0)
    y = ((x - (center - 0.5)) / (width - 1.0 if width > 1 else 1.0) + 0.5) * 255.0
    return np.clip(y, 0.0, 255.0)


def window_lut(lo: int, hi: int, center: float, width: float, invert: bool = False) -> np.ndarray:
    """An 8-bit table for stored integers ``lo..hi`` (index = value - lo)."""
    x = np.arange(lo, hi + 1, dtype=np.float64)
    y = np.rint(_linear(x, center, width)).astype(np.uint8)
    return 255 - y if invert else y


def to_uint8(values: np.ndarray, center: float, width: float, invert: bool = False) -> np.ndarray:
    """Window a greyscale frame of modality values to 8-bit grey for display."""
    if values.dtype.kind in "iu" and values.size:
        lo, hi = int(values.min()), int(values.max())
        if hi - lo < 1 << 20:
            lut = window_lut(lo, hi, center, width, invert)
            offset = values.astype(np.int32, copy=False) - lo if lo else values
            return lut.take(offset)
    y = np.rint(_linear(values.astype(np.float32, copy=False), center, width)).astype(np.uint8)
    return 255 - y if invert else y


def drag_window(
    center: float, width: float, dx: float, dy: float, sensitivity: float
) -> tuple[float, float]:
    """New window after a mouse drag: right widens, down raises the level (common convention).

    ``sensitivity`` is value units per screen pixel; callers scale it with the data range
    so that CT (thousands of HU) and 8-bit images both feel natural.
    """
    return center + dy * sensitivity, max(1.0, width + dx * sensitivity)
