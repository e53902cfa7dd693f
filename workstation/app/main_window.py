"""The main window: study browser (Local and Central tabs), the viewer area, the activity
panel, and the actions a role may take.  Buttons mirror the engine's permission check;
the engine makes the check that counts."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from workstation.app.activity_panel import ActivityPanel
from workstation.app.banners import Banner
from workstation.app.central_browser import (
    MAX_RESULTS,
    CentralStudyBrowser,
    RemoteStudy,
    remote_study,
)
from workstation.app.errors import show_error
from workstation.app.import_dialog import ImportDialog
from workstation.app.local_browser import LocalStudyBrowser
from workstation.app.lock_screen import IdleWatcher, LockPage
from workstation.app.login_dialog import online_only_text
from workstation.app.naming import named
from workstation.app.send_dialog import SendDialog
from workstation.app.study_model import LocalStudyModel
from workstation.app.thumbnails import ThumbnailCache
from workstation.app.viewer_area import ViewerArea
from workstation.app.workers import run_in_background
from workstation.auth.errors import AuthError
from workstation.auth.permissions import Permission, Role
from workstation.auth.session import Session, SessionMode
from workstation.i18n import _
from workstation.i18n.formatting import dicom_date, person_name
from workstation.pacs_node.archive.queries import StudyQuery
from workstation.pacs_node.archive.records import StudyRecord
from workstation.services.jobs import Job
from workstation.services.thumbnails import series_thumbnail, study_thumbnail
from workstation.services.workstation import CENTRAL_NODE_NAME, WorkstationServices

logger = logging.getLogger(__name__)

CONTENT_PAGE, LOCK_PAGE = 0, 1
#: Wait this long after the last archive change before refreshing the list.
CHANGE_DEBOUNCE_MS = 1200
#: How often the window looks at ``Session.central_problem`` (set off the GUI thread).
CENTRAL_PROBLEM_POLL_MS = 1000
#: The activity panel's height once images are shown (the user can drag it taller).
ACTIVITY_HEIGHT_WITH_VIEWER = 130


#: Keyboard shortcuts of the main toolbar's actions.
SHORTCUTS = {
    "import": "Ctrl+I",
    "open": "Ctrl+O",
    "settings": "Ctrl+,",
    "lock": "Ctrl+L",
    "logout": "Ctrl+Shift+L",
    "quit": "Ctrl+Q",
}


class _ChangeBridge(QObject):
    sig_changed = Signal(object)


class MainWindow(QMainWindow):
    sig_logout_requested = Signal()
    #: The user closed the window (title bar, Quit): the app ends.  A logout hides it.
    sig_closed = Signal()

    def __init__(self, services: WorkstationServices, session: Session) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle(_("Klinika Workstation"))
        self.services = services
        self.session = session
        self.study_actions = services.actions(session)
        self._has_report = False
        self.thumbnails = ThumbnailCache(self._make_thumbnail, parent=self)
        self.model = LocalStudyModel(
            self.study_actions.search, self.study_actions.count, self.thumbnails, parent=self
        )
        self._build()
        self._build_actions()
        self._watch_archive()
        self.idle_watcher = IdleWatcher(services.idle_lock(), parent=self)
        self.idle_watcher.sig_idle.connect(lambda: self.lock("idle"))
        self.update_actions()
        self.local.search_now()
        self.resize(1400, 860)

    # -- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        self.banner = Banner(self)
        self.node_banner = Banner(self, "nodeBanner")
        self.central_banner = Banner(self, "centralBanner")
        self._show_session_banner()
        self._watch_central_problem()
        self.local = LocalStudyBrowser(self.model)
        self.central = self._central_browser()
        self.tabs = named(QTabWidget(), "browserTabs")
        self.tabs.addTab(self.local, _("Local"))
        self.tabs.addTab(self.central, _("Central"))
        self.viewer = ViewerArea(
            self.study_actions.open_study, self.thumbnails, make_viewer=self._make_image_viewer
        )
        self.viewer.sig_study_opened.connect(self._on_study_opened)
        splitter = named(QSplitter(Qt.Orientation.Horizontal), "mainSplitter")
        splitter.addWidget(self.tabs)
        splitter.addWidget(self.viewer)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        self.splitter = splitter
        self._viewer_widened = False
        content = QWidget()
        lay = QVBoxLayout(content)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.banner)
        lay.addWidget(self.node_banner)
        lay.addWidget(self.central_banner)
        lay.addWidget(splitter, 1)
        self.lock_page = LockPage(self.session.username)
        self.pages = QStackedWidget()
        self.pages.addWidget(content)
        self.pages.addWidget(self.lock_page)
        self.setCentralWidget(self.pages)
        self.activity = ActivityPanel(self.services.activity)
        self.activity_dock = named(QDockWidget(_("Activity"), self), "activityDock")
        self.activity_dock.setWidget(self.activity)
        self.activity_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.activity_dock)
        # The open study's report editor: hidden until asked for (Report, Ctrl+R), so the
        # images keep the room; once shown it stays shown for the next study.
        self.report_dock = named(QDockWidget(_("Report"), self), "reportDock")
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.report_dock)
        self.report_dock.hide()
        self.report_dock.visibilityChanged.connect(self._on_report_dock_visible)
        self.user_label = named(QLabel(), "userLabel")
        self.user_label.setText(
            _("{user} ({role}) — {mode}").format(
                user=self.session.username,
                role=self.session.role.label,
                mode=self.session.mode.label,
            )
        )
        self.node_label = named(QLabel(), "nodeLabel")
        self._show_node_state()
        self.statusBar().addPermanentWidget(self.node_label)
        self.statusBar().addPermanentWidget(self.user_label)
        self.local.sig_study_activated.connect(self.open_study)
        self.local.sig_selection_changed.connect(lambda _r: self.update_actions())
        self.central.sig_retrieve_requested.connect(self.retrieve_study)
        self.tabs.currentChanged.connect(lambda _i: self.update_actions())
        self.lock_page.sig_unlock_requested.connect(self.unlock)
        self.lock_page.sig_logout_requested.connect(self.sig_logout_requested)
        self.model.sig_failed.connect(lambda exc: show_error(self, exc))

    def _show_node_state(self) -> None:
        """The node in the status bar; why it is off and how to fix it, and for an
        administrator at once a banner (modalities cannot send here)."""
        node, error = self.services.node, getattr(self.services, "node_error", None)
        if node is not None:
            text = _("DICOM node {aet} on port {port}").format(aet=node.ae_title, port=node.port)
        elif error is not None:
            text = _("DICOM node off: {reason} {fix}").format(reason=error.reason, fix=error.fix)
            if self.session.role is Role.ADMIN:
                self.node_banner.show_message(
                    _(
                        "The DICOM node is off, so modalities cannot send images to this "
                        "workstation: {reason} {fix}"
                    ).format(reason=error.reason, fix=error.fix),
                    "error",
                )
        else:
            text = _("DICOM node off")
        self.node_label.setText(text)
        self.node_label.setToolTip(text)

    def _watch_central_problem(self) -> None:
        """The token refresher runs on its own thread and only sets
        ``Session.central_problem``; a GUI-thread timer reads it and shows or hides the
        central banner, so no widget is touched from another thread."""
        self._central_timer = QTimer(self, interval=CENTRAL_PROBLEM_POLL_MS)
        self._central_timer.timeout.connect(self._show_central_problem)
        if self.session.mode is SessionMode.CENTRAL:
            self._central_timer.start()
        self._show_central_problem()

    def _show_central_problem(self) -> None:
        problem = self.session.central_problem if self.session.active else ""
        if problem != self.central_banner.text():
            self.central_banner.show_message(problem, "warning")

    def _show_session_banner(self) -> None:
        mode = self.session.mode
        if mode is SessionMode.OFFLINE:
            self.banner.show_message(
                _(
                    "Offline: the central server cannot be reached. You work with the local "
                    "archive; log out and in again when the network is back to reach central."
                ),
                "info",
            )
        elif self.session.online_only:
            self.banner.show_message(online_only_text(), "warning")

    def _central_browser(self) -> CentralStudyBrowser:
        if not self.services.has_central_dicomweb():
            return CentralStudyBrowser(None, _("No central archive is configured (Settings)."))
        if self.session.mode is not SessionMode.CENTRAL:
            return CentralStudyBrowser(
                None, _("Searching the central archive needs a central login (you are offline).")
            )
        browser = CentralStudyBrowser(self._search_central)
        browser.set_retrieve_allowed(self.session.can(Permission.STUDY_RETRIEVE))
        return browser

    def _build_actions(self) -> None:
        bar = named(QToolBar(_("Actions")), "mainToolbar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.addToolBar(bar)
        self.toolbar = bar
        self.act: dict[str, QAction] = {}
        self._needs: dict[str, tuple[Permission | None, bool]] = {}
        spec: list[tuple[str, str, Permission | None, bool, Callable[[], object]] | None] = [
            ("import", _("Import…"), Permission.STUDY_IMPORT, False, self.open_import_dialog),
            ("open", _("Open"), Permission.STUDY_VIEW, True, self._open_selected),
            ("send", _("Send…"), Permission.STUDY_SEND, True, self.send_selected),
            ("export", _("Export…"), Permission.STUDY_EXPORT, True, self.export_selected),
            ("delete", _("Delete"), Permission.STUDY_DELETE, True, self.delete_selected),
            None,
            ("settings", _("Settings"), None, False, self.open_settings),
            ("users", _("Users"), Permission.USERS_MANAGE, False, self.open_users),
            ("audit", _("Audit log"), Permission.AUDIT_READ, False, self.open_audit),
            None,
            ("lock", _("Lock"), None, False, lambda: self.lock("user")),
            ("logout", _("Log out"), None, False, self.sig_logout_requested.emit),
            ("quit", _("Quit"), None, False, self.close),
        ]
        for item in spec:
            if item is None:
                if "report" not in self.act:
                    self._add_report_toggle(bar)
                bar.addSeparator()
                continue
            key, text, perm, needs_selection, slot = item
            action = QAction(text, self)
            action.setObjectName(f"action_{key}")
            if key in SHORTCUTS:
                action.setShortcut(QKeySequence(SHORTCUTS[key]))
            action.triggered.connect(lambda _checked=False, s=slot: s())
            bar.addAction(action)
            self.act[key] = action
            self._needs[key] = (perm, needs_selection)

    def _add_report_toggle(self, bar: QToolBar) -> None:
        """Show or hide the report editor (enabled once a study is open)."""
        toggle = self.report_dock.toggleViewAction()
        toggle.setObjectName("action_report")
        toggle.setShortcut(QKeySequence("Ctrl+R"))
        toggle.setEnabled(False)
        bar.addAction(toggle)
        self.act["report"] = toggle
        self._needs["report"] = (None, False)

    def _on_report_dock_visible(self, visible: bool) -> None:
        if not visible:
            return
        width = max(360, self.width() // 3)
        self.resizeDocks([self.report_dock], [width], Qt.Orientation.Horizontal)
        editor = self.report_dock.widget()
        study = getattr(self, "_report_study", "")
        if study and getattr(editor, "study_uid", None) != study:
            self._show_report_editor(study)

    def update_actions(self) -> None:
        """Enable exactly what this role may do now (the engine checks again)."""
        local_tab = self.tabs.currentWidget() is self.local
        selected = local_tab and self.local.selected() is not None
        for key, action in self.act.items():
            perm, needs_selection = self._needs[key]
            allowed = perm is None or self.session.can(perm)
            if key == "report":
                allowed = self._has_report
            action.setEnabled(allowed and (selected or not needs_selection))
            if perm is not None and not self.session.can(perm):
                action.setToolTip(
                    _("Your role ({role}) may not {what}.").format(
                        role=self.session.role.label, what=perm.action
                    )
                )

    # -- archive changes -------------------------------------------------------------------
    def _watch_archive(self) -> None:
        self._changes = _ChangeBridge()
        self._changed_studies: set[str] = set()
        self._change_timer = QTimer(self, singleShot=True, interval=CHANGE_DEBOUNCE_MS)
        self._change_timer.timeout.connect(self._on_archive_changed)
        self._changes.sig_changed.connect(self._on_change_events)
        self._unsubscribe = self.services.archive.subscribe(
            lambda events: self._changes.sig_changed.emit(
                [(e.study_instance_uid, e.change_type) for e in events]
            )
        )

    def _on_change_events(self, changes: list[tuple[str, str]]) -> None:
        current = self.viewer.current_study_uid
        for uid, change_type in changes:
            if change_type == "study_deleted" and uid == current:
                self.viewer.close_study()  # deleted elsewhere (another window, the CLI)
        self._changed_studies.update(uid for uid, _t in changes)
        self._change_timer.start()

    def _on_archive_changed(self) -> None:
        if self.session.locked:
            self._change_timer.start()
            return
        for uid in self._changed_studies:
            self.thumbnails.forget(uid)
        self._changed_studies.clear()
        bar = self.local.table.verticalScrollBar()
        if bar.value() == 0:
            self.model.refresh()

    # -- engine calls ----------------------------------------------------------------------
    def _make_thumbnail(self, key: str):
        self.study_actions.guard(Permission.STUDY_VIEW)
        archive = self.services.archive
        if key.startswith("series:"):
            return series_thumbnail(archive, key.split(":", 1)[1])
        return study_thumbnail(archive, key)

    def _search_central(self, filters: dict[str, str]) -> list[RemoteStudy]:
        node = self.services.central_node(self.session)
        try:
            found = self.study_actions.find_remote(node, filters, limit=MAX_RESULTS)
        finally:
            node.close()
        out = []
        for ds in found:
            uid = str(ds.get("StudyInstanceUID", ""))
            local = bool(uid) and bool(
                self.study_actions.search(StudyQuery(study_instance_uid=uid, limit=1))
            )
            out.append(remote_study(ds, local))
        return out

    def _make_image_viewer(self) -> QWidget:
        """The 2-D viewer on the local archive, for this window's session (its role
        decides whether measurements may be written)."""
        from workstation.services.document_signature import signature_check
        from workstation.viewer._qt.qt_viewer import QtViewer

        return QtViewer(
            self.services.archive,
            self.services.settings,
            actions=self.study_actions,
            mpr_opener=self._open_mpr_window,
            signature_check=signature_check(self.services.settings),
        )

    def _open_mpr_window(self, paths, parent, on_error, *, link):
        """The viewer's "MPR / 3-D": MPR is hosted from here, the app layer above both; its
        3-D snapshots go to this session's archive and audit log."""
        from workstation.mpr._qt.qt_mpr_launcher import open_mpr_window
        from workstation.services.mpr_actions import Actor, SnapshotTarget

        actions = self.study_actions
        context = SnapshotTarget(actions.archive, actions.audit, Actor(session=actions.session))
        return open_mpr_window(paths, parent, on_error, link=link, context=context)

    def _on_study_opened(self, study_uid: str) -> None:
        # The report editor is built when it is shown (Report, Ctrl+R), not with every
        # study: building it reads the database on the GUI thread while the user works.
        self._report_study = study_uid
        self._has_report = True
        self.update_actions()
        if self.report_dock.isVisible():
            self._show_report_editor(study_uid)
        # The images need the room: on the first open the browser keeps a third of the
        # width (later the user's own splitter position stays).
        if self.viewer.image_viewer is not None and not self._viewer_widened:
            self._viewer_widened = True
            total = sum(self.splitter.sizes())
            if total > 0:
                self.splitter.setSizes([total // 3, total - total // 3])
            self.resizeDocks(
                [self.activity_dock], [ACTIVITY_HEIGHT_WITH_VIEWER], Qt.Orientation.Vertical
            )

    def _show_report_editor(self, study_uid: str) -> None:
        """The opened study's report editor, docked beside the viewer (reports/_qt)."""
        try:
            from workstation.reports._qt.qt_report_editor import QtReportEditor

            editor = QtReportEditor(self.services.report_actions(self.session), study_uid)
        except Exception:
            logger.exception("the report editor could not open for study %s", study_uid)
            return
        editor.sig_error.connect(lambda text: self.statusBar().showMessage(text, 15_000))
        old = self.report_dock.widget()
        self.report_dock.setWidget(editor)
        if old is not None:
            old.deleteLater()

    def selected_study(self) -> StudyRecord | None:
        return self.local.selected()

    def open_study(self, study_uid: str) -> None:
        self.viewer.open_study(study_uid)

    def _open_selected(self) -> None:
        study = self.selected_study()
        if study is not None:
            self.open_study(study.study_instance_uid)

    def _refused(self, permission: Permission, study_uid: str | None = None) -> bool:
        """Guard ``permission``; when refused (the guard audits it), show why and say so."""
        try:
            self.study_actions.guard(permission, study_uid)
        except AuthError as exc:
            show_error(self, exc)
            return True
        return False

    def open_import_dialog(self) -> ImportDialog | None:
        if self._refused(Permission.STUDY_IMPORT):
            return None
        dialog = ImportDialog(self._start_import, self)
        dialog.sig_finished.connect(self._on_import_finished)
        dialog.show()
        return dialog

    def _on_import_finished(self, study_uids: list[str]) -> None:
        """Select what was just imported in the local list (Open then opens it)."""
        if study_uids:
            self.tabs.setCurrentWidget(self.local)
            self.local.show_study(study_uids[0])

    def _start_import(self, paths) -> Job:
        job = self.study_actions.import_paths(paths)
        self.activity.model.reload()
        return job

    def send_destinations(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        if self.services.has_central_dicomweb() and self.session.mode is SessionMode.CENTRAL:
            out.append((CENTRAL_NODE_NAME, _("Central archive (DICOMweb)")))
        for peer in self.services.peers(may_store=True):
            out.append((peer.name, f"{peer.name} ({peer.ae_title} @ {peer.host}:{peer.port})"))
        return out

    def send_selected(self, destination: str | None = None) -> Job | int | None:
        study = self.selected_study()
        if study is None:
            return None
        if destination is None:
            dialog = SendDialog(self.send_destinations(), _study_label(study), self)
            dialog.accepted.connect(lambda: self.send_selected(dialog.destination() or ""))
            dialog.open()
            return None
        try:
            if self.services.sync is not None:
                # upstream sends wait in the persistent outbox until they are confirmed
                job: Job | int = self.services.queue_send(
                    self.session, study.study_instance_uid, destination
                )
            else:
                node = self.services.node_by_name(destination, self.session)
                job = self.study_actions.send_study(study.study_instance_uid, node, destination)
        except Exception as exc:  # noqa: BLE001 - shown to the user
            show_error(self, exc)
            return None
        self.activity.model.reload()
        return job

    def retrieve_study(self, study_uid: str) -> Job | None:
        try:
            node = self.services.central_node(self.session)
            job = self.study_actions.retrieve_study(study_uid, node, _("central archive"))
        except Exception as exc:  # noqa: BLE001 - shown to the user
            show_error(self, exc)
            return None
        self.activity.model.reload()
        return job

    def export_selected(self) -> QDialog | None:
        from workstation.app.export_dialog import ExportDialog

        study = self.selected_study()
        if study is None:
            return None
        if self._refused(Permission.STUDY_EXPORT, study.study_instance_uid):
            return None
        dialog = ExportDialog(self.study_actions, study, self)
        dialog.sig_started.connect(lambda _job: self.activity.model.reload())
        dialog.open()
        return dialog

    def delete_selected(self, confirmed: bool = False) -> None:
        study = self.selected_study()
        if study is None:
            return
        uid = study.study_instance_uid
        if not confirmed:
            box = QMessageBox(
                QMessageBox.Icon.Question,
                _("Delete study"),
                _(
                    "Delete this study from the local archive?\n\n{label}\n\nThis cannot be undone."
                ).format(label=_study_label(study)),
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                self,
            )
            box.setObjectName("confirmDelete")
            box.accepted.connect(lambda: self.delete_selected(confirmed=True))
            box.open()
            return
        if self.viewer.current_study_uid == uid:
            self.viewer.close_study()
        run_in_background(
            lambda: self.study_actions.delete_study(uid),
            on_success=lambda _n: self.model.refresh(),
            on_failure=lambda exc: show_error(self, exc),
            owner=self,
        )

    def open_settings(self) -> QDialog:
        from workstation.app.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.services.settings, self.session, self.services.audit, self)
        dialog.open()
        return dialog

    def open_users(self) -> QDialog | None:
        from workstation.app.users_dialog import UsersDialog

        try:
            admin = self.services.user_admin(self.session)
            self.study_actions.guard(Permission.USERS_MANAGE)
        except AuthError as exc:
            show_error(self, exc)
            return None
        dialog = UsersDialog(admin, self)
        dialog.open()
        return dialog

    def open_audit(self) -> QDialog | None:
        from workstation.app.audit_dialog import AuditDialog

        if self._refused(Permission.AUDIT_READ):
            return None
        dialog = AuditDialog(self.session, self.services.audit, self)
        dialog.open()
        return dialog

    # -- lock ------------------------------------------------------------------------------
    def lock(self, reason: str = "user") -> None:
        if self.session.locked or not self.session.active:
            return
        self.services.authenticator.lock(self.session, reason)
        for child in self.findChildren(QDialog):
            if child.isVisible():
                child.reject()
        self.viewer.pause()
        self.pages.setCurrentIndex(LOCK_PAGE)
        self.activity_dock.hide()
        # The report editor shows patient data: it hides with everything else.
        self._report_was_visible = self.report_dock.isVisible()
        self.report_dock.hide()
        self.toolbar.hide()
        self.user_label.setText(_("Locked"))
        self.idle_watcher.paused = True
        self.lock_page.reset()
        logger.info("screen locked (%s)", reason)

    def unlock(self, password: str) -> None:
        auth, session = self.services.authenticator, self.session
        self.lock_page.unlock_button.setEnabled(False)
        run_in_background(
            lambda: auth.unlock(session, password),
            on_success=lambda _r: self._unlocked(),
            on_failure=self._unlock_failed,
            owner=self,
        )

    def _unlocked(self) -> None:
        self.lock_page.unlock_button.setEnabled(True)
        self.pages.setCurrentIndex(CONTENT_PAGE)
        self.activity_dock.show()
        if getattr(self, "_report_was_visible", False):
            self.report_dock.show()
        self.toolbar.show()
        self.user_label.setText(
            _("{user} ({role}) — {mode}").format(
                user=self.session.username,
                role=self.session.role.label,
                mode=self.session.mode.label,
            )
        )
        self.idle_watcher.idle.touch()
        self.idle_watcher.paused = False
        self.update_actions()

    def _unlock_failed(self, exc: BaseException) -> None:
        self.lock_page.unlock_button.setEnabled(True)
        self.lock_page.message.setText(str(exc))
        self.lock_page.password.setFocus()

    @property
    def is_locked(self) -> bool:
        return self.pages.currentIndex() == LOCK_PAGE

    # -- teardown --------------------------------------------------------------------------
    def session_expired(self) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Information,
            _("Session ended"),
            _("Your session has expired or was ended by an administrator. Log in again."),
            QMessageBox.StandardButton.Ok,
            self,
        )
        box.finished.connect(lambda _r: self.sig_logout_requested.emit())
        box.open()

    def shutdown(self) -> None:
        """Logout or close: stop watching, close the viewer (finalizes its GL windows)."""
        self.idle_watcher.stop()
        self._central_timer.stop()
        self.viewer.shutdown()
        unsubscribe = getattr(self, "_unsubscribe", None)
        if unsubscribe is not None:
            unsubscribe()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)
        self.sig_closed.emit()


def _study_label(study: StudyRecord) -> str:
    return f"{person_name(study.patient_name)} — {dicom_date(study.study_date)} — " + (
        study.study_description or ", ".join(study.modalities)
    )
