"""Search keys: folded text and DICOM-style wildcards.

Names and descriptions are stored a second time in a *folded* form so a search is case-
and accent-insensitive in every script: Unicode NFKD, combining marks dropped, upper
case, the PN component separator ``^`` and the group separator ``=`` turned into spaces,
runs of spaces collapsed.  "Müller^Jürgen", "MULLER JURGEN" and "müller jürgen" fold
alike, and so do "Иванов^Иван" and "ИВАНОВ ИВАН".  A query is folded the same way.
"""

from __future__ import annotations

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


def normalize_date(value: str) -> str:
    """``2024-01-31``, ``2024.01.31`` or ``20240131`` -> ``20240131``; else raise ValueError."""
    digits = value.strip().replace("-", "").replace(".", "").replace("/", "")
    if not _DATE.match(digits):
        raise ValueError(f"not a date: {value!r}")
    return digits


def parse_date_range(text: str) -> tuple[str | None, str | None]:
    """Parse ``FROM-TO``, ``FROM-``, ``-TO`` or a single date (DICOM range form).

    Dates may be written ``YYYYMMDD`` or ``YYYY-MM-DD``; ranges with ISO dates use ``..``
    or `` - `` is ambiguous, so ``YYYY-MM-DD..YYYY-MM-DD`` is accepted too.
    Returns (low, high) as ``YYYYMMDD`` strings or None for an open end.
    """
    text = text.strip()
    if ".." in text:
        lo, _, hi = text.partition("..")
    elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        lo = hi = text
    else:
        parts = text.split("-")
        if len(parts) == 1:
            lo = hi = parts[0]
        elif len(parts) == 2:
            lo, hi = parts
        else:
            raise ValueError(f"not a date range: {text!r}")
    low = normalize_date(lo) if lo.strip() else None
    high = normalize_date(hi) if hi.strip() else None
    return low, high
