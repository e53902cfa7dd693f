"""Colour images to 8-bit RGB: YCbCr (full range) and Palette Colour.

YBR_FULL / YBR_FULL_422 use the PS3.3 C.7.6.3.1.2 equations. YBR_ICT/YBR_RCT come
out of the JPEG 2000 decoder already as RGB. Palette Colour supports 8- and 16-bit
entries and segmented palettes (PS3.3 C.7.9); 16-bit entries are scaled to 8 bits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from workstation.i18n import _
from workstation.imaging.errors import PixelDataError
from workstation.imaging.lut import descriptor_of, expand_segmented, words_of

_CHANNELS = ("Red", "Green", "Blue")


def ybr_full_to_rgb(ybr: np.ndarray, bits: int = 8) -> np.ndarray:
    """RGB of full-range YCbCr samples (last axis = Y, Cb, Cr), same dtype as input."""
    half = float(1 << (bits - 1))
    top = float((1 << bits) - 1)
    data = ybr.astype(np.float32)
    y, cb, cr = data[..., 0], data[..., 1] - half, data[..., 2] - half
    out = np.empty_like(data)
    out[..., 0] = y + 1.402 * cr
    out[..., 1] = y - 0.344136 * cb - 0.714136 * cr
    out[..., 2] = y + 1.772 * cb
    np.rint(out, out=out)
    np.clip(out, 0.0, top, out=out)
    return out.astype(ybr.dtype)


def to_rgb8(rgb: np.ndarray, bits_stored: int) -> np.ndarray:
    """8-bit RGB from RGB samples of `bits_stored` bits."""
    if rgb.dtype == np.uint8 and bits_stored <= 8:
        return rgb if bits_stored == 8 else _scale_to_u8(rgb, (1 << bits_stored) - 1)
    return _scale_to_u8(rgb, (1 << bits_stored) - 1)


def _scale_to_u8(values: np.ndarray, top: int) -> np.ndarray:
    scaled = np.clip(values.astype(np.float32), 0, top) * (255.0 / top)
    return np.rint(scaled).astype(np.uint8)


@dataclass(frozen=True, eq=False)
class Palette:
    """The three channel tables of a Palette Colour image, as 8-bit outputs."""

    first_mapped: int
    table: np.ndarray  # (entries, 3) uint8

    def apply(self, indices: np.ndarray) -> np.ndarray:
        index = np.asarray(indices, dtype=np.int64) - self.first_mapped
        np.clip(index, 0, len(self.table) - 1, out=index)
        return self.table[index]


def palette_of(ds: Any, *, little_endian: bool = True) -> Palette:
    """The Palette Colour tables of `ds`, plain or segmented, 8- or 16-bit."""
    channels = []
    first_mapped = 0
    for name in _CHANNELS:
        desc = ds.get(f"{name}PaletteColorLookupTableDescriptor")
        if desc is None:
            raise PixelDataError(
                _("This palette colour image has no colour palette."), f"{name} descriptor"
            )
        entries, first_mapped, bits = descriptor_of(desc, signed_input=False)
        channels.append(_channel(ds, name, entries, bits, little_endian))
    n = min(len(c) for c in channels)
    table = np.stack([c[:n] for c in channels], axis=-1)
    return Palette(first_mapped, table)


def _channel(ds: Any, name: str, entries: int, bits: int, little_endian: bool) -> np.ndarray:
    segmented = ds.get(f"Segmented{name}PaletteColorLookupTableData")
    if segmented is not None:
        values = expand_segmented(words_of(segmented, little_endian=little_endian), entries)
    else:
        data = ds.get(f"{name}PaletteColorLookupTableData")
        if data is None:
            raise PixelDataError(
                _("This palette colour image has no colour palette."), f"{name} data"
            )
        if bits == 8 and isinstance(data, bytes | bytearray) and len(data) == entries:
            values = np.frombuffer(bytes(data), dtype=np.uint8).astype(np.uint16)
        else:
            words = words_of(data, little_endian=little_endian)
            if bits == 8 and len(words) * 2 == entries:
                words = words.astype("<u2").view(np.uint8).astype(np.uint16)
            values = words
        if len(values) < entries:
            raise PixelDataError(
                _("The colour palette of this image is shorter than its descriptor says."),
                f"{name} {len(values)} < {entries}",
            )
        values = values[:entries]
    if bits > 8 or int(values.max(initial=0)) > 255:
        return ((values.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    return values.astype(np.uint8)
