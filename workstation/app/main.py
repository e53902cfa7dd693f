"""``run_app(settings) -> int``: the desktop application's entry point.

The login window shows at once; the engine (auth database, archive, DICOM node) starts
behind it on a worker thread.  After login the main window opens; logging out returns to
the login window.  Only the user's own act ends the app: closing the main window, its
Quit action, or Quit / closing the login window.  Qt's ``lastWindowClosed`` is not used:
between the accepted login dialog and the main window no window is visible, and Qt emits
it then (the app used to quit on every login).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QLibraryInfo, QLocale, QObject, Qt, QTimer, QTranslator, Signal
from PySide6.QtWidgets import QApplication

from workstation.app.errors import install_excepthook, show_error
from workstation.app.login_dialog import LoginDialog
from workstation.app.workers import run_in_background, wait_for_background
from workstation.config import Settings
from workstation.i18n import current_language

if TYPE_CHECKING:
    from collections.abc import Callable

    from workstation.auth.session import Session
    from workstation.services.workstation import WorkstationServices

logger = logging.getLogger(__name__)


class _ExpiryBridge(QObject):
    sig_expired = Signal(object)


class AppController(QObject):
    """Owns the login dialog, the main window and the engine services."""

    sig_window_shown = Signal(object)

    def __init__(
        self,
        settings: Settings,
        *,
        make_services: Callable[[Settings], WorkstationServices] | None = None,
    ) -> None:
        """``make_services(settings)`` builds the engine on a worker (default:
        :class:`~workstation.services.workstation.WorkstationServices` as configured)."""
        super().__init__()
        self.settings = settings
        self._make_services = make_services
        self.services: Any = None
        self.login_dialog: LoginDialog | None = None
        self.window: Any = None
        self.session: Session | None = None
        self._first_admin = False
        self._expiry = _ExpiryBridge()
        self._expiry.sig_expired.connect(self._on_session_expired)
        self._quitting = False

    # -- start -----------------------------------------------------------------------------
    def start(self) -> LoginDialog:
        self.show_login()
        run_in_background(
            self._build_services, self._services_ready, self._services_failed, owner=self
        )
        return self.login_dialog  # type: ignore[return-value]

    def _build_services(self) -> tuple[Any, bool]:
        from workstation.services.workstation import WorkstationServices

        services = (self._make_services or WorkstationServices)(self.settings)
        # The archive (and the outbox, the node) start before anyone can log in: their
        # schema upgrades then never race the login's audit writes on the same database.
        services.archive  # noqa: B018 - opens it, raises what opening raised
        return services, services.authenticator.needs_first_admin()

    def _services_ready(self, result: tuple[Any, bool]) -> None:
        self.services, self._first_admin = result
        logger.info("the engine is ready (first start: %s)", self._first_admin)
        self.services.authenticator.on_session_expired(self._expiry.sig_expired.emit)
        if self.login_dialog is not None:
            self.login_dialog.set_services(self.services, self._first_admin)

    def _services_failed(self, exc: BaseException) -> None:
        logger.error("the workstation engine could not start", exc_info=(type(exc), exc, None))
        if self.login_dialog is not None:
            self.login_dialog.show_start_failure(exc)

    # -- login / logout --------------------------------------------------------------------
    def show_login(self) -> None:
        dialog = LoginDialog(self.settings)
        dialog.sig_logged_in.connect(self._on_logged_in)
        dialog.rejected.connect(self._on_login_closed)
        self.login_dialog = dialog
        if self.services is not None:
            dialog.set_services(self.services, self.services.authenticator.needs_first_admin())
        dialog.show()

    def _on_login_closed(self) -> None:
        if self.window is None and self.session is None:
            self.quit()

    def _on_logged_in(self, session: Session) -> None:
        self.session = session
        self.services.after_login(session)
        services = self.services
        # The archive opens in the background; wait for it off the GUI thread.
        run_in_background(
            lambda: services.archive,
            lambda _a: self._show_window(session),
            self._window_failed,
            owner=self,
        )

    def _window_failed(self, exc: BaseException) -> None:
        """The archive did not open after login: say why, and go back to the login."""
        show_error(None, exc)
        self.logout()

    def _on_window_closed(self, window: Any) -> None:
        """The user closed the main window (not a logout, which hides it): quit."""
        if window is self.window:
            logger.info("main window closed by the user: quitting")
            self.quit()

    def _show_window(self, session: Session) -> None:
        from workstation.app.main_window import MainWindow

        if not session.active:
            return
        self.login_dialog = None
        window = MainWindow(self.services, session)
        self.window = window
        window.sig_logout_requested.connect(self.logout)
        window.sig_closed.connect(lambda: self._on_window_closed(window))
        window.show()
        self.sig_window_shown.emit(self.window)

    def logout(self) -> None:
        session, window = self.session, self.window
        self.session, self.window = None, None
        if window is not None:
            window.shutdown()
            window.hide()
            window.deleteLater()
        if session is not None:
            services = self.services
            services.after_logout(session)
            run_in_background(
                lambda: services.authenticator.logout(session),
                None,
                lambda exc: logger.warning("logout: %s", exc),
            )
        if not self._quitting:
            self.show_login()

    def _on_session_expired(self, session: Session) -> None:
        if self.window is not None and session is self.session:
            self.window.session_expired()

    # -- quit ------------------------------------------------------------------------------
    def quit(self) -> None:
        self._quitting = True
        app = QApplication.instance()
        if app is not None:
            app.quit()

    def shutdown(self) -> None:
        """Log out and stop the engine (after the event loop ends)."""
        self._quitting = True
        if self.session is not None and self.session.active and self.services is not None:
            try:
                self.services.authenticator.logout(self.session)
            except Exception:
                logger.exception("logout at shutdown failed")
        if self.window is not None:
            self.window.shutdown()
        wait_for_background(10_000)
        if self.services is not None:
            self.services.close()


#: benchmarks/app_bench.py sets this to a file: the app writes the wall-clock times at
#: which the login window was shown and became ready for input, then quits.
BENCH_ENV = "WORKSTATION_BENCH_STARTUP_FILE"


def _report_when_shown(controller: AppController, dialog: LoginDialog, out: Path) -> None:
    shown: list[float] = []

    def check() -> None:
        handle = dialog.windowHandle()
        if not shown and dialog.isVisible() and handle is not None and handle.isExposed():
            shown.append(time.time())
        if shown and controller.services is not None:
            out.write_text(json.dumps({"shown": shown[0], "ready": time.time()}))
            timer.stop()
            controller.quit()

    timer = QTimer(controller, interval=1)
    timer.timeout.connect(check)
    timer.start()


def install_qt_translations(app: QApplication, language: str | None = None) -> list[QTranslator]:
    """Qt's own strings (standard buttons, file dialogs) and number formats in our language.

    Loads ``qtbase_<lang>.qm`` from Qt's translations folder; the translators are kept
    on the application (Qt does not own them).  Returns those installed.
    """
    language = language or current_language()
    QLocale.setDefault(QLocale(language))
    for old in getattr(app, "_klinika_translators", []):
        app.removeTranslator(old)
    installed: list[QTranslator] = []
    if language != "en":
        folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
        translator = QTranslator(app)
        if translator.load(f"qtbase_{language}", folder):
            app.installTranslator(translator)
            installed.append(translator)
        else:
            logger.info("no Qt translations for %s in %s", language, folder)
    app._klinika_translators = installed  # type: ignore[attr-defined]
    return installed


def run_app(settings: Settings) -> int:
    """Start the desktop app; returns the process exit code."""
    started = time.perf_counter()
    # The VTK views are native windows; their siblings need not be (fewer X windows).
    QApplication.setAttribute(Qt.ApplicationAttribute.AA_DontCreateNativeWidgetSiblings)
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv)
    app.setApplicationName("Klinika Workstation")
    install_qt_translations(app)
    app.setQuitOnLastWindowClosed(False)
    install_excepthook(str(settings.log_dir / "workstation.log"))
    controller = AppController(settings)
    dialog = controller.start()
    logger.info("login window shown %.0f ms after run_app", (time.perf_counter() - started) * 1e3)
    if os.environ.get(BENCH_ENV):
        _report_when_shown(controller, dialog, Path(os.environ[BENCH_ENV]))
    try:
        code = app.exec()
    finally:
        controller.shutdown()
    return int(code)


__all__ = ["AppController", "install_qt_translations", "run_app"]
