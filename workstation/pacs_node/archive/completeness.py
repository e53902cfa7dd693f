"""Is a stored file whole?  Pixel data as long as the image says, no element past the end.

A file cut short (a CD read error, a copy interrupted, a sender that died) still has a
readable header, so it would be stored as a normal instance and shown as complete.
:func:`incomplete_reason` walks the top-level elements of the data set once (values are
skipped by their lengths, nothing is decoded but the few pixel-module numbers) and says
why the file is incomplete, or returns ``""``:

- an element up to the pixel data, or the pixel data (native, or every fragment of
  encapsulated pixel data and its end marker), running past the end of the file
  (elements after the pixel data - padding, vendor trailers - are not judged);
- native Pixel Data shorter than Rows x Columns x Samples x frames x Bits Allocated.

What then happens is ``archive.incomplete_policy``: ``"mark"`` (default) stores the
instance with the reason in ``instances.incomplete`` (counted per study as
``num_incomplete``, shown by the browser, ``studies --json`` and the viewer);
``"quarantine"`` refuses it into quarantine.  Deflated and big-endian data sets are not
walked (``""``): their length checks happen when they are inflated or decoded.
"""

from __future__ import annotations

import contextlib
import struct
from typing import Any

from workstation.i18n import _
from workstation.pacs_node.archive.fastheader import (
    IMPLICIT_LE,
    WALKED_TO,
    RunsPastEnd,
    Unusual,
    element_header,
    skip_undefined,
)

_UNDEFINED = 0xFFFFFFFF
_PIXEL_DATA = 0x7FE00010
_SAMPLES, _FRAMES, _ROWS, _COLUMNS, _BITS = (
    0x00280002,
    0x00280008,
    0x00280010,
    0x00280011,
    0x00280100,
)
_KEYWORDS = {
    _SAMPLES: "SamplesPerPixel",
    _FRAMES: "NumberOfFrames",
    _ROWS: "Rows",
    _COLUMNS: "Columns",
}
_NOT_WALKED = {"1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.2"}


def incomplete_reason(
    data: bytes | memoryview,
    body_at: int,
    transfer_syntax_uid: str,
    header: dict[str, Any] | None = None,
) -> str:
    """Why the data set at ``data[body_at:]`` is incomplete, or ``""`` when it is whole.

    ``header``: the fast header reader's result for the same bytes, if it read them; the
    walk then goes on where that one stopped, with the image size numbers it read.
    """
    if transfer_syntax_uid in _NOT_WALKED:
        return ""
    implicit = transfer_syntax_uid == IMPLICIT_LE
    buf = bytes(data) if isinstance(data, memoryview) else data
    numbers: dict[int, int] = {}
    pos, end = body_at, len(buf)
    if header is not None and isinstance(header.get(WALKED_TO), int):
        pos = header[WALKED_TO]
        for known, keyword in _KEYWORDS.items():
            value = header.get(keyword)
            with contextlib.suppress(ValueError, TypeError):
                numbers[known] = int(float(str(value).split("\\")[0]))
    try:
        while pos + 8 <= end:
            group, elem = struct.unpack_from("<HH", buf, pos)
            tag_int = group << 16 | elem
            _vr, length, pos = element_header(buf, pos, tag_int, implicit)
            if length == _UNDEFINED:
                if tag_int == _PIXEL_DATA:
                    return _encapsulated_reason(buf, pos)
                pos = skip_undefined(buf, pos, implicit)
                continue
            if pos + length > end:
                return _past_end(pos + length, end)
            if tag_int in (_SAMPLES, _FRAMES, _ROWS, _COLUMNS, _BITS):
                numbers[tag_int] = _number(buf[pos : pos + length], tag_int)
            if tag_int == _PIXEL_DATA:
                # What follows the pixel data (padding, vendor trailers) is not judged.
                return _short_pixels(length, numbers)
            pos += length
    except Unusual:
        return _past_end(end + 1, end)
    except (struct.error, ValueError):
        return ""  # not walkable this way: the header reader judged it already
    return ""


def _number(value: bytes, tag: int) -> int:
    if tag == _FRAMES:  # IS: a decimal string
        text = value.decode("ascii", "replace").strip("\x00 ").split("\\")[0]
        return int(float(text)) if text else 1
    return struct.unpack_from("<H", value)[0] if len(value) >= 2 else 0


def _short_pixels(length: int, numbers: dict[int, int]) -> str:
    rows, columns = numbers.get(_ROWS, 0), numbers.get(_COLUMNS, 0)
    bits = numbers.get(_BITS, 0)
    samples = numbers.get(_SAMPLES, 1) or 1
    frames = max(1, numbers.get(_FRAMES, 1))
    if not (rows and columns and bits):
        return ""
    need = (rows * columns * samples * frames * bits + 7) // 8
    if length >= need:
        return ""
    return _("Its pixel data is shorter than its image size says ({have} of {need} bytes).").format(
        have=length, need=need
    )


def _encapsulated_reason(buf: bytes, pos: int) -> str:
    """Encapsulated pixel data: every fragment inside the file, its end marker too."""
    try:
        skip_undefined(buf, pos, implicit=False)
    except RunsPastEnd as cut:
        return _past_end(cut.wanted, len(buf))
    except Unusual:
        return ""  # odd, but not ours to judge here
    return ""


def _past_end(wanted: int, end: int) -> str:
    return _(
        "The file is cut short: an element runs past its end ({have} of {need} bytes)."
    ).format(have=end, need=wanted)
