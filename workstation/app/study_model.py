"""The local study list: a QAbstractTableModel over the archive's paged study query.

Rows arrive a page at a time (``fetchMore`` as the view scrolls), so 100,000 studies
cost what one screen costs.  Queries run off the GUI thread; answers to an older query
are dropped.  Sorting re-queries the archive in the order asked.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from workstation.app.thumbnails import ThumbnailCache, placeholder
from workstation.app.workers import run_in_background
from workstation.i18n import _
from workstation.i18n.formatting import dicom_date, person_name
from workstation.pacs_node.archive.queries import StudyQuery
from workstation.pacs_node.archive.records import StudyRecord

logger = logging.getLogger(__name__)

PAGE_SIZE = 100
Index = QModelIndex | QPersistentModelIndex
Runner = Callable[[Callable[[], Any], Callable[[Any], None], Callable[[BaseException], None]], Any]


@dataclasses.dataclass(frozen=True)
class Column:
    key: str
    title: Callable[[], str]
    value: Callable[[StudyRecord], str]
    sort_key: str | None = None


COLUMNS: tuple[Column, ...] = (
    Column("thumb", lambda: "", lambda r: "", None),
    Column(
        "patient_name", lambda: _("Patient"), lambda r: person_name(r.patient_name), "patient_name"
    ),
    Column("patient_id", lambda: _("Patient ID"), lambda r: r.patient_id),
    Column("birth_date", lambda: _("Birth date"), lambda r: dicom_date(r.patient_birth_date)),
    Column("sex", lambda: _("Sex"), lambda r: r.patient_sex),
    Column("study_date", lambda: _("Date"), lambda r: dicom_date(r.study_date), "study_date"),
    Column("modalities", lambda: _("Modality"), lambda r: ", ".join(r.modalities)),
    Column("description", lambda: _("Description"), lambda r: r.study_description),
    Column("accession", lambda: _("Accession"), lambda r: r.accession_number, "accession_number"),
    Column("series", lambda: _("Series"), lambda r: str(r.num_series)),
    Column("images", lambda: _("Images"), lambda r: images_text(r)),
)
THUMB_COLUMN = 0


def images_text(rec: StudyRecord) -> str:
    """The Images cell: the count, and how many of them are incomplete (cut short)."""
    if not rec.num_incomplete:
        return str(rec.num_instances)
    return _("{n} ({k} incomplete)").format(n=rec.num_instances, k=rec.num_incomplete)


class LocalStudyModel(QAbstractTableModel):
    sig_loaded = Signal()
    sig_count = Signal(int)
    sig_failed = Signal(object)

    def __init__(
        self,
        search: Callable[[StudyQuery], list[StudyRecord]],
        count: Callable[[StudyQuery], int],
        thumbnails: ThumbnailCache | None = None,
        *,
        runner: Runner | None = None,
        page_size: int = PAGE_SIZE,
        parent=None,
    ) -> None:
        super().__init__(parent)
        self._search = search
        self._count = count
        self._run: Runner = runner or (
            lambda fn, ok, fail: run_in_background(fn, ok, fail, owner=self)
        )
        self.page_size = page_size
        self.thumbnails = thumbnails
        self.query = StudyQuery(limit=page_size)
        self.rows: list[StudyRecord] = []
        self._row_of: dict[str, int] = {}
        self.total: int | None = None
        self._generation = 0
        self._fetching = False
        self._exhausted = False
        self._placeholders: dict[str, Any] = {}
        if thumbnails is not None:
            thumbnails.sig_ready.connect(self._on_thumbnail_ready)

    # -- queries ---------------------------------------------------------------------------
    def set_query(self, query: StudyQuery) -> None:
        """Start over with ``query`` (its limit/offset are managed here)."""
        self._generation += 1
        self.beginResetModel()
        self.query = dataclasses.replace(query, limit=self.page_size, offset=0)
        self.rows, self._row_of, self.total = [], {}, None
        self._fetching, self._exhausted = False, False
        self.endResetModel()
        self._fetch_page()
        gen, q = self._generation, self.query
        self._run(lambda: self._count(q), lambda n: self._on_count(gen, n), self._on_failed)

    def refresh(self) -> None:
        self.set_query(self.query)

    def _fetch_page(self) -> None:
        if self._fetching or self._exhausted:
            return
        self._fetching = True
        gen, offset = self._generation, len(self.rows)
        q = dataclasses.replace(self.query, offset=offset)
        self._run(
            lambda: self._search(q),
            lambda records: self._on_page(gen, offset, records),
            self._on_failed,
        )

    def _on_page(self, generation: int, offset: int, records: list[StudyRecord]) -> None:
        if generation != self._generation or offset != len(self.rows):
            return
        self._fetching = False
        if len(records) < self.page_size:
            self._exhausted = True
        if records:
            first = len(self.rows)
            self.beginInsertRows(QModelIndex(), first, first + len(records) - 1)
            for i, rec in enumerate(records):
                self._row_of[rec.study_instance_uid] = first + i
            self.rows.extend(records)
            self.endInsertRows()
        if offset == 0:
            self.sig_loaded.emit()

    def _on_count(self, generation: int, total: int) -> None:
        if generation == self._generation:
            self.total = total
            self.sig_count.emit(total)

    def _on_failed(self, exc: BaseException) -> None:
        self._fetching = False
        self.sig_failed.emit(exc)

    # -- Qt model API ----------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def canFetchMore(self, parent: Index) -> bool:
        if parent.isValid() or self._exhausted or self._fetching:
            return False
        return self.total is None or len(self.rows) < self.total

    def fetchMore(self, parent: Index) -> None:
        if not parent.isValid():
            self._fetch_page()

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section].title()
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        rec = self.rows[index.row()]
        col = COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return col.value(rec)
        if role == Qt.ItemDataRole.DecorationRole and index.column() == THUMB_COLUMN:
            return self._thumbnail(rec)
        if role == Qt.ItemDataRole.UserRole:
            return rec
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == THUMB_COLUMN:
            return rec.study_instance_uid
        if role == Qt.ItemDataRole.ToolTipRole and col.key == "images" and rec.num_incomplete:
            return _(
                "Some images of this study are incomplete (their files were cut short); "
                "import them again from the original media."
            )
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        key = COLUMNS[column].sort_key
        if key is None:
            return
        descending = order == Qt.SortOrder.DescendingOrder
        if key == self.query.sort and descending == self.query.descending and self.rows:
            return
        self.set_query(
            dataclasses.replace(self.query, sort=key, descending=descending)  # type: ignore[arg-type]
        )

    def _thumbnail(self, rec: StudyRecord) -> Any:
        cache = self.thumbnails
        if cache is None:
            return None
        pixmap = cache.pixmap(rec.study_instance_uid)
        if pixmap is None and cache.has(rec.study_instance_uid):
            text = "/".join(rec.modalities) or "?"
            if text not in self._placeholders:
                self._placeholders[text] = placeholder(text, cache.box)
            return self._placeholders[text]
        return pixmap

    # -- helpers ---------------------------------------------------------------------------
    def record(self, row: int) -> StudyRecord | None:
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def row_of(self, study_uid: str) -> int | None:
        return self._row_of.get(study_uid)

    def _on_thumbnail_ready(self, study_uid: str) -> None:
        row = self._row_of.get(study_uid)
        if row is not None:
            idx = self.index(row, THUMB_COLUMN)
            self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DecorationRole])
