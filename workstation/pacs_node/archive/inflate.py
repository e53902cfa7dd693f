"""Bounded inflation of a Deflated Explicit VR Little Endian data set.

pydicom inflates a deflated data set whole, in one allocation: a few megabytes that
inflate to gigabytes (a deflate bomb) end in ``MemoryError`` and starve every other
thread of the process.  :func:`inflate_header` inflates in fixed-size steps instead,
counts what the whole stream inflates to against ``archive.max_inflated_bytes``, and
keeps only the first ``keep`` bytes (the header lives there; the pixel data, if any, is
at the end).  Memory used is at most ``keep`` plus one step, whatever the input says.
"""

from __future__ import annotations

import zlib

from workstation.i18n import _
from workstation.pacs_node.archive.errors import InvalidDicomError

DEFLATED_LE = "1.2.840.10008.1.2.1.99"
#: Inflated bytes produced per step.
_STEP = 16 * 1024 * 1024
#: The inflated header kept for parsing (everything before the pixel data).
HEADER_KEEP_BYTES = 64 * 1024 * 1024


class InflateLimitError(InvalidDicomError):
    """The deflated data set inflates beyond the configured cap (a deflate bomb)."""


def inflate_header(
    deflated: bytes | memoryview, limit: int, keep: int = HEADER_KEEP_BYTES
) -> bytes:
    """The first ``keep`` inflated bytes of a raw deflate stream, once it is known to
    inflate to at most ``limit`` bytes.

    Raises :class:`InflateLimitError` past ``limit`` and :class:`InvalidDicomError` when
    the stream is damaged.  Bytes after the end of the stream (padding) are ignored.
    """
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    kept: list[bytes] = []
    kept_bytes = total = 0
    pending: bytes | memoryview = deflated
    try:
        while not inflater.eof:
            out = inflater.decompress(pending, _STEP)
            total += len(out)
            if total > limit:
                raise InflateLimitError(
                    _(
                        "The deflated data set inflates to more than {limit} bytes "
                        "(archive.max_inflated_bytes); it was not stored."
                    ).format(limit=limit)
                )
            if kept_bytes < keep and out:
                kept.append(out[: keep - kept_bytes])
                kept_bytes += len(kept[-1])
            pending = inflater.unconsumed_tail
            if not out and not pending:
                break  # the input ended before the stream did: parse what there is
    except zlib.error as exc:
        raise InvalidDicomError(
            _("The deflated data set is damaged and cannot be inflated.")
        ) from exc
    return b"".join(kept)
