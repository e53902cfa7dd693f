"""QIDO-RS query strings that work on any server, Orthanc DICOMweb 1.7 included.

Orthanc's DICOMweb plugin 1.7 does not percent-decode query values: ``PatientName=%2A``
or ``DOE%5EJOHN`` match nothing, and a wildcard-only filter matches nothing either.  So:

- a filter that is only wildcards (``*``) is left out (it matches everything anyway);
- ``*`` and ``?`` are sent as they are (both are legal in a query string);
- any other character that would need percent-encoding (``^``, space, non-ASCII, ...)
  is sent as the single-character wildcard ``?``;

and the answers are then filtered here with DICOM matching on the values we widened, so
the result is exactly what the filter asked for, on Orthanc and on standard servers.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from urllib.parse import quote

from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataset import Dataset

_RAW_SAFE = frozenset(string.ascii_letters + string.digits + "-._~*?,")


def _orthanc_safe(value: str) -> tuple[str, bool]:
    """``value`` with unsafe characters replaced by ``?``; True if anything was."""
    out = "".join(c if c in _RAW_SAFE else "?" for c in value)
    return out, out != value


def build_query(
    filters: Mapping[str, str],
    *,
    include: Iterable[str] = (),
    limit: int | None = None,
    offset: int = 0,
) -> tuple[str, dict[str, str]]:
    """The query string, and the filters to re-check here (keyword -> original value).

    Raises ValueError for a keyword that is not in the DICOM dictionary.
    """
    parts: list[str] = []
    recheck: dict[str, str] = {}
    for keyword, value in filters.items():
        tag = tag_for_keyword(keyword)
        if tag is None:
            raise ValueError(f"unknown DICOM attribute {keyword!r}")
        value = str(value).strip()
        if not value or set(value) <= {"*"}:
            continue
        safe, widened = _orthanc_safe(value)
        if widened:
            recheck[keyword] = value
        parts.append(f"{keyword}={quote(safe, safe='*?,')}")
    for keyword in include:
        tag = tag_for_keyword(keyword)
        if tag is None:
            raise ValueError(f"unknown DICOM attribute {keyword!r}")
        parts.append(f"includefield={tag:08X}")
    if limit is not None:
        parts.append(f"limit={int(limit)}")
    if offset:
        parts.append(f"offset={int(offset)}")
    return "&".join(parts), recheck


def wildcard_regex(pattern: str, *, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{body}$", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def matches(ds: Dataset, recheck: Mapping[str, str]) -> bool:
    """DICOM matching of ``ds`` against the filters the server saw widened.

    Person names match case-insensitively (what Orthanc and most archives do); other
    values exactly, with ``*`` and ``?`` as wildcards.  A multi-valued attribute
    matches when any of its values does.
    """
    for keyword, pattern in recheck.items():
        value = ds.get(keyword)
        if value is None:
            return False
        texts = [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]
        regex = wildcard_regex(pattern, ignore_case=dictionary_VR(keyword) == "PN")
        if not any(regex.match(t) for t in texts):
            return False
    return True
