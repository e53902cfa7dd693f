"""Hostile inputs built in tests: a deflate bomb, a short pixel data (no real patient data)."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

from pydicom.uid import DeflatedExplicitVRLittleEndian

from tests.pacs_node.archive.synth import make_ct
from workstation.pacs_node.archive import part10

#: Zero bytes per repeated deflate block of the bomb.
_BLOCK_BYTES = 64 * 1024 * 1024


def _explicit_body(ds: object) -> bytes:
    """The explicit VR little endian data set bytes of ``ds`` (no preamble, no meta)."""
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)  # type: ignore[attr-defined]
    data = buf.getvalue()
    end = part10.meta_end(data)
    assert end is not None
    return data[end:]


def deflate_bomb(path: Path, *, blocks: int = 60) -> Path:
    """A Deflated Explicit VR LE CT whose data set inflates to ``blocks`` x 64 MiB.

    The default inflates to 3.75 GiB from about 4 MB: a header, then a Pixel Data
    element of zeros as long as that.  The zero block is compressed once and repeated
    (each ends with a full flush, so the copies are independent, valid deflate blocks).
    """
    ds = make_ct(patient_name="BOMB^DEFLATE", patient_id="BOMB")
    del ds.PixelData
    pixel_bytes = blocks * _BLOCK_BYTES
    head = _explicit_body(ds) + struct.pack("<HH2sHI", 0x7FE0, 0x0010, b"OW", 0, pixel_bytes)
    first = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    stream = [first.compress(head) + first.flush(zlib.Z_FULL_FLUSH)]
    zeros = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = zeros.compress(bytes(_BLOCK_BYTES)) + zeros.flush(zlib.Z_FULL_FLUSH)
    stream += [block] * blocks
    last = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    stream.append(last.flush(zlib.Z_FINISH))
    meta = part10.build_meta(ds.SOPClassUID, ds.SOPInstanceUID, DeflatedExplicitVRLittleEndian)
    path.write_bytes(meta + b"".join(stream))
    return path


def deflated_ct(path: Path, **kwargs: object) -> Path:
    """An honest Deflated Explicit VR LE CT (small)."""
    ds = make_ct(**kwargs)  # type: ignore[arg-type]
    packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = packer.compress(_explicit_body(ds)) + packer.flush()
    meta = part10.build_meta(ds.SOPClassUID, ds.SOPInstanceUID, DeflatedExplicitVRLittleEndian)
    path.write_bytes(meta + body)
    return path
