"""Lookup tables from a data set: LUT Descriptor + LUT Data, and segmented palettes.

Shared by the Modality LUT, the VOI LUT and Palette Colour. Sizes come from the
descriptor and are capped (:data:`~workstation.imaging.limits.MAX_LUT_ENTRIES`)
before anything is allocated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from workstation.i18n import _
from workstation.imaging import limits
from workstation.imaging.errors import PixelDataError


@dataclass(frozen=True, eq=False)
class Lut:
    """One lookup table: input ``first_mapped + i`` maps to ``data[i]``.

    Inputs below the first entry map to the first entry, inputs above the last to the
    last (PS3.3 C.11.1.1).
    """

    first_mapped: int
    bits: int
    data: np.ndarray
    explanation: str = ""

    @property
    def max_output(self) -> int:
        """The largest output the table can give: 2**bits - 1."""
        return (1 << self.bits) - 1

    def lookup(self, values: np.ndarray) -> np.ndarray:
        index = np.asarray(values, dtype=np.int64) - self.first_mapped
        np.clip(index, 0, len(self.data) - 1, out=index)
        return self.data[index]


def descriptor_of(value: Any, *, signed_input: bool) -> tuple[int, int, int]:
    """(entries, first mapped value, bits per entry) from a LUT Descriptor value."""
    try:
        entries, first, bits = (int(v) for v in list(value)[:3])
    except (TypeError, ValueError) as exc:
        raise PixelDataError(
            _("A lookup table in this image has an unreadable descriptor."), repr(value)
        ) from exc
    entries = entries or 65536
    if signed_input and first >= 32768:
        first -= 65536
    if not 1 <= entries <= limits.MAX_LUT_ENTRIES or not 1 <= bits <= 16:
        raise PixelDataError(
            _("A lookup table in this image has an invalid descriptor."),
            f"entries={entries} bits={bits}",
        )
    return entries, first, bits


def words_of(
    value: Any, *, little_endian: bool = True, limit: int = limits.MAX_LUT_ENTRIES
) -> np.ndarray:
    """LUT Data as 16-bit words, whether pydicom gave a list of ints or raw OW bytes."""
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value[: 2 * limit * 2])
        dtype = "<u2" if little_endian else ">u2"
        return np.frombuffer(raw[: len(raw) // 2 * 2], dtype=dtype).astype(np.uint16)
    if isinstance(value, int):
        value = [value]
    try:
        items = list(value)[: 2 * limit]
        return np.asarray(items, dtype=np.int64).astype(np.uint16)
    except (TypeError, ValueError) as exc:
        raise PixelDataError(
            _("A lookup table in this image has unreadable data."), repr(exc)
        ) from exc


def lut_from_item(item: Any, *, signed_input: bool, little_endian: bool = True) -> Lut:
    """A :class:`Lut` from a Modality or VOI LUT Sequence item."""
    entries, first, bits = descriptor_of(item.get("LUTDescriptor"), signed_input=signed_input)
    if "LUTData" not in item:
        raise PixelDataError(_("A lookup table in this image has no data."), "LUTData missing")
    words = words_of(item.LUTData, little_endian=little_endian)
    data = _entries_from_words(words, entries, bits)
    # Some writers declare fewer bits than the data uses; trust the data (as dcmtk does).
    top = int(data.max()) if data.size else 0
    while bits < 16 and top > (1 << bits) - 1:
        bits += 1
    explanation = str(item.get("LUTExplanation", "") or "")
    return Lut(first, bits, data, explanation)


def _entries_from_words(words: np.ndarray, entries: int, bits: int) -> np.ndarray:
    if bits <= 8 and len(words) * 2 == entries:
        # Two 8-bit entries packed in each 16-bit word (seen in the wild).
        words = words.view(np.uint8).astype(np.uint16) if words.dtype == np.uint16 else words
    if len(words) < entries:
        raise PixelDataError(
            _("A lookup table in this image is shorter than its descriptor says."),
            f"{len(words)} < {entries}",
        )
    return np.ascontiguousarray(words[:entries], dtype=np.uint16)


def expand_segmented(words: np.ndarray, entries: int) -> np.ndarray:
    """Expand Segmented Palette Color LUT Data (PS3.3 C.7.9.2) to `entries` values."""
    out: list[float] = []
    _expand_segments(words, out, entries, depth=0)
    if len(out) < entries:
        raise PixelDataError(
            _("A colour palette in this image is shorter than its descriptor says."),
            f"{len(out)} < {entries}",
        )
    return np.round(np.asarray(out[:entries], dtype=np.float64)).astype(np.uint16)


def _expand_segments(words: np.ndarray, out: list[float], limit: int, depth: int) -> None:
    if depth > 2:
        raise PixelDataError(_("A colour palette in this image is malformed."), "indirect nesting")
    pos, n_words = 0, len(words)
    while pos + 1 < n_words and len(out) <= limit:
        opcode, length = int(words[pos]), int(words[pos + 1])
        pos += 2
        if opcode == 0:  # discrete segment
            out.extend(float(v) for v in words[pos : pos + length])
            pos += length
        elif opcode == 1:  # linear segment: from the previous value to words[pos]
            if not out:
                raise PixelDataError(
                    _("A colour palette in this image is malformed."), "linear first"
                )
            start, end = out[-1], float(words[pos])
            step = (end - start) / length if length else 0.0
            out.extend(start + step * (i + 1) for i in range(length))
            pos += 1
        elif opcode == 2:  # indirect segment: replay `length` segments at a word offset
            offset = int(words[pos]) | (int(words[pos + 1]) << 16) if pos + 1 < n_words else n_words
            pos += 2
            _replay(words, offset, length, out, limit, depth)
        else:
            raise PixelDataError(
                _("A colour palette in this image is malformed."), f"opcode {opcode}"
            )


def _replay(
    words: np.ndarray, offset: int, count: int, out: list[float], limit: int, depth: int
) -> None:
    pos = offset
    for _i in range(count):
        if pos + 1 >= len(words):
            break
        opcode, length = int(words[pos]), int(words[pos + 1])
        size = 2 + (length if opcode == 0 else 1 if opcode == 1 else 2)
        _expand_segments(words[pos : pos + size], out, limit, depth + 1)
        pos += size
