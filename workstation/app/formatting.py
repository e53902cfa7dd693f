"""Display forms of DICOM values (dates, person names, sizes) for the tables."""

from __future__ import annotations


def dicom_date(value: str) -> str:
    """``20240131`` -> ``2024-01-31``; anything else unchanged."""
    v = (value or "").strip()
    if len(v) == 8 and v.isdigit():
        return f"{v[:4]}-{v[4:6]}-{v[6:]}"
    return v


def dicom_time(value: str) -> str:
    v = (value or "").strip()
    if len(v) >= 4 and v[:4].isdigit():
        return f"{v[:2]}:{v[2:4]}"
    return v


def person_name(value: str) -> str:
    """``DOE^JOHN^^DR`` -> ``DOE, JOHN DR`` (alphabetic group only)."""
    alphabetic = (value or "").split("=")[0]
    parts = [p.strip() for p in alphabetic.split("^")]
    family, rest = (parts[0], [p for p in parts[1:] if p]) if parts else ("", [])
    if family and rest:
        return f"{family}, {' '.join(rest)}"
    return family or " ".join(rest)


def byte_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"
