"""The Central tab: QIDO-RS search of the central archive and retrieve into the local one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from workstation.app.column_widths import fit_columns
from workstation.app.naming import named
from workstation.app.search_form import SearchForm
from workstation.app.workers import run_in_background
from workstation.i18n import _, ngettext
from workstation.i18n.formatting import dicom_date, person_name
from workstation.pacs_node.archive.queries import StudyQuery

MAX_RESULTS = 500


@dataclass(frozen=True)
class RemoteStudy:
    study_instance_uid: str
    patient_name: str
    patient_id: str
    study_date: str
    modalities: str
    description: str
    accession_number: str
    num_series: str
    num_instances: str
    local: bool = False


def _text(ds: Any, keyword: str) -> str:
    value = ds.get(keyword, "")
    if value is None:
        return ""
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        return ", ".join(str(v) for v in value)
    return str(value)


def remote_study(ds: Any, local: bool) -> RemoteStudy:
    return RemoteStudy(
        study_instance_uid=_text(ds, "StudyInstanceUID"),
        patient_name=person_name(_text(ds, "PatientName")),
        patient_id=_text(ds, "PatientID"),
        study_date=dicom_date(_text(ds, "StudyDate")),
        modalities=_text(ds, "ModalitiesInStudy"),
        description=_text(ds, "StudyDescription"),
        accession_number=_text(ds, "AccessionNumber"),
        num_series=_text(ds, "NumberOfStudyRelatedSeries"),
        num_instances=_text(ds, "NumberOfStudyRelatedInstances"),
        local=local,
    )


def qido_filters(c: StudyQuery) -> dict[str, str]:
    """Our search fields as QIDO-RS attribute filters (browser semantics: name contains)."""
    filters: dict[str, str] = {}
    if c.patient_name:
        filters["PatientName"] = f"*{c.patient_name}*"
    if c.patient_id:
        filters["PatientID"] = c.patient_id
    if c.accession_number:
        filters["AccessionNumber"] = c.accession_number
    if c.modality:
        filters["ModalitiesInStudy"] = c.modality
    if c.date_from or c.date_to:
        filters["StudyDate"] = f"{c.date_from or ''}-{c.date_to or ''}"
    return filters


HEADERS = (
    lambda: _("Patient"),
    lambda: _("Patient ID"),
    lambda: _("Date"),
    lambda: _("Modality"),
    lambda: _("Description"),
    lambda: _("Accession"),
    lambda: _("Series"),
    lambda: _("Images"),
    lambda: _("Here"),
)


class CentralStudyBrowser(QWidget):
    sig_retrieve_requested = Signal(str)

    def __init__(
        self,
        search: Callable[[dict[str, str]], list[RemoteStudy]] | None,
        unavailable_reason: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("centralBrowser")
        self._search = search
        self.form = SearchForm(self)
        self.status = named(QLabel(), "centralStatus")
        self.status.setWordWrap(True)
        self.model = QStandardItemModel(0, len(HEADERS), self)
        self.model.setHorizontalHeaderLabels([h() for h in HEADERS])
        self.table = named(QTableView(), "centralTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        fit_columns(header, enumerate((180, 100, 90, 80, 200, 100, 55, 60)))
        header.setStretchLastSection(True)
        self.retrieve_button = named(
            QPushButton(_("Retrieve to this workstation")), "retrieveButton"
        )
        self.retrieve_button.setEnabled(False)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.retrieve_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.form)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.results: list[RemoteStudy] = []
        self._searching = False
        self.form.sig_search_requested.connect(self.search_now)
        self.retrieve_button.clicked.connect(self._on_retrieve)
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._update_buttons())
        self.table.doubleClicked.connect(lambda _i: self._on_retrieve())
        if search is None:
            self.set_unavailable(unavailable_reason)

    def set_unavailable(self, reason: str) -> None:
        self._search = None
        self.form.setEnabled(False)
        self.status.setText(reason)
        self._update_buttons()

    def set_retrieve_allowed(self, allowed: bool) -> None:
        self._retrieve_allowed = allowed
        self._update_buttons()

    def search_now(self) -> None:
        if self._search is None or self._searching:
            return
        filters = qido_filters(self.form.criteria())
        self._searching = True
        self.status.setText(_("Searching the central archive…"))
        search = self._search
        run_in_background(lambda: search(filters), self._show, self._failed, owner=self)

    def _show(self, studies: list[RemoteStudy]) -> None:
        self._searching = False
        self.results = studies
        self.model.removeRows(0, self.model.rowCount())
        for s in studies:
            values = (
                s.patient_name,
                s.patient_id,
                s.study_date,
                s.modalities,
                s.description,
                s.accession_number,
                s.num_series,
                s.num_instances,
                _("yes") if s.local else "",
            )
            items = [QStandardItem(v) for v in values]
            items[0].setData(s.study_instance_uid, Qt.ItemDataRole.UserRole)
            self.model.appendRow(items)
        more = _(" (first {n} shown)").format(n=MAX_RESULTS) if len(studies) >= MAX_RESULTS else ""
        self.status.setText(
            ngettext("{n} study found", "{n} studies found", len(studies)).format(n=len(studies))
            + more
        )
        self._update_buttons()

    def _failed(self, exc: BaseException) -> None:
        from workstation.app.errors import user_message

        self._searching = False
        self.status.setText(
            _("The central archive could not be searched: {reason}").format(
                reason=user_message(exc)
            )
        )

    def selected(self) -> RemoteStudy | None:
        rows = self.table.selectionModel().selectedRows()
        return self.results[rows[0].row()] if rows else None

    def select_study(self, study_uid: str) -> bool:
        for row, s in enumerate(self.results):
            if s.study_instance_uid == study_uid:
                self.table.selectRow(row)
                return True
        return False

    def _update_buttons(self) -> None:
        allowed = getattr(self, "_retrieve_allowed", True)
        self.retrieve_button.setEnabled(
            allowed and self._search is not None and self.selected() is not None
        )

    def _on_retrieve(self) -> None:
        study = self.selected()
        if study is not None and self.retrieve_button.isEnabled():
            self.sig_retrieve_requested.emit(study.study_instance_uid)
