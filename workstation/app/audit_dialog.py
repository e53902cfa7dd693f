"""The local audit log for administrators, with its hash-chain check."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workstation.app.audit_text import action_text, detail_text, local_time, outcome_text
from workstation.app.naming import named
from workstation.app.workers import run_in_background
from workstation.auth.audit import AuditAction, AuditEvent, AuditLog
from workstation.auth.session import Session
from workstation.i18n import _, ngettext
from workstation.services.audit_access import AuditReader

HEADERS = (
    lambda: _("Time"),
    lambda: _("User"),
    lambda: _("Role"),
    lambda: _("Action"),
    lambda: _("Outcome"),
    lambda: _("Study UID"),
    lambda: _("Details"),
)


class AuditDialog(QDialog):
    def __init__(self, session: Session, log: AuditLog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("auditDialog")
        self.setWindowTitle(_("Audit log (this workstation)"))
        self.reader = AuditReader(session, log)
        self.action = named(QComboBox(), "auditAction")
        self.action.addItem(_("All actions"), None)
        for a in AuditAction:
            self.action.addItem(action_text(a.value), a.value)
        self.chain = named(QLabel(), "auditChain")
        self.table = named(QTableWidget(0, len(HEADERS)), "auditTable")
        self.table.setHorizontalHeaderLabels([h() for h in HEADERS])
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(6, QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        top = QHBoxLayout()
        top.addWidget(QLabel(_("Show:")))
        top.addWidget(self.action)
        top.addStretch(1)
        top.addWidget(self.chain)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.action.currentIndexChanged.connect(lambda _i: self.reload())
        self.events: list[AuditEvent] = []
        self.reload()
        self.check_chain()
        self.resize(1100, 560)

    def reload(self) -> None:
        action = self.action.currentData()
        reader = self.reader
        run_in_background(lambda: reader.events(action=action), self._show, owner=self)

    def _show(self, events: list[AuditEvent]) -> None:
        self.events = events
        self.table.setRowCount(len(events))
        for row, e in enumerate(events):
            values = (
                local_time(e.occurred_at),
                e.actor,
                e.role,
                action_text(e.action),
                outcome_text(e.outcome),
                e.study_uid or "",
                detail_text(e.detail),
            )
            for col, value in enumerate(values):
                self.table.setItem(row, col, QTableWidgetItem(value))
            when = self.table.item(row, 0)
            if when is not None:  # the stored time, exactly, for IT
                when.setToolTip(_("{time} UTC").format(time=e.occurred_at))
        self.table.resizeColumnsToContents()
        header = self.table.horizontalHeader()
        header.resizeSection(5, min(header.sectionSize(5), 240))  # Study UID: tooltip has it all
        for row, e in enumerate(events):
            item = self.table.item(row, 5)
            if item is not None:
                item.setToolTip(e.study_uid or "")

    def check_chain(self) -> None:
        self.chain.setText(_("Checking the hash chain…"))
        run_in_background(self.reader.verify, self._show_chain, owner=self)

    def _show_chain(self, result: tuple[int, int | None]) -> None:
        count, broken = result
        if broken is None:
            self.chain.setStyleSheet("color:#1e6b30;")
            self.chain.setText(
                ngettext(
                    "Hash chain intact ({n} event)", "Hash chain intact ({n} events)", count
                ).format(n=count)
            )
        else:
            self.chain.setStyleSheet("color:#a4262c; font-weight:600;")
            self.chain.setText(
                _("The log was altered: the chain breaks at event {seq}. Tell IT.").format(
                    seq=broken
                )
            )
