"""The Local tab: search the local archive, a paged table with thumbnails, and the
selected study handed to the main window."""

from __future__ import annotations

import logging
from dataclasses import replace

from PySide6.QtCore import QItemSelection, QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from workstation.app.column_widths import fit_columns
from workstation.app.naming import named
from workstation.app.search_form import SearchForm
from workstation.app.study_model import COLUMNS, LocalStudyModel
from workstation.i18n import _, ngettext
from workstation.pacs_node.archive.queries import StudyQuery
from workstation.pacs_node.archive.records import StudyRecord

THUMB_PX = 56
LIVE_SEARCH_MS = 300


logger = logging.getLogger(__name__)

#: Starting widths of the study list's columns (px); Description takes what is left.
COLUMN_WIDTHS = {
    "patient_name": 190,
    "patient_id": 150,
    "birth_date": 90,
    "sex": 40,
    "study_date": 90,
    "modalities": 70,
    "description": 200,
    "accession": 100,
    "series": 50,
    "images": 55,
}


class LocalStudyBrowser(QWidget):
    sig_study_activated = Signal(str)
    sig_selection_changed = Signal(object)

    def __init__(self, model: LocalStudyModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("localBrowser")
        self.model = model
        self.form = SearchForm(self)
        self.count_label = named(QLabel(), "studyCount")
        self.table = named(QTableView(), "studyTable")
        self.table.setModel(model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(
            [c.key for c in COLUMNS].index("study_date"), Qt.SortOrder.DescendingOrder
        )
        self.table.setIconSize(QSize(THUMB_PX, THUMB_PX))
        self.table.verticalHeader().setDefaultSectionSize(THUMB_PX + 6)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.resizeSection(0, THUMB_PX + 10)
        fit_columns(
            header,
            [(i, COLUMN_WIDTHS[c.key]) for i, c in enumerate(COLUMNS) if c.key in COLUMN_WIDTHS],
        )
        # Spare width goes to Description, not to the last column (Images); in a narrow
        # window Description keeps its width and the list scrolls sideways (a stretched
        # column would shrink to nothing).
        header.setStretchLastSection(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.form)
        layout.addWidget(self.count_label)
        layout.addWidget(self.table, 1)
        self._live = QTimer(self, singleShot=True, interval=LIVE_SEARCH_MS)
        self._live.timeout.connect(self.search_now)
        self.form.sig_search_requested.connect(self.search_now)
        self.form.sig_edited.connect(self._live.start)
        self.table.doubleClicked.connect(self._on_double_clicked)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        model.sig_count.connect(self._on_count)
        model.modelReset.connect(lambda: self.sig_selection_changed.emit(None))
        # A refresh (new studies arrived) keeps the selected study selected.
        self._keep_selected: str | None = None
        #: A study to select as soon as the list shows it (e.g. the one just imported).
        self._wanted: str | None = None
        model.modelAboutToBeReset.connect(self._remember_selection)
        model.rowsInserted.connect(self._restore_selection)

    def resizeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().resizeEvent(event)
        self._fit_description()

    def _fit_description(self) -> None:
        """Give the list's spare width to Description (never less than its default)."""
        header = self.table.horizontalHeader()
        column = [c.key for c in COLUMNS].index("description")
        others = sum(header.sectionSize(i) for i in range(len(COLUMNS)) if i != column)
        spare = self.table.viewport().width() - others
        header.resizeSection(column, max(COLUMN_WIDTHS["description"], spare))

    def query(self) -> StudyQuery:
        """The form's criteria, in the list's current order."""
        return replace(
            self.form.criteria(), sort=self.model.query.sort, descending=self.model.query.descending
        )

    def search_now(self) -> None:
        self._live.stop()
        self.count_label.setText(_("Searching…"))
        self.model.set_query(self.query())

    def selected(self) -> StudyRecord | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.record(rows[0].row()) if rows else None

    def select_study(self, study_uid: str) -> bool:
        row = self.model.row_of(study_uid)
        if row is None:
            return False
        self.table.selectRow(row)
        return True

    def show_study(self, study_uid: str) -> None:
        """Select ``study_uid`` now, or as soon as a refresh brings it into the list."""
        if self.select_study(study_uid):
            logger.info("study %s selected in the local list", study_uid)
        else:
            self._wanted = study_uid

    def _remember_selection(self) -> None:
        rec = self.selected()
        self._keep_selected = rec.study_instance_uid if rec is not None else None

    def _restore_selection(self) -> None:
        if self._wanted is not None and self.select_study(self._wanted):
            logger.info("study %s selected in the local list", self._wanted)
            self._wanted = self._keep_selected = None
            return
        uid = self._keep_selected
        selecting = self.table.selectionModel()
        if uid is not None and not selecting.hasSelection() and self.select_study(uid):
            self._keep_selected = None

    def _on_count(self, total: int) -> None:
        self.count_label.setText(ngettext("{n} study", "{n} studies", total).format(n=f"{total:,}"))

    def _on_double_clicked(self, index) -> None:
        rec = self.model.record(index.row())
        if rec is not None:
            self.sig_study_activated.emit(rec.study_instance_uid)

    def _on_selection(self, _sel: QItemSelection, _desel: QItemSelection) -> None:
        self.sig_selection_changed.emit(self.selected())
