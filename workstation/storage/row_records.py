"""Frozen records from database rows: each field is read from the row's column of the
same name, so a record type and its query cannot drift apart field by field.

For SQLAlchemy ``Row`` objects and for plain mappings (``sqlite3.Row`` included).
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls) if f.init)
    return names


def record_from_row(cls: type[T], row: Any, **converted: Any) -> T:
    """``cls(...)`` (a dataclass) with every field taken from ``row``'s column of that
    name, except those given in ``converted`` (columns renamed or converted on the way).

    A field with neither a column nor a ``converted`` value raises ``KeyError``: a
    record's defaults are not a way to hide a column the query forgot.
    """
    columns = getattr(row, "_mapping", row)
    values = {name: columns[name] for name in _field_names(cls) if name not in converted}
    return cls(**values, **converted)
