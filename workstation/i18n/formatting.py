"""Display forms of dates, times, numbers, units and names in the UI language (Babel).

Every function takes an optional ``language``; by default the current UI language.
``ru``: ``07.03.2026``, ``1 234,5``, ``12,5 мм``; ``de``: ``07.03.2026``, ``1.234,5``;
``fr``: ``07/03/2026``.  English keeps ISO dates (``2026-03-07``) and 24-hour times:
the product's English is international, and a US ``3/7/26`` misleads a reader abroad.
Values that are not well-formed DICOM dates/times are shown unchanged.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_skeleton, format_time
from babel.numbers import format_decimal
from babel.units import format_unit

from workstation.i18n import current_language


@lru_cache(maxsize=16)
def _locale(language: str) -> Locale | None:
    """The Babel locale for a UI language; None for English and unknown codes."""
    if language == "en":
        return None
    try:
        return Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        return None


def _parse_date(value: str) -> dt.date | None:
    v = (value or "").strip()
    if len(v) != 8 or not v.isdigit():
        return None
    try:
        return dt.date(int(v[:4]), int(v[4:6]), int(v[6:]))
    except ValueError:
        return None


def date(value: dt.date, language: str | None = None) -> str:
    """A calendar date, numeric with a four-digit year."""
    loc = _locale(language or current_language())
    if loc is None:
        return value.isoformat()
    return str(format_skeleton("yMMdd", value, locale=loc))


def dicom_date(value: str, language: str | None = None) -> str:
    """``20260307`` -> ``2026-03-07`` / ``07.03.2026`` / ``07/03/2026``; else unchanged."""
    d = _parse_date(value)
    return date(d, language) if d is not None else (value or "").strip()


def dicom_time(value: str, language: str | None = None) -> str:
    """``140503.25`` -> ``14:05``; anything else unchanged."""
    v = (value or "").strip()
    if len(v) < 4 or not v[:4].isdigit() or int(v[:2]) > 23 or int(v[2:4]) > 59:
        return v
    t = dt.time(int(v[:2]), int(v[2:4]))
    loc = _locale(language or current_language())
    return t.strftime("%H:%M") if loc is None else str(format_time(t, "short", locale=loc))


def decimal(value: float, digits: int = 1, language: str | None = None) -> str:
    """A number with ``digits`` decimals and the locale's separators: ``1 234,5``."""
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return str(format_decimal(value, format=pattern, locale=_locale_or_en(language)))


def integer(value: int, language: str | None = None) -> str:
    """A count with the locale's grouping: ``12 345`` / ``12.345`` / ``12,345``."""
    return decimal(value, 0, language)


def _locale_or_en(language: str | None) -> Locale:
    return _locale(language or current_language()) or Locale.parse("en")


def _unit(value: float, unit: str, digits: int, language: str | None) -> str:
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    loc = _locale_or_en(language)
    return str(format_unit(value, unit, length="short", format=pattern, locale=loc))


def length_mm(value: float, digits: int = 1, language: str | None = None) -> str:
    """``12,5 мм`` / ``12.5 mm``."""
    return _unit(value, "length-millimeter", digits, language)


def length_cm(value: float, digits: int = 0, language: str | None = None) -> str:
    """``4 см`` / ``4 cm``."""
    return _unit(value, "length-centimeter", digits, language)


def byte_size(n: float, language: str | None = None) -> str:
    """``1,5 МБ`` / ``1.5 MB`` (binary multiples, as file managers count)."""
    size = float(n)
    units = ("digital-kilobyte", "digital-megabyte", "digital-gigabyte", "digital-terabyte")
    if abs(size) < 1024:
        if _locale(language or current_language()) is None:
            return f"{size:.0f} B"
        return _unit(size, "digital-byte", 0, language)
    for unit in units:
        size /= 1024
        if abs(size) < 1024 or unit == units[-1]:
            return _unit(size, unit, 1, language)
    raise AssertionError("unreachable")  # pragma: no cover


def person_name(value: str) -> str:
    """``DOE^JOHN^^DR`` -> ``DOE, JOHN DR`` (alphabetic group only)."""
    alphabetic = (value or "").split("=")[0]
    parts = [p.strip() for p in alphabetic.split("^")]
    family, rest = (parts[0], [p for p in parts[1:] if p]) if parts else ("", [])
    if family and rest:
        return f"{family}, {' '.join(rest)}"
    return family or " ".join(rest)


__all__ = [
    "byte_size",
    "date",
    "decimal",
    "dicom_date",
    "dicom_time",
    "integer",
    "length_cm",
    "length_mm",
    "person_name",
]
