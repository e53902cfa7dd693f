"""Choose where to send a study: the central archive (DICOMweb) or a node of the AE table."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QWidget

from workstation.app.naming import named
from workstation.i18n import _


class SendDialog(QDialog):
    def __init__(
        self, destinations: list[tuple[str, str]], study_label: str, parent: QWidget | None = None
    ) -> None:
        """``destinations``: (node name, label) pairs."""
        super().__init__(parent)
        self.setObjectName("sendDialog")
        self.setWindowTitle(_("Send study"))
        self.combo = named(QComboBox(), "sendDestination")
        for name, label in destinations:
            self.combo.addItem(label, name)
        form = QFormLayout(self)
        form.addRow(QLabel(study_label))
        form.addRow(_("Send to:"), self.combo)
        if not destinations:
            form.addRow(QLabel(_("No destination is configured. Add a node in Settings.")))
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(_("Send"))
        buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(destinations))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def destination(self) -> str | None:
        return self.combo.currentData()
