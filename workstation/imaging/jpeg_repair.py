"""A second chance for sequential JPEG streams with a wrong scan header.

Some writers put Ss/Se values other than 0/63 in the Start of Scan segment of
sequential (baseline/extended) JPEG. The standard fixes them at 0/63 and libjpeg
refuses the stream, while dcmtk and most viewers ignore them. :func:`repaired_frame`
rewrites those bytes (nothing else) and decodes the frame again with libjpeg.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: JPEG Baseline (Process 1) and Extended (Process 2 and 4).
SEQUENTIAL_JPEG = ("1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51")
_SOF_SEQUENTIAL = (0xC0, 0xC1)
_MAX_SEGMENTS = 1000


def fix_scan_headers(stream: bytes) -> bytes | None:
    """`stream` with Ss=0, Se=63, Ah=Al=0 in every scan header, or None if nothing to fix."""
    data = bytearray(stream)
    pos, sequential, changed = 2, False, False
    for _i in range(_MAX_SEGMENTS):
        if pos + 4 > len(data) or data[pos] != 0xFF:
            break
        marker = data[pos + 1]
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if marker in _SOF_SEQUENTIAL:
            sequential = True
        if marker == 0xDA:
            components = data[pos + 4] if pos + 4 < len(data) else 0
            at = pos + 5 + 2 * components
            if sequential and at + 2 < len(data) and bytes(data[at : at + 3]) != b"\x00\x3f\x00":
                data[at : at + 3] = b"\x00\x3f\x00"
                changed = True
            break
        pos += 2 + length
    return bytes(data) if changed else None


def repaired_frame(ds: Any, frame: int, transfer_syntax: str) -> np.ndarray | None:
    """Decode `frame` after fixing its scan header, or None if the fix does not apply."""
    if transfer_syntax not in SEQUENTIAL_JPEG:
        return None
    from pydicom.encaps import get_frame

    try:
        import libjpeg
    except ImportError:
        return None
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    stream = get_frame(ds.PixelData, frame, number_of_frames=frames)
    fixed = fix_scan_headers(stream)
    if fixed is None:
        return None
    arr = libjpeg.decode(fixed)
    return np.asarray(arr)
