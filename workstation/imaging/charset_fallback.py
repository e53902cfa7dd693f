"""The site's fallback character set for files that declare none (``archive.fallback_charset``).

A file without (0008,0005) Specific Character Set may only hold ASCII text, but CDs from
many modalities carry Windows-1251 (or other) bytes anyway, which then read as mojibake.
When the setting names a character set, text of such files is decoded with it at import,
and the study's ``character_set`` column records it as ``fallback:<name>`` so lists and
``studies --json`` can say which studies were read that way.  Files that declare a
character set, or whose text is plain ASCII, are read as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

#: Prefix of the study ``character_set`` column for studies read with the fallback.
FALLBACK_MARK = "fallback:"
#: Text VRs whose bytes depend on the character set.
CHARSET_VRS = frozenset({"LO", "LT", "PN", "SH", "ST", "UC", "UT"})


def needs_fallback(declared: bool, fallback: str, values: Iterable[tuple[str, bytes]]) -> bool:
    """True when the fallback applies: none declared, one set, and some text not ASCII."""
    if declared or not fallback:
        return False
    return any(vr in CHARSET_VRS and not value.isascii() for vr, value in values)


def apply_to_dataset(ds: Any, fallback: str) -> str:
    """Have a header-only pydicom Dataset read from a file that declares no character set
    decode its text with the fallback (call it before any text is read); the fallback
    when it was applied, else ""."""
    if not fallback or "SpecificCharacterSet" in ds:
        return ""
    # ``elements()`` yields the raw elements as read, without decoding them.
    values = ((_vr(e), e.value) for e in ds.elements() if isinstance(e.value, bytes))
    if not needs_fallback(False, fallback, values):
        return ""
    from pydicom.charset import convert_encodings

    implicit, little = ds.original_encoding
    # pydicom decodes raw text with the data set's original character set, which a file
    # without (0008,0005) has as the default: replace it, nothing else changes.
    ds.set_original_encoding(implicit, little, convert_encodings([fallback]))
    return fallback


def mark(fallback: str) -> str:
    return f"{FALLBACK_MARK}{fallback}"


def fallback_of(character_set: str) -> str:
    """The fallback a study was read with (from its ``character_set`` column), or ""."""
    return character_set[len(FALLBACK_MARK) :] if character_set.startswith(FALLBACK_MARK) else ""


def _vr(elem: Any) -> str:
    """A raw element's VR; implicit VR files carry none, so the dictionary's."""
    if elem.VR:
        return str(elem.VR)
    from pydicom.datadict import dictionary_VR

    try:
        return str(dictionary_VR(elem.tag))
    except KeyError:
        return ""
