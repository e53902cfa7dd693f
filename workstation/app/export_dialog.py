"""Export a study to a folder or a ZIP, optionally de-identified and with a DICOMDIR."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QWidget,
)

from workstation.app.errors import show_error
from workstation.app.naming import named
from workstation.i18n import _
from workstation.pacs_node.archive.records import StudyRecord
from workstation.services.study_actions import StudyActions


class ExportDialog(QDialog):
    sig_started = Signal(object)

    def __init__(self, actions: StudyActions, study: StudyRecord, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("exportDialog")
        self.setWindowTitle(_("Export study"))
        self.study_actions = actions
        self.study = study
        self.to_folder = named(QRadioButton(_("To a folder")), "exportFolder")
        self.to_zip = named(QRadioButton(_("To a ZIP file")), "exportZip")
        self.to_folder.setChecked(True)
        self.destination = named(QLineEdit(), "exportDestination")
        browse = QPushButton(_("Choose…"))
        row = QHBoxLayout()
        row.addWidget(self.destination, 1)
        row.addWidget(browse)
        self.anonymize = named(QCheckBox(_("Remove patient identity (anonymize)")), "exportAnon")
        self.dicomdir = named(
            QCheckBox(_("Write a DICOMDIR (for CD/USB viewers)")), "exportDicomdir"
        )
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(_("Export"))
        form = QFormLayout(self)
        form.addRow(QLabel(_("Study {uid}").format(uid=study.study_instance_uid)))
        form.addRow(self.to_folder)
        form.addRow(self.to_zip)
        form.addRow(_("Destination:"), row)
        form.addRow(self.anonymize)
        form.addRow(self.dicomdir)
        form.addRow(buttons)
        browse.clicked.connect(self._browse)
        buttons.accepted.connect(self.start)
        buttons.rejected.connect(self.reject)
        self.resize(620, 240)

    def _browse(self) -> None:
        dlg = QFileDialog(self)
        dlg.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        if self.to_zip.isChecked():
            dlg.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
            dlg.setNameFilter(_("ZIP archives (*.zip)"))
            dlg.setDefaultSuffix("zip")
        else:
            dlg.setFileMode(QFileDialog.FileMode.Directory)
        dlg.fileSelected.connect(self.destination.setText)
        dlg.open()

    def start(self) -> None:
        text = self.destination.text().strip()
        if not text:
            self.destination.setFocus()
            return
        dest = Path(text)
        if self.to_zip.isChecked() and dest.suffix.lower() != ".zip":
            dest = dest.with_suffix(".zip")
        try:
            job = self.study_actions.export_study(
                self.study.study_instance_uid,
                dest,
                anonymize=self.anonymize.isChecked(),
                dicomdir=self.dicomdir.isChecked(),
            )
        except Exception as exc:  # noqa: BLE001 - shown to the user
            show_error(self, exc)
            return
        self.sig_started.emit(job)
        self.accept()
