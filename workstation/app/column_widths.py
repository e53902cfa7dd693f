"""``fit_columns(header, widths)``: set table column widths, never narrower than the
column's title in the current language (a German or Russian title is longer)."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHeaderView, QStyle

#: Room for the sort arrow beside a title.
_SORT_ARROW_PX = 16


def title_width(header: QHeaderView, column: int) -> int:
    """Pixels the column's title needs, margins and sort arrow included."""
    model = header.model()
    title = model.headerData(column, Qt.Orientation.Horizontal) if model is not None else None
    margin = header.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMargin, None, header)
    text = str(title or "")
    return header.fontMetrics().horizontalAdvance(text) + 2 * margin + _SORT_ARROW_PX + 4


def fit_columns(header: QHeaderView, widths: Iterable[tuple[int, int]]) -> None:
    for column, width in widths:
        header.resizeSection(column, max(width, title_width(header, column)))
