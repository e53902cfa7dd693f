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

from workstation import __version__

IMPLEMENTATION_CLASS_UID = "2.25.172614040347273045779322449540211168600"
IMPLEMENTATION_VERSION_NAME = f"KLINIKA_{__version__}"[:16]
PREAMBLE = b"\x00" * 128
MAGIC = b"DICM"
#: VRs with a 2-byte reserved field and a 4-byte length in explicit-VR encoding.
LONG_VRS = frozenset(
    {
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
)
#: A file meta group larger than this is not a file meta group.
MAX_META_BYTES = 64 * 1024


def has_part10_magic(data: bytes) -> bool:
    return len(data) >= 132 and data[128:132] == MAGIC


#: The first group of a data set written without preamble and file meta (older software).
PLAUSIBLE_FIRST_GROUPS = (0x0002, 0x0008)


def starts_like_dataset(data: bytes) -> bool:
    """True when ``data`` starts like a data set without preamble and file meta."""
    return len(data) >= 8 and int.from_bytes(data[0:2], "little") in PLAUSIBLE_FIRST_GROUPS


def could_be_dicom(data: bytes) -> bool:
    """True when ``data`` has the Part-10 marker or starts like a bare data set."""
    return has_part10_magic(data) or starts_like_dataset(data)


def read_meta(data: bytes) -> tuple[int, dict[int, str]] | None:
    """(offset after the file meta group, {element: text}) or None if not Part 10.

    Walks the (always explicit VR little endian) group 0002 elements without trusting
    the group length, stops at the first element of another group, and returns the
    text of the short-VR elements (SOP class/instance, transfer syntax, ...).
    """
    if not has_part10_magic(data):
        return None
    pos, limit = 132, min(len(data), 132 + MAX_META_BYTES)
    values: dict[int, str] = {}
    while pos + 8 <= limit:
        group, elem = struct.unpack_from("<HH", data, pos)
        if group != 0x0002:
            return pos, values
        vr = data[pos + 4 : pos + 6]
        if vr in LONG_VRS:
            if pos + 12 > limit:
                return None
            length = struct.unpack_from("<I", data, pos + 8)[0]
            pos += 12 + length
        else:
            length = struct.unpack_from("<H", data, pos + 6)[0]
            if vr in (b"UI", b"AE", b"SH", b"CS"):
                values[elem] = data[pos + 8 : pos + 8 + length].decode("ascii", "replace")
                values[elem] = values[elem].strip("\x00 ")
            pos += 8 + length
    return (pos, values) if pos == len(data) else None


def meta_end(data: bytes) -> int | None:
    """Offset of the first byte after the file meta group, or None if not Part 10."""
    found = read_meta(data)
    return None if found is None else found[0]


def _element(tag_elem: int, vr: bytes, value: bytes) -> bytes:
    if vr in LONG_VRS:
        return struct.pack("<HH2sHI", 0x0002, tag_elem, vr, 0, len(value)) + value
    return struct.pack("<HH2sH", 0x0002, tag_elem, vr, len(value)) + value


def _even(value: str, pad: bytes) -> bytes:
    raw = value.encode("ascii")
    return raw + pad if len(raw) % 2 else raw


def build_meta(sop_class_uid: str, sop_instance_uid: str, transfer_syntax_uid: str) -> bytes:
    """``preamble + DICM + file meta`` for a stored file (explicit VR little endian)."""
    body = b"".join(
        (
            _element(0x0001, b"OB", b"\x00\x01"),
            _element(0x0002, b"UI", _even(sop_class_uid, b"\x00")),
            _element(0x0003, b"UI", _even(sop_instance_uid, b"\x00")),
            _element(0x0010, b"UI", _even(transfer_syntax_uid, b"\x00")),
            _element(0x0012, b"UI", _even(IMPLEMENTATION_CLASS_UID, b"\x00")),
            _element(0x0013, b"SH", _even(IMPLEMENTATION_VERSION_NAME, b" ")),
        )
    )
    group_length = _element(0x0000, b"UL", struct.pack("<I", len(body)))
    return PREAMBLE + MAGIC + group_length + body


def encode_dataset(ds: object) -> tuple[bytes, str]:
    """Part-10 bytes of a decoded pydicom Dataset, and the transfer syntax used."""
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
    return buf.getvalue(), str(tsyntax)
