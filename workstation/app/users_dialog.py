"""User management for administrators: the central admin API, or local accounts in
standalone mode (both behind the same engine interface, which checks the role)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workstation.app.column_widths import fit_columns
from workstation.app.errors import show_error
from workstation.app.naming import named
from workstation.app.workers import run_in_background
from workstation.auth.permissions import Role
from workstation.auth.user_admin import UserAdmin, UserInfo
from workstation.i18n import _


class UserFormDialog(QDialog):
    """Name, password and role for a new user (or password only for a reset)."""

    def __init__(
        self, parent: QWidget | None, *, reset_for: str = "", role: Role | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("userFormDialog")
        self.setWindowTitle(_("Reset password") if reset_for else _("New user"))
        form = QFormLayout(self)
        self.name = named(QLineEdit(reset_for), "newUserName")
        self.name.setReadOnly(bool(reset_for))
        self.password = named(QLineEdit(), "newUserPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.confirm = named(QLineEdit(), "newUserConfirm")
        self.confirm.setEchoMode(QLineEdit.EchoMode.Password)
        self.role = named(QComboBox(), "newUserRole")
        for each in Role:
            self.role.addItem(each.label, each.value)
        # The role picked beside "Add user…" is the default (it used to be Administrator).
        self.role.setCurrentIndex(max(0, self.role.findData((role or Role.DOCTOR).value)))
        self.message = named(QLabel(), "newUserMessage")
        self.message.setStyleSheet("color:#a4262c;")
        self.message.setVisible(False)
        form.addRow(_("User name:"), self.name)
        form.addRow(_("Password:"), self.password)
        form.addRow(_("Repeat password:"), self.confirm)
        if not reset_for:
            form.addRow(_("Role:"), self.role)
        form.addRow(self.message)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def accept(self) -> None:
        """Only with a name and the same password typed twice."""
        if not self.name.text().strip() or not self.password.text():
            self._say(_("Enter a user name and a password."))
        elif self.password.text() != self.confirm.text():
            self._say(_("The two passwords differ."))
            self.confirm.clear()
            self.confirm.setFocus()
        else:
            super().accept()

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(True)


class UsersDialog(QDialog):
    def __init__(self, admin: UserAdmin, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("usersDialog")
        self.setWindowTitle(_("Users"))
        self.admin = admin
        self.table = named(QTableWidget(0, 4), "usersTable")
        self.table.setHorizontalHeaderLabels(
            [_("User name"), _("Role"), _("Status"), _("Two-factor")]
        )
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        fit_columns(self.table.horizontalHeader(), ((1, 100), (2, 100), (3, 100)))
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.role_combo = named(QComboBox(), "roleCombo")
        for role in Role:
            self.role_combo.addItem(role.label, role.value)
        buttons = QHBoxLayout()
        self.add_button = named(QPushButton(_("Add user…")), "addUser")
        self.role_button = named(QPushButton(_("Set role")), "setRole")
        self.disable_button = named(QPushButton(_("Disable / enable")), "toggleUser")
        self.reset_button = named(QPushButton(_("Reset password…")), "resetPassword")
        for w in (
            self.add_button,
            self.role_combo,
            self.role_button,
            self.disable_button,
            self.reset_button,
        ):
            buttons.addWidget(w)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        layout.addWidget(close)
        self.add_button.clicked.connect(self._add)
        self.role_button.clicked.connect(self._set_role)
        self.disable_button.clicked.connect(self._toggle)
        self.reset_button.clicked.connect(self._reset)
        self.users: list[UserInfo] = []
        self.reload()
        self.resize(760, 420)

    def _run(self, fn, then=None) -> None:  # type: ignore[no-untyped-def]
        run_in_background(
            fn, then or (lambda _r: self.reload()), lambda exc: show_error(self, exc), owner=self
        )

    def reload(self) -> None:
        self._run(self.admin.list_users, self._show)

    def _show(self, users: list[UserInfo]) -> None:
        self.users = users
        self.table.setRowCount(len(users))
        for row, u in enumerate(users):
            values = (
                u.username,
                u.role.label,
                _("disabled") if u.disabled else _("active"),
                _("on") if u.mfa_enabled else "",
            )
            for col, value in enumerate(values):
                self.table.setItem(row, col, QTableWidgetItem(value))

    def selected(self) -> UserInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.users[rows[0].row()] if rows else None

    def _add(self) -> None:
        form = UserFormDialog(self, role=Role(self.role_combo.currentData()))
        form.accepted.connect(
            lambda: self._run(
                lambda: self.admin.create_user(
                    form.name.text().strip(), form.password.text(), Role(form.role.currentData())
                )
            )
        )
        form.open()

    def _set_role(self) -> None:
        user, role = self.selected(), Role(self.role_combo.currentData())
        if user is not None:
            self._run(lambda: self.admin.set_role(user.username, role))

    def _toggle(self) -> None:
        user = self.selected()
        if user is not None:
            self._run(lambda: self.admin.set_disabled(user.username, not user.disabled))

    def _reset(self) -> None:
        user = self.selected()
        if user is None:
            return
        form = UserFormDialog(self, reset_for=user.username)
        form.accepted.connect(
            lambda: self._run(
                lambda: self.admin.reset_password(user.username, form.password.text())
            )
        )
        form.open()
