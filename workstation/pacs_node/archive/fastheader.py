"""A fast reader for the handful of header tags the index needs.

pydicom parses and converts the whole header; for import speed this reader walks the
elements of a little-endian dataset (explicit or implicit VR) once, skips sequences and
everything it does not need, stops after (0028,0030) - before the private groups and the
pixel data - and decodes only the wanted values.  Text is decoded with pydicom's own
character-set code (``SpecificCharacterSet``, ISO 2022 escapes included).

It returns None when the input is anything unusual (big endian, deflated, a length that
runs past the end, ...): the caller then reads the file with pydicom.  A test compares
both readers on every sample file.
"""

from __future__ import annotations

import struct
from typing import Any

from pydicom.charset import convert_encodings, decode_bytes
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.valuerep import PersonName

from workstation.imaging.charset_fallback import needs_fallback
from workstation.pacs_node.archive.part10 import LONG_VRS

EXPLICIT_LE = "1.2.840.10008.1.2.1"
IMPLICIT_LE = "1.2.840.10008.1.2"
#: Little-endian syntaxes whose dataset is explicit VR (the encapsulated ones).
_NOT_PLAIN = {"1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.2"}  # deflated, big endian
_TEXT_WITH_CHARSET = {"LO", "LT", "SH", "ST", "UC", "UT"}
_UNDEFINED = 0xFFFFFFFF
_ITEM, _ITEM_END, _SEQ_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
_CHARSET_TAG = 0x00080005
_STRIP_BOTH = {"AS", "CS", "DA", "DS", "DT", "IS", "TM", "UI"}
_STOP_AFTER = 0x00280030

WANTED_KEYWORDS = (
    "SpecificCharacterSet",
    "SOPClassUID",
    "SOPInstanceUID",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "PatientID",
    "PatientName",
    "PatientBirthDate",
    "PatientSex",
    "IssuerOfPatientID",
    "StudyDate",
    "StudyTime",
    "AccessionNumber",
    "StudyID",
    "StudyDescription",
    "ReferringPhysicianName",
    "InstitutionName",
    "Modality",
    "SeriesNumber",
    "SeriesDescription",
    "SeriesDate",
    "SeriesTime",
    "BodyPartExamined",
    "ProtocolName",
    "Manufacturer",
    "StationName",
    "FrameOfReferenceUID",
    "InstanceNumber",
    "NumberOfFrames",
    "Rows",
    "Columns",
    "ImagePositionPatient",
    "ImageOrientationPatient",
    "PixelSpacing",
    "SliceThickness",
    "SliceLocation",
    "AcquisitionNumber",
    "ContentDate",
    "ContentTime",
    "PhotometricInterpretation",
    "SamplesPerPixel",
)
#: Key of the offset where the walk stopped (the first element after (0028,0030)):
#: :mod:`~workstation.pacs_node.archive.completeness` goes on from there.
WALKED_TO = "_walked_to"
_WANTED = {int(tag_for_keyword(k)): k for k in WANTED_KEYWORDS}  # type: ignore[arg-type]


class Unusual(Exception):
    """The data set is not one this reader walks (or it runs past the end)."""


class RunsPastEnd(Unusual):
    """An item of a sequence or encapsulated value runs past the end of the data:
    ``wanted`` bytes were needed."""

    def __init__(self, wanted: int) -> None:
        super().__init__(f"an item runs past the end (needs {wanted} bytes)")
        self.wanted = wanted


#: Key of the returned dict naming the fallback character set used (see charset_fallback).
FALLBACK_KEY = "_fallback_charset"


def read_header(
    data: bytes, body_at: int, transfer_syntax_uid: str, fallback_charset: str = ""
) -> dict[str, Any] | None:
    """Keyword -> decoded value for the wanted tags, or None to fall back to pydicom.

    ``fallback_charset`` decodes the text of a data set that declares no character set
    (``archive.fallback_charset``); when it was used, the dict names it under
    :data:`FALLBACK_KEY`."""
    if transfer_syntax_uid in _NOT_PLAIN:
        return None
    implicit = transfer_syntax_uid == IMPLICIT_LE
    try:
        raw, walked_to = _walk(data, body_at, implicit)
        out = _decode(raw, fallback_charset)
    except (Unusual, struct.error, UnicodeError, ValueError, LookupError):
        return None
    out[WALKED_TO] = walked_to
    return out


def _walk(data: bytes, pos: int, implicit: bool) -> tuple[dict[int, tuple[str, bytes]], int]:
    found: dict[int, tuple[str, bytes]] = {}
    end = len(data)
    while pos + 8 <= end:
        group, elem = struct.unpack_from("<HH", data, pos)
        tag = group << 16 | elem
        if tag > _STOP_AFTER:
            break
        vr, length, pos = element_header(data, pos, tag, implicit)
        if length == _UNDEFINED:
            pos = skip_undefined(data, pos, implicit)
            continue
        if pos + length > end:
            raise Unusual("value runs past the end")
        if tag in _WANTED:
            found[tag] = (vr, data[pos : pos + length])
        pos += length
    return found, pos


def element_header(data: bytes, pos: int, tag: int, implicit: bool) -> tuple[str, int, int]:
    if implicit:
        (length,) = struct.unpack_from("<I", data, pos + 4)
        try:
            vr = dictionary_VR(tag) if tag in _WANTED else "UN"
        except KeyError:
            vr = "UN"
        return vr, length, pos + 8
    vr_bytes = data[pos + 4 : pos + 6]
    if vr_bytes in LONG_VRS:
        (length,) = struct.unpack_from("<I", data, pos + 8)
        return vr_bytes.decode("ascii"), length, pos + 12
    if not vr_bytes.isalpha():
        raise Unusual("not explicit VR")
    (length,) = struct.unpack_from("<H", data, pos + 6)
    return vr_bytes.decode("ascii"), length, pos + 8


def skip_undefined(data: bytes, pos: int, implicit: bool, depth: int = 0) -> int:
    """Skip a sequence (or encapsulated value) of undefined length; return the end.

    Raises :class:`RunsPastEnd` when an item or the end marker lies past the data."""
    if depth > 32:
        raise Unusual("sequences nested too deep")
    end = len(data)
    while pos + 8 <= end:
        group, elem, length = struct.unpack_from("<HHI", data, pos)
        tag = group << 16 | elem
        pos += 8
        if tag == _SEQ_END:
            return pos
        if tag != _ITEM:
            raise Unusual("unexpected element inside a sequence")
        if length != _UNDEFINED:
            if pos + length > end:
                raise RunsPastEnd(pos + length)
            pos += length
            continue
        pos = _skip_item(data, pos, implicit, depth + 1)
    raise RunsPastEnd(end + 1)


def _skip_item(data: bytes, pos: int, implicit: bool, depth: int) -> int:
    end = len(data)
    while pos + 8 <= end:
        group, elem = struct.unpack_from("<HH", data, pos)
        tag = group << 16 | elem
        if tag == _ITEM_END:
            return pos + 8
        _vr, length, pos = element_header(data, pos, tag, implicit)
        if length == _UNDEFINED:
            pos = skip_undefined(data, pos, implicit, depth)
        else:
            pos += length
    raise Unusual("item runs past the end")


def _decode(raw: dict[int, tuple[str, bytes]], fallback_charset: str = "") -> dict[str, Any]:
    charset = raw.get(_CHARSET_TAG)
    names = ["ISO_IR 6"]
    if charset is not None:
        text = charset[1].decode("ascii").strip(" \x00")
        names = [n.strip() for n in text.split("\\")] or names
    out: dict[str, Any] = {}
    if needs_fallback(charset is not None, fallback_charset, raw.values()):
        names = [fallback_charset]
        out[FALLBACK_KEY] = fallback_charset
    encodings = convert_encodings(names)
    for tag, (vr, value) in raw.items():
        if vr == "UN":  # explicit VR "UN" for a known tag: use the dictionary's VR
            vr = dictionary_VR(tag)
        out[_WANTED[tag]] = _value(vr, value, encodings)
    return out


def _value(vr: str, value: bytes, encodings: list[str]) -> Any:
    if vr == "US":
        return struct.unpack_from("<H", value)[0] if len(value) >= 2 else None
    if vr == "UL":
        return struct.unpack_from("<I", value)[0] if len(value) >= 4 else None
    if vr == "SQ" or vr.startswith("O"):
        return None
    if vr == "PN":
        return str(PersonName(value.rstrip(b"\x00 "), encodings)).strip()
    if vr in _TEXT_WITH_CHARSET and not value.isascii():
        text = decode_bytes(value, encodings, set())
    else:
        text = value.decode("ascii", "replace")
    # Per value, as pydicom does: numbers, codes, dates and UIDs lose padding both sides.
    if vr in _STRIP_BOTH:
        return "\\".join(v.strip("\x00 ") for v in text.split("\\"))
    return "\\".join(v.rstrip("\x00 ") for v in text.split("\\")).strip("\x00 ")
