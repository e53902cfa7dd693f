"""A long preamble before the first boundary (found by tests/fuzz/test_fuzz_multipart.py).

The reader kept the preamble in its buffer: sent in small chunks it counted against the
per-part cap and raised ResponseTooLarge, sent in one chunk it was accepted - the same
response gave different results depending on how the network cut it.  Now the preamble
is dropped as it arrives, and both give the parts.
"""

from __future__ import annotations

import pytest

from workstation.pacs_node.dicomweb.multipart import iter_parts

BOUNDARY = b"b0und"
CAP = 1024


def _response(preamble: bytes) -> bytes:
    part = b"--" + BOUNDARY + b"\r\nContent-Type: application/dicom\r\n\r\nDICM-1\r\n"
    return preamble + b"\r\n" + part + b"--" + BOUNDARY + b"--\r\n"


@pytest.mark.parametrize("chunk", [1, 7, 512, 1 << 20])
def test_long_preamble_is_skipped_whatever_the_chunking(chunk: int) -> None:
    data = _response(b"x" * (64 * CAP))  # past the cap plus the 16 KiB for part headers
    chunks = [data[i : i + chunk] for i in range(0, len(data), chunk)]
    assert list(iter_parts(iter(chunks), BOUNDARY, max_part_bytes=CAP)) == [b"DICM-1"]
