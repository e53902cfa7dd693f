"""Settings: general, security, central URLs, the DICOM node and its AE table.

Keys the site file fixes are shown read-only with the reason; keys the role may not
change are read-only too.  Saving writes the user's settings file through the engine."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workstation.app.errors import show_error
from workstation.app.naming import named
from workstation.auth.audit import AuditLog
from workstation.auth.session import Session
from workstation.config import Settings
from workstation.i18n import AUTO, LANGUAGE_NAMES, LANGUAGES, _
from workstation.services.user_settings import can_edit, current_value, save_user_settings

PEER_COLUMNS = ("name", "ae_title", "host", "port", "may_store", "may_query", "may_retrieve")


class _Field:
    def __init__(self, widget: QWidget, get: Callable[[], Any], put: Callable[[Any], None]):
        self.widget, self.get, self.put = widget, get, put


class SettingsDialog(QDialog):
    def __init__(
        self, settings: Settings, session: Session, audit: AuditLog, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle(_("Settings"))
        self.settings, self.session, self.audit = settings, session, audit
        self.fields: dict[str, _Field] = {}
        tabs = QTabWidget()
        tabs.addTab(self._general_tab(), _("General"))
        tabs.addTab(self._security_tab(), _("Security"))
        tabs.addTab(self._central_tab(), _("Central server"))
        tabs.addTab(self._node_tab(), _("DICOM node"))
        self.note = QLabel(_("Changes take effect the next time the workstation starts."))
        self.note.setObjectName("settingsNote")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Close
        )
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(tabs)
        layout.addWidget(self.note)
        layout.addWidget(buttons)
        for key, field in self.fields.items():
            field.put(current_value(settings, key))
            self._apply_access(key, field.widget)
        self.save_button.setEnabled(any(f.widget.isEnabled() for f in self.fields.values()))
        self.resize(760, 480)

    # -- fields ----------------------------------------------------------------------------
    def _apply_access(self, key: str, widget: QWidget) -> None:
        ok, why = can_edit(self.settings, self.session, key)
        widget.setEnabled(ok)
        if not ok:
            widget.setToolTip(why)
            label = self.findChild(QLabel, f"label_{key}")
            if label is not None and "🔒" not in label.text():
                label.setText(label.text() + " 🔒")
                label.setToolTip(why)

    def _row(
        self,
        form: QFormLayout,
        key: str,
        text: str,
        widget: QWidget,
        get: Callable[[], Any],
        put: Callable[[Any], None],
    ) -> None:
        label = named(QLabel(text), f"label_{key}")
        widget.setObjectName(f"field_{key}")
        form.addRow(label, widget)
        self.fields[key] = _Field(widget, get, put)

    def _text(self, form: QFormLayout, key: str, text: str) -> None:
        edit = QLineEdit()
        self._row(form, key, text, edit, edit.text, lambda v: edit.setText(str(v)))

    def _number(self, form: QFormLayout, key: str, text: str, lo: int, hi: int) -> None:
        spin = QSpinBox()
        spin.setRange(lo, hi)
        self._row(form, key, text, spin, spin.value, lambda v: spin.setValue(int(v)))

    def _check(self, form: QFormLayout, key: str, text: str) -> None:
        box = QCheckBox()
        self._row(form, key, text, box, box.isChecked, lambda v: box.setChecked(bool(v)))

    def _general_tab(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        lang = QComboBox()
        lang.addItem(_("Automatic (the system's language)"), AUTO)
        for code in LANGUAGES:
            lang.addItem(LANGUAGE_NAMES[code], code)
        self._row(
            form,
            "general.language",
            _("Language:"),
            lang,
            lang.currentData,
            lambda v: lang.setCurrentIndex(max(0, lang.findData(v))),
        )
        restart = named(QLabel(_("A new language applies after a restart.")), "languageRestartHint")
        restart.setWordWrap(True)
        restart.setStyleSheet("color:#666;")
        form.addRow("", restart)
        home = named(QLabel(str(self.settings.home)), "dataDirectory")
        home.setWordWrap(True)
        form.addRow(_("Data directory:"), home)
        hint = QLabel(_("To move it, start the workstation with WORKSTATION_HOME set (IT)."))
        hint.setWordWrap(True)
        hint.setStyleSheet("color:#666;")
        form.addRow("", hint)
        return page

    def _security_tab(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self._number(
            form,
            "security.idle_lock_minutes",
            _("Lock the screen after (minutes, 0 = never):"),
            0,
            720,
        )
        self._number(
            form, "security.offline_login_days", _("Offline login allowed for (days):"), 0, 90
        )
        self._check(
            form, "security.require_mfa_for_admin", _("Administrators need two-factor sign-in:")
        )
        return page

    def _central_tab(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self._text(form, "central.auth_url", _("Auth API URL (empty: standalone):"))
        self._text(form, "central.dicomweb_url", _("DICOMweb URL:"))
        self._check(form, "central.verify_tls", _("Verify TLS certificates:"))
        self._text(form, "central.ca_bundle", _("CA bundle file:"))
        return page

    def _node_tab(self) -> QWidget:
        page = QWidget()
        outer = QVBoxLayout(page)
        form = QFormLayout()
        self._text(form, "node.ae_title", _("Our AE title:"))
        self._number(form, "node.port", _("Listening port:"), 1, 65535)
        outer.addLayout(form)
        self.peers = named(QTableWidget(0, len(PEER_COLUMNS)), "peersTable")
        self.peers.setHorizontalHeaderLabels(
            [_("Name"), _("AE title"), _("Host"), _("Port"), _("Store"), _("Query"), _("Retrieve")]
        )
        self.peers.horizontalHeader().setStretchLastSection(True)
        add, remove = QPushButton(_("Add node")), QPushButton(_("Remove node"))
        add.clicked.connect(lambda: self._add_peer({}))
        remove.clicked.connect(lambda: self.peers.removeRow(self.peers.currentRow()))
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(remove)
        row.addStretch(1)
        box = QWidget()
        inner = QVBoxLayout(box)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.addWidget(named(QLabel(_("Known nodes (AE table):")), "label_node.peers"))
        inner.addWidget(self.peers)
        inner.addLayout(row)
        outer.addWidget(box)
        self.fields["node.peers"] = _Field(box, self._peers_value, self._set_peers)
        return page

    def _add_peer(self, peer: dict[str, Any]) -> None:
        row = self.peers.rowCount()
        self.peers.insertRow(row)
        defaults = {"port": 104, "may_store": True, "may_query": False, "may_retrieve": False}
        for col, key in enumerate(PEER_COLUMNS):
            value = peer.get(key, defaults.get(key, ""))
            item = QTableWidgetItem()
            if isinstance(value, bool):
                item.setCheckState(_checked(value))
            else:
                item.setText(str(value))
            self.peers.setItem(row, col, item)

    def _set_peers(self, peers: list[dict[str, Any]]) -> None:
        self.peers.setRowCount(0)
        for peer in peers:
            self._add_peer(peer)

    def _peers_value(self) -> list[dict[str, Any]]:
        out = []
        for row in range(self.peers.rowCount()):
            peer: dict[str, Any] = {}
            for col, key in enumerate(PEER_COLUMNS):
                item = self.peers.item(row, col)
                if key.startswith("may_"):
                    peer[key] = item is not None and item.checkState().value == 2
                elif key == "port":
                    peer[key] = int((item.text() if item else "") or 104)
                else:
                    peer[key] = item.text().strip() if item else ""
            if peer["name"] and peer["ae_title"]:
                out.append(peer)
        return out

    # -- saving ----------------------------------------------------------------------------
    def changes(self) -> dict[str, Any]:
        out = {}
        for key, field in self.fields.items():
            if field.widget.isEnabled() and field.get() != current_value(self.settings, key):
                out[key] = field.get()
        return out

    def save(self) -> bool:
        changes = self.changes()
        if not changes:
            self.accept()
            return True
        try:
            path = save_user_settings(self.settings, self.session, changes, self.audit)
        except Exception as exc:  # noqa: BLE001 - shown to the user
            show_error(self, exc)
            return False
        self.note.setText(
            _("Saved to {path}. Changes take effect the next time the workstation starts.").format(
                path=path
            )
        )
        return True


def _checked(value: bool) -> Any:
    from PySide6.QtCore import Qt

    return Qt.CheckState.Checked if value else Qt.CheckState.Unchecked
