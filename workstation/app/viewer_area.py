"""The viewer's slot in the main window: hosts the 2-D image viewer.

Opening a study first goes through the guarded, audited engine call the main window
passes in (``open_study``: the permission check and the "study open" audit event).  Only
when that succeeded does the image viewer (``workstation.viewer``'s ``QtViewer``, made
by ``make_viewer`` on the first open) read the study; its first image is on screen at
once and the rest streams in behind it.

Where VTK cannot draw — no screen (Qt's offscreen platform), Wayland without X11, GL
libraries missing, or the viewer failing to start — the area falls back to the list of
the study's series with thumbnails and says why; the app stays up.

Public surface: ``open_study(study_uid)``, ``close_study()``, ``current_study_uid``,
``pause()`` (the screen locks), ``shutdown()`` (logout, window close: finalizes the
render windows), ``sig_study_opened(str)``, ``sig_first_image_shown(float)``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from typing import Any

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from workstation.app.naming import named
from workstation.app.thumbnails import ThumbnailCache
from workstation.app.workers import run_for_key
from workstation.i18n import _, ngettext
from workstation.i18n.formatting import dicom_date, person_name
from workstation.pacs_node.archive.records import SeriesRecord, StudyRecord

logger = logging.getLogger(__name__)

SERIES_THUMB_PX = 96
PLACEHOLDER_PAGE, SERIES_PAGE, VIEWER_PAGE = 0, 1, 2
#: A passing message from the viewer (e.g. "you may not measure") stays this long.
TRANSIENT_MESSAGE_MS = 15_000
#: VTK render windows that draw without a screen (Qt's offscreen platform).
_SCREENLESS_GL_WINDOWS = ("vtkOSOpenGLRenderWindow", "vtkEGLRenderWindow")

OpenStudy = Callable[[str], tuple[StudyRecord, list[SeriesRecord]]]
#: Makes the image viewer (a ``QtViewer``); called once, on the first open.
MakeViewer = Callable[[], Any]


def viewer_unavailable_reason(
    platform: str | None = None, env: Mapping[str, str] | None = None
) -> str:
    """ "" when the VTK viewer can draw on this Qt platform, else why not (translated)."""
    platform = QGuiApplication.platformName() if platform is None else platform
    env = os.environ if env is None else env
    if platform in ("offscreen", "minimal"):
        # VTK draws into an offscreen Qt window only through OSMesa/EGL, and only with no
        # X display around (with one it aborts on an X error).
        screenless = env.get("VTK_DEFAULT_OPENGL_WINDOW", "") in _SCREENLESS_GL_WINDOWS
        if not (screenless and not env.get("DISPLAY")):
            return _("there is no screen to draw images on")
    if platform.startswith("wayland"):
        return _(
            "the image viewer needs X11; start the workstation with QT_QPA_PLATFORM=xcb (XWayland)"
        )
    return ""


class ViewerArea(QWidget):
    sig_study_opened = Signal(str)
    #: Milliseconds from the viewer's open to its first image on screen.
    sig_first_image_shown = Signal(float)

    def __init__(
        self,
        open_study: OpenStudy,
        thumbnails: ThumbnailCache,
        make_viewer: MakeViewer | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("viewerArea")
        self._open = open_study
        self._make_viewer = make_viewer
        self.thumbnails = thumbnails
        self.current_study_uid: str | None = None
        #: The study whose guarded open is on its way; a late answer for another is dropped.
        self._pending: str | None = None
        #: The image viewer once made; None before the first open or where it cannot run.
        self.image_viewer: Any = None
        #: Why the image viewer cannot run here ("" while it can or has not been tried).
        self.unavailable_reason = ""
        self._first_image_seen = False
        self._build()
        thumbnails.sig_ready.connect(self._on_thumbnail_ready)

    def _build(self) -> None:
        self.header = named(QLabel(), "viewerHeader")
        self.header.setWordWrap(True)
        self.header.setStyleSheet("font-size:14px; font-weight:600;")
        self.close_button = named(QPushButton(_("Close study")), "closeStudyButton")
        self.close_button.clicked.connect(self.close_study)
        self.header_bar = QWidget()
        bar = QHBoxLayout(self.header_bar)
        bar.setContentsMargins(4, 2, 4, 2)
        bar.addWidget(self.header, 1)
        bar.addWidget(self.close_button)
        self.message = named(QLabel(), "viewerMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(
            "background:#fff4d6; color:#5a4300; border:1px solid #e6c65c; padding:4px;"
        )
        self._message_timer = QTimer(self, singleShot=True, interval=TRANSIENT_MESSAGE_MS)
        self._message_timer.timeout.connect(self._clear_message)

        self.pages = QStackedWidget()
        self.placeholder = QLabel(_("Double-click a study to open it."))
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setStyleSheet("color:#777; font-size:14px;")
        self.pages.addWidget(self.placeholder)
        self.series_list = named(QListWidget(), "seriesList")
        self.series_list.setViewMode(QListWidget.ViewMode.IconMode)
        self.series_list.setIconSize(QSize(SERIES_THUMB_PX, SERIES_THUMB_PX))
        self.series_list.setGridSize(QSize(SERIES_THUMB_PX + 60, SERIES_THUMB_PX + 56))
        self.series_list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.series_list.setWordWrap(True)
        self.series_list.setMovement(QListWidget.Movement.Static)
        self.pages.addWidget(self.series_list)
        self.viewer_page = named(QWidget(), "viewerPage")
        self.viewer_layout = QVBoxLayout(self.viewer_page)
        self.viewer_layout.setContentsMargins(0, 0, 0, 0)
        self.pages.addWidget(self.viewer_page)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.header_bar)
        layout.addWidget(self.message)
        layout.addWidget(self.pages, 1)
        self._set_page(PLACEHOLDER_PAGE)
        self._clear_message()

    # -- opening ---------------------------------------------------------------------------
    def open_study(self, study_uid: str) -> None:
        """Open a study: the engine's permission check and audit first, then the viewer."""
        self._pending = study_uid
        self._clear_message()
        self.header.setText(_("Opening…"))
        self.header_bar.show()
        run_for_key(study_uid, self._open, self._show_result, self._failed, owner=self)

    def _show_result(self, study_uid: str, result: tuple[StudyRecord, list[SeriesRecord]]) -> None:
        if self._pending != study_uid:
            return  # closed, or another study was asked for meanwhile
        self._pending = None
        self._show(study_uid, *result)

    def _show(self, study_uid: str, study: StudyRecord, series: list[SeriesRecord]) -> None:
        self.current_study_uid = study_uid
        self.header.setText(
            f"{person_name(study.patient_name)} — {dicom_date(study.study_date)} — "
            f"{study.study_description}"
        )
        viewer = self._viewer()
        problem = self._open_in_viewer(viewer, study_uid) if viewer is not None else ""
        if viewer is not None and not problem:
            self.series_list.clear()
            self._set_page(VIEWER_PAGE)
            if study.num_incomplete:
                self._show_message(incomplete_notice(study), transient=False)
        else:
            self._show_series_list(series)
            text = _("Images cannot be shown here: {reason}. The study's series are listed.")
            text = text.format(reason=problem or self.unavailable_reason)
            if study.num_incomplete:
                text += " " + incomplete_notice(study)
            self._show_message(text, transient=False)
        self.sig_study_opened.emit(study_uid)

    def _open_in_viewer(self, viewer: Any, study_uid: str) -> str:
        """Show the study in the image viewer; "" or why it failed (then the list shows)."""
        self._first_image_seen = False
        try:
            viewer.open_study(study_uid)  # False only when it has no images: it says so
        except Exception as exc:  # noqa: BLE001 - a broken viewer must not take the app down
            _log_failure(exc, "the image viewer could not open study %s", study_uid)
            try:
                viewer.close_study()
            except Exception as again:  # noqa: BLE001
                _log_failure(again, "the image viewer could not be emptied after %s", study_uid)
            return _("the image viewer failed on this study (details in the log)")
        if self._first_image_seen:
            # The first image was drawn inside open_study (a small or cached image is
            # ready at once), before the viewer listed the series for its thumbnail
            # strip; the strip's pictures wait for that first image, so start them now.
            viewer.thumbnails.start_pictures()
        return ""

    def _on_first_image(self, ms: float) -> None:
        self._first_image_seen = True
        self.sig_first_image_shown.emit(ms)

    def _viewer(self) -> Any:
        """The image viewer, made on first use; None where it cannot run."""
        if self.image_viewer is not None or self.unavailable_reason:
            return self.image_viewer
        if self._make_viewer is None:
            self.unavailable_reason = _("no image viewer is installed")
            return None
        reason = viewer_unavailable_reason()
        if reason:
            logger.warning("image viewer unavailable on Qt platform %s", self._platform())
            self.unavailable_reason = reason
            return None
        try:
            viewer = self._make_viewer()
        except Exception as exc:  # noqa: BLE001 - e.g. GL libraries missing: fall back
            _log_failure(exc, "the image viewer could not start")
            self.unavailable_reason = _("the image viewer could not start (details in the log)")
            return None
        viewer.setObjectName("imageViewer")
        viewer.sig_error.connect(self._show_message)
        viewer.sig_first_image_shown.connect(self._on_first_image)
        self.viewer_layout.addWidget(viewer)
        self.image_viewer = viewer
        return viewer

    @staticmethod
    def _platform() -> str:
        return QGuiApplication.platformName()

    def _show_series_list(self, series: list[SeriesRecord]) -> None:
        self.series_list.clear()
        for s in series:
            text = "{num} {mod}\n{desc}\n{n}".format(
                num=s.series_number if s.series_number is not None else "",
                mod=s.modality,
                desc=s.series_description[:40],
                n=ngettext("{n} image", "{n} images", s.num_instances).format(n=s.num_instances),
            )
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, s.series_instance_uid)
            item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter)
            pixmap = self.thumbnails.pixmap(f"series:{s.series_instance_uid}")
            if pixmap is not None:
                item.setIcon(pixmap)
            self.series_list.addItem(item)
        self._set_page(SERIES_PAGE)

    def _failed(self, study_uid: str, exc: BaseException) -> None:
        from workstation.app.errors import show_error

        if self._pending != study_uid:
            return
        self.close_study()
        show_error(self, exc)

    # -- closing ---------------------------------------------------------------------------
    def close_study(self) -> None:
        """Empty the area (the user closed the study, it was deleted, the user left)."""
        self._pending = None
        self.current_study_uid = None
        if self.image_viewer is not None:
            self.image_viewer.close_study()
        self.series_list.clear()
        self.header.clear()
        self._clear_message()
        self._set_page(PLACEHOLDER_PAGE)

    def pause(self) -> None:
        """The screen locks: stop cine (nothing plays behind the lock screen)."""
        viewer = self.image_viewer
        if viewer is None:
            return
        for vp in viewer.model.viewports:
            if vp.cine_playing:
                vp.set_cine(False)
        viewer.cine_action.setChecked(False)

    def shutdown(self) -> None:
        """Close the study and the viewer: stop its loaders, finalize its render windows.

        Safe to call twice; afterwards the area can still open a study (a new viewer)."""
        self._pending = None
        viewer, self.image_viewer = self.image_viewer, None
        self.current_study_uid = None
        if viewer is not None:
            try:
                viewer.close()
            finally:
                viewer.deleteLater()
        self.series_list.clear()
        self.header.clear()
        self._set_page(PLACEHOLDER_PAGE)

    # -- helpers ---------------------------------------------------------------------------
    def _set_page(self, page: int) -> None:
        self.pages.setCurrentIndex(page)
        self.header_bar.setVisible(page != PLACEHOLDER_PAGE)

    def _show_message(self, text: str, transient: bool = True) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))
        if transient:
            self._message_timer.start()
        else:
            self._message_timer.stop()

    def _clear_message(self) -> None:
        self._message_timer.stop()
        self.message.clear()
        self.message.hide()

    def _on_thumbnail_ready(self, key: str) -> None:
        if not key.startswith("series:"):
            return
        uid = key.split(":", 1)[1]
        for i in range(self.series_list.count()):
            item = self.series_list.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == uid:
                pixmap = self.thumbnails.pixmap(key)
                if pixmap is not None:
                    item.setIcon(pixmap)


def _log_failure(exc: BaseException, what: str, *uids: str) -> None:
    """The failure's kind above DEBUG (UIDs only); its text and traceback, which may
    hold paths or header values, at DEBUG."""
    logger.error(what + " (%s)", *uids, type(exc).__name__)
    logger.debug("details", exc_info=(type(exc), exc, exc.__traceback__))


def incomplete_notice(study: StudyRecord) -> str:
    """The viewer's standing notice for a study with incomplete (cut short) images."""
    return ngettext(
        "{k} of the {n} images of this study is incomplete (its file was cut short): "
        "what is missing cannot be shown. Import it again from the original media.",
        "{k} of the {n} images of this study are incomplete (their files were cut short): "
        "what is missing cannot be shown. Import them again from the original media.",
        study.num_incomplete,
    ).format(k=study.num_incomplete, n=study.num_instances)
