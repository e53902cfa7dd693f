"""The Modality LUT: stored values to modality values (Hounsfield units for CT).

Either a linear rescale (Rescale Slope/Intercept, PS3.3 C.11.1) or a Modality LUT
Sequence. :func:`apply_modality` applies it; :func:`exact_int16_rescale` tells when the
result fits int16 exactly, so frames can be cached as int16 modality values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from workstation.i18n import _
from workstation.imaging.errors import PixelDataError
from workstation.imaging.lut import Lut, lut_from_item


@dataclass(frozen=True)
class ModalityLut:
    """How stored values become modality values.

    Attributes
    ----------
    slope, intercept : float
        The linear rescale, used when ``lut`` is None.
    lut : Lut or None
        A Modality LUT Sequence table, which replaces the rescale.
    unit : str
        Rescale Type ("HU", "US" for unspecified, ...), or "" when not given.
    """

    slope: float = 1.0
    intercept: float = 0.0
    lut: Lut | None = None
    unit: str = ""

    @property
    def is_identity(self) -> bool:
        return self.lut is None and self.slope == 1.0 and self.intercept == 0.0

    @property
    def is_integer_rescale(self) -> bool:
        return (
            self.lut is None
            and float(self.slope).is_integer()
            and float(self.intercept).is_integer()
        )


IDENTITY = ModalityLut()


def modality_lut_of(
    item: Any, *, signed: bool, little_endian: bool = True, modality: str = ""
) -> ModalityLut:
    """The Modality LUT of a data set or of a Pixel Value Transformation item."""
    seq = item.get("ModalityLUTSequence")
    if seq:
        lut = lut_from_item(seq[0], signed_input=signed, little_endian=little_endian)
        return ModalityLut(lut=lut, unit=str(seq[0].get("ModalityLUTType", "") or ""))
    slope = _float(item, "RescaleSlope", 1.0)
    intercept = _float(item, "RescaleIntercept", 0.0)
    if slope == 0.0:
        slope = 1.0  # a zero slope would flatten the image; such files exist and mean 1
    unit = str(item.get("RescaleType", "") or "")
    if not unit and modality == "CT" and "RescaleIntercept" in item:
        unit = "HU"
    return ModalityLut(slope, intercept, None, unit)


def _float(item: Any, keyword: str, default: float) -> float:
    try:
        value = item.get(keyword)
        result = default if value is None or value == "" else float(value)
    except (TypeError, ValueError) as exc:
        raise PixelDataError(
            _("The {name} value of this image is not a number.").format(name=keyword), repr(exc)
        ) from exc
    if not math.isfinite(result):
        raise PixelDataError(
            _("The {name} value of this image is not a number.").format(name=keyword), keyword
        )
    return result


def stored_range(bits_stored: int, signed: bool) -> tuple[int, int]:
    """Smallest and largest stored value `bits_stored` bits can hold."""
    if signed:
        return -(1 << (bits_stored - 1)), (1 << (bits_stored - 1)) - 1
    return 0, (1 << bits_stored) - 1


def exact_int16_rescale(modality: ModalityLut, lo: int, hi: int) -> bool:
    """True when rescaling values in [lo, hi] gives integers that fit int16."""
    if not modality.is_integer_rescale:
        return False
    ends = (modality.slope * lo + modality.intercept, modality.slope * hi + modality.intercept)
    return min(ends) >= -32768 and max(ends) <= 32767


def apply_modality(stored: np.ndarray, modality: ModalityLut) -> np.ndarray:
    """Modality values of `stored` values (a new array; float32 for a fractional rescale)."""
    if modality.lut is not None:
        return modality.lut.lookup(stored)
    if modality.is_identity:
        return stored
    if modality.is_integer_rescale:
        lo, hi = int(stored.min(initial=0)), int(stored.max(initial=0))
        if exact_int16_rescale(modality, lo, hi):
            out = stored.astype(np.int16)
            return rescale_in_place(out, modality)
        out32 = stored.astype(np.int32)
        return rescale_in_place(out32, modality)
    return stored.astype(np.float32) * np.float32(modality.slope) + np.float32(modality.intercept)


def rescale_in_place(values: np.ndarray, modality: ModalityLut) -> np.ndarray:
    """Apply an integer rescale to an integer array in place (caller checked the range)."""
    if modality.slope != 1.0:
        np.multiply(values, int(modality.slope), out=values, casting="unsafe")
    if modality.intercept != 0.0:
        np.add(values, int(modality.intercept), out=values, casting="unsafe")
    return values
