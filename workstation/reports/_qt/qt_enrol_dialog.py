""" "Get a signing certificate": the app's face of ``workstation signing enroll``.

The doctor types the account password again (checked against this session), the
current authenticator code when the account has two-factor sign-in, and - only where no
OS keyring can keep it - a passphrase for the key file, typed twice and checked (length,
both alike) before anything leaves.  The work (key, certificate
request, the central's answer) runs on a worker thread through
:meth:`~workstation.services.signing_actions.SigningActions.enroll`, the CLI's service.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from workstation.i18n import _
from workstation.reports.errors import ReportError
from workstation.reports.keystore import MIN_PASSPHRASE

if TYPE_CHECKING:
    from workstation.reports.editing import SigningEnrolment

logger = logging.getLogger(__name__)


class QtEnrolDialog(QDialog):
    """Password again, authenticator code, (no keyring) key passphrase; then enrol."""

    #: The enrolment finished: the certificate's SHA-256 fingerprint.
    sig_enrolled = Signal(str)
    _sig_finished = Signal(str, str)  # fingerprint, error

    def __init__(self, actions: SigningEnrolment, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.signing = actions
        self.setWindowTitle(_("Get a signing certificate"))
        self.setMinimumWidth(460)
        self.password = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.code = QLineEdit(maxLength=10)
        self.code.setPlaceholderText(_("only if your account uses two-factor sign-in"))
        self.passphrase = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.passphrase_again = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.needs_passphrase = actions.needs_passphrase
        form = QFormLayout()
        form.addRow(_("Your password"), self.password)
        form.addRow(_("Authenticator code"), self.code)
        if self.needs_passphrase:
            form.addRow(_("Passphrase for the new key"), self.passphrase)
            form.addRow(_("Passphrase again"), self.passphrase_again)
        else:
            self.passphrase.hide()
            self.passphrase_again.hide()
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        intro = QLabel(
            _(
                "A signing key is made on this workstation; the clinic's certificate "
                "authority certifies it for {user}."
            ).format(user=actions.username)
        )
        intro.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.busy = False
        self._sig_finished.connect(self._on_finished)

    def start(self) -> None:
        """Check the fields and enrol off the GUI thread."""
        if self.busy:
            return
        password, code = self.password.text(), self.code.text().strip()
        passphrase = self.passphrase.text() if self.needs_passphrase else None
        if not password:
            self._fail(_("Type your password."))
            return
        if self.needs_passphrase and (problem := self._passphrase_problem()):
            self._fail(problem)
            return
        self.busy = True
        self.buttons.setEnabled(False)
        self.message.setStyleSheet("")
        self.message.setText(_("Asking the clinic's certificate authority…"))
        actions = self.signing
        refused: tuple[type[Exception], ...] = (ReportError, OSError, *actions.refusals)

        def work() -> None:
            from workstation.reports.site_ca import fingerprint

            try:
                actions.confirm_password(password)
                cert = actions.enroll(passphrase, ask_code=lambda: code or None)
            except refused as exc:
                logger.info("enrolment failed: %s", type(exc).__name__)
                self._emit("", str(exc) or type(exc).__name__)
                return
            self._emit(fingerprint(cert), "")

        threading.Thread(target=work, name="signing-enrol", daemon=True).start()

    def _passphrase_problem(self) -> str:
        """Why the typed passphrase cannot protect the key ('' when it can)."""
        passphrase = self.passphrase.text()
        if not passphrase:
            return _("Type a passphrase for the new key.")
        if len(passphrase) < MIN_PASSPHRASE:
            return _("The passphrase must have at least {n} characters.").format(n=MIN_PASSPHRASE)
        if passphrase != self.passphrase_again.text():
            return _("The two passphrases differ: type the same passphrase twice.")
        return ""

    def _emit(self, fp: str, error: str) -> None:
        try:
            self._sig_finished.emit(fp, error)
        except RuntimeError:  # the dialog was closed meanwhile
            logger.debug("enrolment outlived its dialog")

    def _fail(self, text: str) -> None:
        self.message.setStyleSheet("color: #c00000;")
        self.message.setText(text)

    def _on_finished(self, fp: str, error: str) -> None:
        self.busy = False
        self.buttons.setEnabled(True)
        if error:
            self._fail(error)
            return
        self.message.setText(_("Signing certificate received."))
        self.sig_enrolled.emit(fp)
        self.accept()
