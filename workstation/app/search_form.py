"""The search fields shared by the Local and Central tabs (name, ID, accession,
modality, date range) and their translation into a query."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from workstation.app.naming import named
from workstation.i18n import _
from workstation.pacs_node.archive.queries import StudyQuery

MODALITIES = ("CT", "MR", "CR", "DX", "US", "XA", "MG", "NM", "PT", "RF", "OT", "SR")


def _as_date(value: object) -> dt.date | None:
    return value if isinstance(value, dt.date) else None


def _ymd(d: dt.date) -> str:
    return d.strftime("%Y%m%d")


class SearchForm(QWidget):
    sig_search_requested = Signal()
    sig_edited = Signal()

    RANGES = ("any", "today", "yesterday", "week", "month", "year", "custom")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.patient_name = named(QLineEdit(), "searchName")
        self.patient_name.setPlaceholderText(_("Patient name"))
        self.patient_id = named(QLineEdit(), "searchPatientId")
        self.patient_id.setPlaceholderText(_("Patient ID"))
        self.accession = named(QLineEdit(), "searchAccession")
        self.accession.setPlaceholderText(_("Accession number"))
        self.modality = named(QComboBox(), "searchModality")
        self.modality.addItem(_("Any modality"), "")
        for m in MODALITIES:
            self.modality.addItem(m, m)
        self.date_range = named(QComboBox(), "searchDates")
        labels = {
            "any": _("Any date"),
            "today": _("Today"),
            "yesterday": _("Yesterday"),
            "week": _("Last 7 days"),
            "month": _("Last 30 days"),
            "year": _("Last 12 months"),
            "custom": _("Between…"),
        }
        for key in self.RANGES:
            self.date_range.addItem(labels[key], key)
        # The longest choice ("Последние 12 месяцев") must not set the pane's minimum width.
        for combo in (self.modality, self.date_range):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(10)
        today = QDate.currentDate()
        self.date_from = named(QDateEdit(today.addDays(-30)), "searchDateFrom")
        self.date_to = named(QDateEdit(today), "searchDateTo")
        for d in (self.date_from, self.date_to):
            d.setCalendarPopup(True)
            d.setDisplayFormat("yyyy-MM-dd")
            d.setVisible(False)
        self.and_label = QLabel(_("and"))
        self.and_label.setVisible(False)
        self.search_button = named(QPushButton(_("Search")), "searchButton")
        self.clear_button = named(QPushButton(_("Clear")), "clearButton")
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.patient_name, 0, 0, 1, 2)
        grid.addWidget(self.patient_id, 0, 2)
        grid.addWidget(self.accession, 0, 3)
        grid.addWidget(self.modality, 1, 0)
        grid.addWidget(self.date_range, 1, 1)
        grid.addWidget(self.date_from, 1, 2)
        grid.addWidget(self.date_to, 1, 3)
        grid.addWidget(self.search_button, 0, 4)
        grid.addWidget(self.clear_button, 1, 4)
        for edit in (self.patient_name, self.patient_id, self.accession):
            edit.returnPressed.connect(self.sig_search_requested)
            edit.textEdited.connect(lambda _t: self.sig_edited.emit())
        self.modality.currentIndexChanged.connect(lambda _i: self.sig_search_requested.emit())
        self.date_range.currentIndexChanged.connect(self._on_range_changed)
        self.date_from.dateChanged.connect(lambda _d: self.sig_search_requested.emit())
        self.date_to.dateChanged.connect(lambda _d: self.sig_search_requested.emit())
        self.search_button.clicked.connect(self.sig_search_requested)
        self.clear_button.clicked.connect(self.clear)

    def _on_range_changed(self, _index: int) -> None:
        custom = self.date_range.currentData() == "custom"
        for w in (self.date_from, self.date_to):
            w.setVisible(custom)
        self.sig_search_requested.emit()

    def clear(self) -> None:
        for w in (self.patient_name, self.patient_id, self.accession):
            w.clear()
        self.blockSignals(True)
        self.modality.setCurrentIndex(0)
        self.date_range.setCurrentIndex(0)
        self.blockSignals(False)
        self.sig_search_requested.emit()

    def criteria(self, today: dt.date | None = None) -> StudyQuery:
        """The fields as a query (the archive's default order and page)."""
        today = today or dt.date.today()
        key = self.date_range.currentData()
        start: dt.date | None = None
        end: dt.date | None = None
        if key == "today":
            start = end = today
        elif key == "yesterday":
            start = end = today - dt.timedelta(days=1)
        elif key in ("week", "month", "year"):
            start, end = (
                today - dt.timedelta(days={"week": 7, "month": 30, "year": 365}[key]),
                today,
            )
        elif key == "custom":
            start = _as_date(self.date_from.date().toPython())
            end = _as_date(self.date_to.date().toPython())
        return StudyQuery(
            patient_name=self.patient_name.text().strip(),
            patient_id=self.patient_id.text().strip(),
            accession_number=self.accession.text().strip(),
            modality=self.modality.currentData() or "",
            date_from=_ymd(start) if start else None,
            date_to=_ymd(end) if end else None,
        )
