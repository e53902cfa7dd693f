"""What the viewer shows: a frame through its VOI and presentation LUT to 8-bit levels.

:func:`to_display_u8` is the one place greyscale pixels become screen levels, for the
viewer, the ``workstation render`` command and the correctness tests alike:

    modality values -> VOI (window or VOI LUT) -> presentation (MONOCHROME1 / INVERSE
    shape inverts) -> 0..255, truncated

Levels are truncated, not rounded, as dcmtk does: the window's top value is the only
one that reaches 255, and our output matches ``dcmj2pnm`` to within one level.

Integer frames go through a lookup table built over the whole stored range (65536
entries at most), so a 512x512 frame costs about a millisecond however it is windowed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import numpy as np

from workstation.imaging.frame import Frame
from workstation.imaging.lut import Lut
from workstation.imaging.modality import ModalityLut, apply_modality
from workstation.imaging.windowing import Voi, VoiWindow, apply_voi, min_max_window

_LUT_CACHE_SIZE = 32
_lut_cache: OrderedDict[Any, np.ndarray] = OrderedDict()
_lut_lock = threading.Lock()


def display_voi(frame: Frame, window: tuple[float, float] | Voi | None = None) -> Voi:
    """The VOI to show `frame` with: `window` (centre, width) if given, with the file's
    VOI LUT Function, else the file's first window, else its first VOI LUT, else the
    min/max window of the frame's modality values."""
    if isinstance(window, VoiWindow | Lut):
        return window
    if window is not None:
        center, width = window
        # A user window keeps the file's VOI LUT Function (as dcmtk and cornerstone do).
        function = frame.info.windows[0].function if frame.info.windows else "LINEAR"
        return VoiWindow(float(center), float(width), function, "")
    if frame.info.windows:
        return frame.info.windows[0]
    if frame.info.voi_luts:
        return frame.info.voi_luts[0]
    return min_max_window(frame.modality_values())


def to_display_u8(
    frame: Frame,
    voi: tuple[float, float] | Voi | None = None,
    *,
    invert: bool | None = None,
) -> np.ndarray:
    """8-bit levels of `frame` as shown on screen at 1:1 without overlays.

    Parameters
    ----------
    frame : Frame
    voi : (center, width), VoiWindow, Lut or None
        None uses :func:`display_voi`'s choice (the file's own window).
    invert : bool, optional
        Override the presentation inversion (default: MONOCHROME1 or an INVERSE
        Presentation LUT Shape inverts). The viewer's "invert" tool flips this.

    Returns
    -------
    numpy.ndarray
        uint8 ``(rows, columns)`` for greyscale, ``(rows, columns, 3)`` RGB for colour.
    """
    inverted = frame.info.invert if invert is None else invert
    if frame.is_color:
        return 255 - frame.pixels if invert else frame.pixels
    chosen = display_voi(frame, voi)
    pixels = frame.pixels
    pending = None if frame.modality_applied else frame.info.modality_lut
    if pixels.dtype.kind in "iu" and pixels.dtype.itemsize <= 2:
        lut = _level_lut(pixels.dtype, pending, chosen, inverted)
        unsigned = pixels.view(np.dtype(f"u{pixels.dtype.itemsize}"))
        return np.take(lut, unsigned)
    values = pixels if pending is None else apply_modality(pixels, pending)
    return _quantise(apply_voi(values, chosen), inverted)


def values_to_u8(
    values: np.ndarray, window: tuple[float, float], *, invert: bool = False
) -> np.ndarray:
    """8-bit levels of greyscale modality `values` at a LINEAR (centre, width) window.

    The same levels as :func:`to_display_u8` for a frame; integer arrays go through one
    table over their value range (fast enough to redraw while the window is dragged).
    """
    voi = VoiWindow(float(window[0]), max(float(window[1]), 1.0))
    if values.dtype.kind in "iu" and values.size:
        lo, hi = int(values.min()), int(values.max())
        if hi - lo < 1 << 20:
            table = _quantise(apply_voi(np.arange(lo, hi + 1, dtype=np.int64), voi), invert)
            offset = values.astype(np.int64, copy=False) - lo
            return np.take(table, offset)
    return _quantise(apply_voi(values, voi), invert)


def _quantise(levels: np.ndarray, inverted: bool) -> np.ndarray:
    if inverted:
        levels = 255.0 - levels
    return np.floor(levels).astype(np.uint8)


def _level_lut(
    dtype: np.dtype, pending: ModalityLut | None, voi: Voi, inverted: bool
) -> np.ndarray:
    """Levels for every possible stored value, indexed by the value's unsigned bits."""
    key = (dtype.str, pending, voi, inverted)
    with _lut_lock:
        lut = _lut_cache.get(key)
        if lut is not None:
            _lut_cache.move_to_end(key)
            return lut
    count = 1 << (8 * dtype.itemsize)
    domain = np.arange(count, dtype=np.dtype(f"u{dtype.itemsize}")).view(dtype)
    values = domain if pending is None else apply_modality(domain, pending)
    lut = _quantise(apply_voi(values, voi), inverted)
    with _lut_lock:
        _lut_cache[key] = lut
        while len(_lut_cache) > _LUT_CACHE_SIZE:
            _lut_cache.popitem(last=False)
    return lut
