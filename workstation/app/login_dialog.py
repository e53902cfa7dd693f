"""The login dialog: central, offline and standalone login, TOTP when asked, and the
first administrator in standalone mode.  Every check runs in the engine, off the GUI
thread; the dialog only collects input and shows answers."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from workstation.app.banners import Banner
from workstation.app.naming import named
from workstation.app.workers import run_in_background
from workstation.auth.errors import AuthError, MfaRequired
from workstation.config import Settings
from workstation.i18n import _

if TYPE_CHECKING:
    from workstation.auth.session import Session
    from workstation.services.workstation import WorkstationServices

logger = logging.getLogger(__name__)


def online_only_text() -> str:
    return _(
        "No system keyring is available: online-only mode. Your login is not remembered "
        "and offline login is not possible on this computer."
    )


class LoginDialog(QDialog):
    sig_logged_in = Signal(object)

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("loginDialog")
        self.setWindowTitle(_("Klinika Workstation — Log in"))
        self.settings = settings
        self.services: WorkstationServices | None = None
        self._busy = False
        self._build()
        self._set_busy(True, _("Starting…"))

    # -- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        title = QLabel(_("Klinika Workstation"))
        title.setStyleSheet("font-size:18px; font-weight:600;")
        auth_url = self.settings.central.auth_url
        where = (
            _("Central server: {url}").format(url=auth_url)
            if auth_url
            else _("Standalone: local accounts on this workstation")
        )
        self.mode_label = QLabel(where)
        self.mode_label.setObjectName("modeLabel")
        self.mode_label.setWordWrap(True)
        self.banner = Banner(self)
        self.pages = QStackedWidget()
        self.pages.addWidget(self._login_page())
        self.pages.addWidget(self._first_admin_page())
        self.message = QLabel()
        self.message.setObjectName("loginMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color:#a4262c;")
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.mode_label)
        layout.addWidget(self.banner)
        layout.addWidget(self.pages)
        layout.addWidget(self.message)
        layout.setSizeConstraint(QLayout.SizeConstraint.SetFixedSize)
        self.pages.setMinimumWidth(440)
        self._show_page(0)

    def _login_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.username = named(QLineEdit(), "username")
        self.password = named(QLineEdit(), "password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.totp = named(QLineEdit(), "totp")
        self.totp.setMaxLength(8)
        self.totp.setInputMask("")
        self.totp_label = QLabel(_("Authenticator code:"))
        form.addRow(_("User name:"), self.username)
        form.addRow(_("Password:"), self.password)
        form.addRow(self.totp_label, self.totp)
        self.totp.setVisible(False)
        self.totp_label.setVisible(False)
        buttons = QDialogButtonBox()
        self.login_button = named(QPushButton(_("Log in")), "loginButton")
        self.login_button.setDefault(True)
        quit_button = named(QPushButton(_("Quit")), "quitButton")
        buttons.addButton(self.login_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(quit_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.login_button.clicked.connect(self._on_login_clicked)
        quit_button.clicked.connect(self.reject)
        form.addRow(buttons)
        return page

    def _first_admin_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        intro = QLabel(
            _(
                "This is the first start of this workstation. Create the administrator "
                "account: it manages users and settings."
            )
        )
        intro.setWordWrap(True)
        form.addRow(intro)
        self.admin_name = named(QLineEdit(), "adminName")
        self.admin_password = named(QLineEdit(), "adminPassword")
        self.admin_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.admin_confirm = named(QLineEdit(), "adminConfirm")
        self.admin_confirm.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow(_("Administrator name:"), self.admin_name)
        form.addRow(_("Password:"), self.admin_password)
        form.addRow(_("Repeat password:"), self.admin_confirm)
        self.create_admin_button = named(
            QPushButton(_("Create administrator")), "createAdminButton"
        )
        self.create_admin_button.clicked.connect(self._on_create_admin_clicked)
        form.addRow(self.create_admin_button)
        return page

    # -- state -----------------------------------------------------------------------------
    def set_services(self, services: WorkstationServices, first_admin: bool) -> None:
        """The engine is ready: enable input (first-admin page on a fresh standalone)."""
        self.services = services
        auth = services.authenticator
        if auth.online_only:
            self.banner.show_message(online_only_text(), "warning")
        self._show_page(1 if first_admin else 0)
        self._set_busy(False)
        (self.admin_name if first_admin else self.username).setFocus()

    def show_start_failure(self, exc: BaseException) -> None:
        from workstation.app.errors import user_message

        self._set_busy(True)
        self._say(user_message(exc))

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))
        self.adjustSize()

    def _show_page(self, index: int) -> None:
        """Show one page; the hidden one must not make the dialog taller."""
        for i in range(self.pages.count()):
            policy = QSizePolicy.Policy.Preferred if i == index else QSizePolicy.Policy.Ignored
            page = self.pages.widget(i)
            if page is not None:
                page.setSizePolicy(policy, policy)
        self.pages.setCurrentIndex(index)
        self.adjustSize()

    @property
    def first_admin_mode(self) -> bool:
        return self.pages.currentIndex() == 1

    def _set_busy(self, busy: bool, text: str = "") -> None:
        self._busy = busy
        for w in (
            self.username,
            self.password,
            self.totp,
            self.login_button,
            self.admin_name,
            self.admin_password,
            self.admin_confirm,
            self.create_admin_button,
        ):
            w.setEnabled(not busy)
        self.message.setStyleSheet("color:#444;" if busy else "color:#a4262c;")
        self._say(text)

    # -- actions ---------------------------------------------------------------------------
    def _on_login_clicked(self) -> None:
        if self._busy or self.services is None:
            return
        user, password = self.username.text().strip(), self.password.text()
        if not user or not password:
            self._say(_("Enter your user name and password."))
            return
        totp = self.totp.text().strip() or None
        auth = self.services.authenticator
        self._set_busy(True, _("Checking…"))
        run_in_background(
            lambda: auth.login(user, password, totp),
            on_success=self._logged_in,
            on_failure=self._login_failed,
            owner=self,
        )

    def _on_create_admin_clicked(self) -> None:
        if self._busy or self.services is None:
            return
        name, pw = self.admin_name.text().strip(), self.admin_password.text()
        if pw != self.admin_confirm.text():
            self._say(_("The two passwords differ."))
            return
        auth = self.services.authenticator
        self._set_busy(True, _("Creating the administrator…"))
        run_in_background(
            lambda: auth.create_first_admin(name, pw),
            on_success=self._logged_in,
            on_failure=self._login_failed,
            owner=self,
        )

    def _logged_in(self, session: Session) -> None:
        self._set_busy(False)
        for field in (self.password, self.totp, self.admin_password, self.admin_confirm):
            field.clear()
        logger.info("login succeeded (%s mode)", session.mode.value)
        self.sig_logged_in.emit(session)
        self.accept()

    def _login_failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        if isinstance(exc, MfaRequired):
            self.totp.setVisible(True)
            self.totp_label.setVisible(True)
            self.totp.setFocus()
            self.message.setStyleSheet("color:#12385c;")
            self._say(str(exc))
            return
        self.password.clear()
        self.totp.clear()
        if isinstance(exc, AuthError):
            self._say(str(exc))
        else:
            from workstation.app.errors import user_message

            logger.error("login failed unexpectedly", exc_info=(type(exc), exc, None))
            self._say(user_message(exc))
        self.password.setFocus()

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            # Enter submits the page shown: the login, or the first administrator form.
            if self.first_admin_mode:
                self._on_create_admin_clicked()
            else:
                self._on_login_clicked()
            return
        super().keyPressEvent(event)
