"""Import from files, a folder, a ZIP or detected removable media, with progress,
cancel and the list of rejected files with their reasons.

The import runs as a job (it continues in the activity panel when the dialog closes);
the dialog follows the job's snapshots."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workstation.app.naming import named
from workstation.app.workers import run_in_background
from workstation.i18n import _, ngettext
from workstation.services.jobs import Job, JobSnapshot, JobState

StartImport = Callable[[list[Path]], Job]


def detect_media() -> list[tuple[str, Path]]:
    """(label, mount point) of removable media now mounted (engine call)."""
    from workstation.pacs_node.archive.importing import removable_media

    return [(f"{m.label or m.path.name} ({m.kind})", m.path) for m in removable_media()]


class ImportDialog(QDialog):
    #: The import ended (done, failed or cancelled): the Study Instance UIDs it stored.
    sig_finished = Signal(list)

    def __init__(self, start_import: StartImport, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("importDialog")
        self.setWindowTitle(_("Import studies"))
        self._start = start_import
        self.paths: list[Path] = []
        self.job: Job | None = None
        self._build()
        self._timer = QTimer(self, interval=150)
        self._timer.timeout.connect(self._poll)
        self.refresh_media()
        self.resize(760, 560)

    def _build(self) -> None:
        pick = QHBoxLayout()
        self.files_button = named(QPushButton(_("Files…")), "pickFiles")
        self.folder_button = named(QPushButton(_("F&older…")), "pickFolder")
        self.zip_button = named(QPushButton(_("ZIP archive…")), "pickZip")
        for b in (self.files_button, self.folder_button, self.zip_button):
            pick.addWidget(b)
        pick.addStretch(1)
        media = QHBoxLayout()
        self.media_combo = named(QComboBox(), "mediaCombo")
        self.media_combo.setMinimumWidth(260)
        self.media_button = named(QPushButton(_("Use this disc or stick")), "useMedia")
        self.media_refresh = named(QPushButton(_("Look again")), "refreshMedia")
        media.addWidget(QLabel(_("Removable media:")))
        media.addWidget(self.media_combo, 1)
        media.addWidget(self.media_button)
        media.addWidget(self.media_refresh)
        self.path_list = named(QListWidget(), "importPaths")
        self.path_list.setMaximumHeight(90)
        self.path_list.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.path_list.itemSelectionChanged.connect(self._update_buttons)
        self.remove_button = named(QPushButton(_("Remove from the list")), "removePaths")
        self.remove_button.clicked.connect(self.remove_selected)
        pick.addWidget(self.remove_button)
        self.progress = named(QProgressBar(), "importProgress")
        # No "0 of 100 files" before anything was chosen: the count shows once it is known.
        self.progress.setTextVisible(False)
        self.progress.setValue(0)
        self.status = named(QLabel(), "importStatus")
        self.status.setWordWrap(True)
        self.rejects = named(QTableWidget(0, 2), "rejectTable")
        self.rejects.setHorizontalHeaderLabels([_("Rejected file"), _("Reason")])
        self.rejects.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.rejects.horizontalHeader().resizeSection(0, 220)
        self.rejects.verticalHeader().setVisible(False)
        self.rejects_label = QLabel(_("Rejected files and why:"))
        buttons = QHBoxLayout()
        self.start_button = named(QPushButton(_("&Import")), "startImport")
        self.cancel_button = named(QPushButton(_("Cancel import")), "cancelImport")
        self.close_button = named(QPushButton(_("Close")), "closeImport")
        buttons.addStretch(1)
        for b in (self.start_button, self.cancel_button, self.close_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(_("Choose what to import:")))
        layout.addLayout(pick)
        layout.addLayout(media)
        layout.addWidget(self.path_list)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.rejects_label)
        layout.addWidget(self.rejects, 1)
        layout.addLayout(buttons)
        self.files_button.clicked.connect(self._pick_files)
        self.folder_button.clicked.connect(self._pick_folder)
        self.zip_button.clicked.connect(self._pick_zip)
        self.media_button.clicked.connect(self._use_media)
        self.media_refresh.clicked.connect(self.refresh_media)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button.clicked.connect(self.close)
        self._update_buttons()

    # -- choosing ----------------------------------------------------------------------
    def set_paths(self, paths: list[Path]) -> None:
        """Replace the choice with ``paths``."""
        self.paths = []
        self.add_paths(paths)

    def add_paths(self, paths: list[Path]) -> None:
        """Add to the choice (each Files…/Folder…/ZIP adds; the same path once)."""
        for p in (Path(p) for p in paths):
            if p not in self.paths:
                self.paths.append(p)
        self._show_paths()

    def remove_selected(self) -> None:
        rows = {self.path_list.row(item) for item in self.path_list.selectedItems()}
        self.paths = [p for i, p in enumerate(self.paths) if i not in rows]
        self._show_paths()

    def _show_paths(self) -> None:
        self.path_list.clear()
        for p in self.paths:
            self.path_list.addItem(str(p))
        self._update_buttons()

    def _file_dialog(self, title: str) -> QFileDialog:
        dlg = QFileDialog(self, title)
        dlg.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        return dlg

    def _pick_files(self) -> None:
        dlg = self._file_dialog(_("Choose files to import"))
        dlg.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dlg.filesSelected.connect(lambda files: self.add_paths([Path(f) for f in files]))
        dlg.open()

    def _pick_folder(self) -> None:
        dlg = self._file_dialog(_("Choose a folder to import"))
        dlg.setFileMode(QFileDialog.FileMode.Directory)
        dlg.fileSelected.connect(lambda f: self.add_paths([Path(f)]))
        dlg.open()

    def _pick_zip(self) -> None:
        dlg = self._file_dialog(_("Choose a ZIP archive to import"))
        dlg.setFileMode(QFileDialog.FileMode.ExistingFile)
        dlg.setNameFilter(_("ZIP archives (*.zip *.ZIP)"))
        dlg.fileSelected.connect(lambda f: self.add_paths([Path(f)]))
        dlg.open()

    def refresh_media(self) -> None:
        run_in_background(
            detect_media, self._show_media, lambda _e: self._show_media([]), owner=self
        )

    def _show_media(self, media: list[tuple[str, Path]]) -> None:
        self.media_combo.clear()
        for label, path in media:
            self.media_combo.addItem(label, path)
        if not media:
            self.media_combo.addItem(_("No disc or USB stick found"), None)
        self._update_buttons()

    def _use_media(self) -> None:
        path = self.media_combo.currentData()
        if path is not None:
            self.add_paths([path])

    # -- running -----------------------------------------------------------------------
    def start(self) -> None:
        if not self.paths or self.running:
            return
        self.rejects.setRowCount(0)
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.status.setText(_("Looking at the files…"))
        self.job = self._start(self.paths)
        self._timer.start()
        self._update_buttons()

    @property
    def running(self) -> bool:
        return self.job is not None and not self.job.snapshot().state.finished

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _poll(self) -> None:
        if self.job is None:
            return
        snap = self.job.snapshot()
        self._show_progress(snap)
        if snap.state.finished:
            self._timer.stop()
            self._show_result(snap)
        self._update_buttons()

    def _show_progress(self, snap: JobSnapshot) -> None:
        if snap.total:
            self.progress.setFormat(_("%v of %m files"))
            self.progress.setTextVisible(True)
            self.progress.setRange(0, snap.total)
            self.progress.setValue(min(snap.done, snap.total))
        if snap.message:
            self.status.setText(snap.message)

    def _show_result(self, snap: JobSnapshot) -> None:
        summary: Any = snap.result
        stored = sorted(getattr(summary, "study_uids", ()) or ())
        self.sig_finished.emit(stored)
        if snap.state is JobState.FAILED:
            self.status.setText(_("The import failed: {error}").format(error=snap.error))
            return
        if summary is not None:
            studies = len(getattr(summary, "study_uids", ()))
            text = _(
                "{stored} stored, {dup} already in the archive, {rej} rejected; {studies}."
            ).format(
                stored=summary.stored,
                dup=summary.duplicates,
                rej=len(summary.rejected),
                studies=ngettext("{n} study", "{n} studies", studies).format(n=studies),
            )
            if summary.cancelled:
                text = _("Cancelled. ") + text
            notes = " ".join(getattr(summary, "notes", []))
            self.status.setText(f"{text} {notes}".strip())
            self.progress.setFormat(_("%v of %m files"))
            self.progress.setTextVisible(True)
            self.progress.setRange(0, max(1, summary.files_total))
            self.progress.setValue(summary.files_total if not summary.cancelled else snap.done)
            self._fill_rejects(summary.rejected)

    def _fill_rejects(self, rejected: list) -> None:
        self.rejects.setRowCount(len(rejected))
        for row, r in enumerate(rejected):
            name = QTableWidgetItem(Path(r.origin).name or r.origin)
            name.setToolTip(r.origin)
            reason = QTableWidgetItem(r.reason)
            reason.setToolTip(r.reason)
            self.rejects.setItem(row, 0, name)
            self.rejects.setItem(row, 1, reason)
        if not rejected:
            self.rejects_label.setText(_("No file was rejected."))
            return
        self.rejects_label.setText(
            ngettext(
                "{n} file rejected, and why:", "{n} files rejected, and why:", len(rejected)
            ).format(n=len(rejected))
        )

    def _update_buttons(self) -> None:
        running = self.running
        self.start_button.setEnabled(bool(self.paths) and not running)
        self.cancel_button.setEnabled(running)
        for b in (self.files_button, self.folder_button, self.zip_button, self.media_button):
            b.setEnabled(not running)
        self.remove_button.setEnabled(not running and bool(self.path_list.selectedItems()))
        self.media_button.setEnabled(not running and self.media_combo.currentData() is not None)
        self.close_button.setText(_("Hide") if running else _("Close"))

    def closeEvent(self, event) -> None:
        self._timer.stop()
        super().closeEvent(event)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape and self.running:
            self.hide()
            return
        super().keyPressEvent(event)
