"""Search keys: folded text and DICOM-style wildcards.

Names and descriptions are stored a second time in a *folded* form so a search is case-
and accent-insensitive in every script: Unicode NFKD, combining marks dropped, upper
case, the PN component separator ``^`` and the group separator ``=`` turned into spaces,
runs of spaces collapsed.  "Müller^Jürgen", "MULLER JURGEN" and "müller jürgen" fold
alike, and so do "Иванов^Иван" and "ИВАНОВ ИВАН".  A query is folded the same way.
"""

from __future__ import annotations

import datetime
import re
import unicodedata

_SPACES = re.compile(r"\s+")


def fold(text: str | None) -> str:
    """Fold ``text`` for searching (see the module docstring)."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", str(text))
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    kept = kept.replace("^", " ").replace("=", " ")
    return _SPACES.sub(" ", kept).strip().upper()


def has_wildcard(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern


def wildcard_to_like(pattern: str, escape: str = "\\") -> str:
    """Turn a DICOM wildcard pattern (``*``, ``?``) into a SQL LIKE pattern.

    Literal ``%``, ``_`` and the escape character are escaped with ``escape``.
    """
    out = []
    for ch in pattern:
        if ch == "*":
            out.append("%")
        elif ch == "?":
            out.append("_")
        elif ch in ("%", "_", escape):
            out.append(escape + ch)
        else:
            out.append(ch)
    return "".join(out)


def literal_prefix(pattern: str) -> str:
    """The part of a wildcard pattern before its first wildcard."""
    for i, ch in enumerate(pattern):
        if ch in "*?":
            return pattern[:i]
    return pattern


def contains_pattern(text: str) -> str:
    """A user's search text as a wildcard pattern: as is with wildcards, else *text*."""
    text = text.strip()
    if not text or has_wildcard(text):
        return text
    return f"*{text}*"


_DATE = re.compile(r"^\d{8}$")
_ONE_DATE = r"\d{8}|\d{4}-\d{2}-\d{2}"
_DATE_RANGE = re.compile(rf"^(?P<lo>{_ONE_DATE})?\s*(?P<sep>\.\.|/|-)?\s*(?P<hi>{_ONE_DATE})?$")


def normalize_date(value: str) -> str:
    """``2024-01-31``, ``2024.01.31`` or ``20240131`` -> ``20240131``.

    Raises ValueError for anything else, and for dates no calendar has (``20240231``).
    """
    digits = value.strip().replace("-", "").replace(".", "").replace("/", "")
    if not _DATE.match(digits):
        raise ValueError(f"not a date: {value!r}")
    try:
        datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        raise ValueError(f"no such date: {value!r}") from None
    return digits


def parse_date_range(text: str) -> tuple[str | None, str | None]:
    """Parse a date or a range of dates, in DICOM or ISO 8601 form.

    A date is ``YYYYMMDD`` or ``YYYY-MM-DD``; a range is ``FROM-TO``, ``FROM..TO`` or
    ``FROM/TO`` (ISO interval), with either end left open (``FROM-``, ``-TO``).  Mixed
    forms (``2024-01-01-20240131``) are accepted too.  Returns (low, high) as
    ``YYYYMMDD`` strings or None for an open end.  Raises ValueError for text that is no
    date, for dates no calendar has (``20240231``) and for a range that ends before it
    starts.
    """
    match = _DATE_RANGE.match(text.strip())
    if match is None or not (match["lo"] or match["hi"]):
        raise ValueError(f"not a date range: {text!r}")
    lo, sep, hi = match["lo"], match["sep"], match["hi"]
    if lo and hi and not sep:
        raise ValueError(f"not a date range: {text!r}")
    low = normalize_date(lo) if lo else None
    high = normalize_date(hi) if hi else None
    if not sep:
        high = low
    if low and high and low > high:
        raise ValueError(f"the range ends before it starts: {text!r}")
    return low, high
