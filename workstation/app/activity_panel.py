"""The activity panel: every background job (imports, retrieves, sends, exports, sync)
with progress, failures and their reasons, cancel and retry."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workstation.app.column_widths import fit_columns
from workstation.app.naming import named
from workstation.i18n import _
from workstation.services.activity import Activity
from workstation.services.jobs import JobSnapshot, JobState

COLUMNS = (
    lambda: _("Job"),
    lambda: _("What"),
    lambda: _("State"),
    lambda: _("Progress"),
    lambda: _("Details"),
)
PROGRESS_COLUMN = 3
_STATE_COLOURS = {
    JobState.FAILED: "#a4262c",
    JobState.PARTIAL: "#8a5a00",
    JobState.CANCELLED: "#666666",
    JobState.DONE: "#1e6b30",
}


class _Bridge(QObject):
    """Carries job-change notices from worker threads to the GUI thread (queued)."""

    sig_changed = Signal(int)


class JobListModel(QAbstractTableModel):
    def __init__(self, registry: Activity, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.registry = registry
        self.jobs: list[JobSnapshot] = []
        self._bridge = _Bridge()
        self._bridge.sig_changed.connect(self._schedule)
        registry.subscribe(self._bridge.sig_changed.emit)
        self._timer = QTimer(self, singleShot=True, interval=100)
        self._timer.timeout.connect(self.reload)
        self.reload()

    def _schedule(self, _job_id: int) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def reload(self) -> None:
        snapshots = sorted(self.registry.snapshots(), key=lambda s: -s.created_at)
        if [s.id for s in snapshots] == [s.id for s in self.jobs]:
            self.jobs = snapshots
            if snapshots:
                self.dataChanged.emit(self.index(0, 0), self.index(len(snapshots) - 1, 4))
            return
        self.beginResetModel()
        self.jobs = snapshots
        self.endResetModel()

    def rowCount(self, parent: Any = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.jobs)

    def columnCount(self, parent: Any = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]()
        return None

    def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        job = self.jobs[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(job, col)
        if role == Qt.ItemDataRole.UserRole:
            return job
        if role == Qt.ItemDataRole.ForegroundRole and col == 2 and job.state in _STATE_COLOURS:
            return QColor(_STATE_COLOURS[job.state])
        if role == Qt.ItemDataRole.ToolTipRole and col == 4:
            return self._details(job)
        return None

    @staticmethod
    def _text(job: JobSnapshot, col: int) -> str:
        if col == 0:
            return job.kind.label
        if col == 1:
            return job.title
        if col == 2:
            return job.state.label
        if col == 3:
            return f"{job.done} / {job.total}" if job.total else str(job.done or "")
        return JobListModel._details(job)

    @staticmethod
    def _details(job: JobSnapshot) -> str:
        if job.error:
            return job.error
        if job.failed_count:
            first = job.failures[0] if job.failures else None
            why = f": {first.item} — {first.reason}" if first else ""
            return _("{n} failed{why}").format(n=job.failed_count, why=why)
        return job.message

    def job(self, row: int) -> JobSnapshot | None:
        return self.jobs[row] if 0 <= row < len(self.jobs) else None


class ProgressDelegate(QStyledItemDelegate):
    """Draws the progress column as a bar."""

    def paint(self, painter, option, index) -> None:
        job: JobSnapshot | None = index.data(Qt.ItemDataRole.UserRole)
        if job is None or not job.total:
            super().paint(painter, option, index)
            return
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(2, 3, -2, -3)
        bar.minimum, bar.maximum = 0, max(1, job.total)
        bar.progress = min(job.done, job.total)
        bar.text = f"{job.done} / {job.total}"
        bar.textVisible = True
        bar.state = option.state
        widget = option.widget
        style = widget.style() if widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, widget)


class FailuresDialog(QDialog):
    """Every failed item of a job with its reason."""

    def __init__(self, job: JobSnapshot, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("failuresDialog")
        self.setWindowTitle(_("Failures: {title}").format(title=job.title))
        table = QTableWidget(len(job.failures), 2, self)
        table.setHorizontalHeaderLabels([_("Item"), _("Reason")])
        for row, f in enumerate(job.failures):
            table.setItem(row, 0, QTableWidgetItem(f.item))
            table.setItem(row, 1, QTableWidgetItem(f.reason))
        table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        table.resizeColumnToContents(0)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        if job.error:
            layout.addWidget(QLabel(job.error))
        layout.addWidget(table)
        layout.addWidget(buttons)
        self.resize(760, 420)


class ActivityPanel(QWidget):
    def __init__(self, registry: Activity, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("activityPanel")
        self.registry = registry
        self.model = JobListModel(registry, self)
        self.table = named(QTableView(), "jobTable")
        self.table.setModel(self.model)
        self.table.setItemDelegateForColumn(PROGRESS_COLUMN, ProgressDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.table.horizontalHeader()
        fit_columns(header, ((0, 80), (1, 440), (2, 130), (3, 160)))
        header.setStretchLastSection(True)
        self.cancel_button = named(QPushButton(_("Cancel")), "jobCancel")
        self.retry_button = named(QPushButton(_("Retry")), "jobRetry")
        self.details_button = named(QPushButton(_("Failures…")), "jobDetails")
        self.clear_button = named(QPushButton(_("Clear finished")), "jobClear")
        buttons = QVBoxLayout()
        for b in (self.cancel_button, self.retry_button, self.details_button, self.clear_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout = QHBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.cancel_button.clicked.connect(self._on_cancel)
        self.retry_button.clicked.connect(self._on_retry)
        self.details_button.clicked.connect(self._on_details)
        self.clear_button.clicked.connect(self._on_clear)
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._update_buttons())
        self.model.modelReset.connect(self._update_buttons)
        self.model.dataChanged.connect(lambda *_a: self._update_buttons())
        self._update_buttons()

    def selected(self) -> JobSnapshot | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.job(rows[0].row()) if rows else None

    def select_job(self, job_id: int) -> None:
        for row, job in enumerate(self.model.jobs):
            if job.id == job_id:
                self.table.selectRow(row)

    def _update_buttons(self) -> None:
        job = self.selected()
        self.cancel_button.setEnabled(job is not None and not job.state.finished)
        self.retry_button.setEnabled(job is not None and job.can_retry)
        self.details_button.setEnabled(
            job is not None and (job.failed_count > 0 or bool(job.error))
        )

    def _on_cancel(self) -> None:
        job = self.selected()
        if job is not None:
            self.registry.cancel(job.id)

    def _on_retry(self) -> None:
        job = self.selected()
        if job is not None and job.can_retry:
            new_id = self.registry.retry(job.id)
            self.model.reload()
            self.select_job(new_id)

    def _on_details(self) -> None:
        job = self.selected()
        if job is not None:
            FailuresDialog(job, self).open()

    def _on_clear(self) -> None:
        self.registry.clear_finished()
        self.model.reload()
