"""Part-10 bytes: find the dataset body, and write our own file meta in front of it.

Every stored file is ``128 zero bytes + "DICM" + our file meta + the body as received``.
The preamble is zeroed (a preamble can carry an executable, PS3.10 7.5), and the meta
is rebuilt (group length, SOP class/instance, transfer syntax, our implementation UID),
so two copies of the same instance with the same body are byte-identical files: the
SHA-256 of the stored file is the duplicate test.  The body bytes are never changed.
"""

from __future__ import annotations

import struct
from io import BytesIO

from pydicom.dataset import FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_file_meta_info

from workstation import __version__

IMPLEMENTATION_CLASS_UID = "2.25.172614040347273045779322449540211168600"
IMPLEMENTATION_VERSION_NAME = f"KLINIKA_{__version__}"[:16]
PREAMBLE = b"\x00" * 128
MAGIC = b"DICM"
_LONG_VRS = {
    b"OB",
    b"OD",
    b"OF",
    b"OL",
    b"OV",
    b"OW",
    b"SQ",
    b"SV",
    b"UC",
    b"UN",
    b"UR",
    b"UT",
    b"UV",
}
#: A file meta group larger than this is not a file meta group.
MAX_META_BYTES = 64 * 1024


def has_part10_magic(data: bytes) -> bool:
    return len(data) >= 132 and data[128:132] == MAGIC


def meta_end(data: bytes) -> int | None:
    """Offset of the first byte after the file meta group, or None if not Part 10.

    Walks the (always explicit VR little endian) group 0002 elements without trusting
    the group length, and stops at the first element of another group.
    """
    if not has_part10_magic(data):
        return None
    pos, limit = 132, min(len(data), 132 + MAX_META_BYTES)
    while pos + 8 <= limit:
        group = struct.unpack_from("<H", data, pos)[0]
        if group != 0x0002:
            return pos
        vr = data[pos + 4 : pos + 6]
        if vr in _LONG_VRS:
            if pos + 12 > limit:
                return None
            length = struct.unpack_from("<I", data, pos + 8)[0]
            pos += 12 + length
        else:
            length = struct.unpack_from("<H", data, pos + 6)[0]
            pos += 8 + length
    return pos if pos == len(data) else None


def build_meta(sop_class_uid: str, sop_instance_uid: str, transfer_syntax_uid: str) -> bytes:
    """``preamble + DICM + file meta`` for a stored file."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class_uid
    meta.MediaStorageSOPInstanceUID = sop_instance_uid
    meta.TransferSyntaxUID = transfer_syntax_uid
    meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
    fp = DicomBytesIO()
    fp.is_little_endian = True
    fp.is_implicit_VR = False
    write_file_meta_info(fp, meta, enforce_standard=True)
    return PREAMBLE + MAGIC + fp.getvalue()


def encode_dataset(ds: object) -> bytes:
    """Part-10 bytes of a decoded pydicom Dataset (for C-STORE/WADO receivers)."""
    from pydicom import dcmwrite
    from pydicom.dataset import Dataset
    from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

    assert isinstance(ds, Dataset)
    meta = getattr(ds, "file_meta", None) or FileMetaDataset()
    tsyntax = meta.get("TransferSyntaxUID")
    if tsyntax is None:
        # A dataset without a transfer syntax: say what it is, from how it was read.
        implicit = getattr(ds, "is_implicit_VR", None) or ds.original_encoding[0]
        tsyntax = ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian
    new_meta = FileMetaDataset()
    new_meta.TransferSyntaxUID = tsyntax
    new_meta.MediaStorageSOPClassUID = ds.get("SOPClassUID", meta.get("MediaStorageSOPClassUID"))
    new_meta.MediaStorageSOPInstanceUID = ds.get(
        "SOPInstanceUID", meta.get("MediaStorageSOPInstanceUID")
    )
    original = ds.file_meta if hasattr(ds, "file_meta") else None
    ds.file_meta = new_meta
    try:
        buf = BytesIO()
        dcmwrite(buf, ds, enforce_file_format=True)
    finally:
        if original is not None:
            ds.file_meta = original
    return buf.getvalue()
