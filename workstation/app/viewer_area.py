"""The viewer's slot in the main window.

Until the 2D viewer (``workstation/viewer``) lands, :class:`ViewerArea` shows the opened
study's series with thumbnails.  The viewer replaces this class (or its body) and keeps
the public surface: ``open_study(study_uid)``, ``close_study()``, ``current_study_uid``
and ``sig_study_opened``.  Opening goes through the guarded, audited engine call.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QLabel,
    QListWidget,
    QListWidgetItem,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from workstation.app.formatting import dicom_date, person_name
from workstation.app.naming import named
from workstation.app.thumbnails import ThumbnailCache
from workstation.app.workers import run_in_background
from workstation.i18n import _, ngettext
from workstation.pacs_node.archive.records import SeriesRecord, StudyRecord

SERIES_THUMB_PX = 96

OpenStudy = Callable[[str], tuple[StudyRecord, list[SeriesRecord]]]


class ViewerArea(QWidget):
    sig_study_opened = Signal(str)

    def __init__(
        self, open_study: OpenStudy, thumbnails: ThumbnailCache, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("viewerArea")
        self._open = open_study
        self.thumbnails = thumbnails
        self.current_study_uid: str | None = None
        self.pages = QStackedWidget()
        self.placeholder = QLabel(_("Double-click a study to open it."))
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setStyleSheet("color:#777; font-size:14px;")
        self.pages.addWidget(self.placeholder)
        study_page = QWidget()
        self.header = named(QLabel(), "viewerHeader")
        self.header.setWordWrap(True)
        self.header.setStyleSheet("font-size:14px; font-weight:600;")
        self.series_list = named(QListWidget(), "seriesList")
        self.series_list.setViewMode(QListWidget.ViewMode.IconMode)
        self.series_list.setIconSize(QSize(SERIES_THUMB_PX, SERIES_THUMB_PX))
        self.series_list.setGridSize(QSize(SERIES_THUMB_PX + 60, SERIES_THUMB_PX + 56))
        self.series_list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.series_list.setWordWrap(True)
        self.series_list.setMovement(QListWidget.Movement.Static)
        note = QLabel(_("The image viewer will show the series here."))
        note.setStyleSheet("color:#777;")
        lay = QVBoxLayout(study_page)
        lay.addWidget(self.header)
        lay.addWidget(self.series_list, 1)
        lay.addWidget(note)
        self.pages.addWidget(study_page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)
        thumbnails.sig_ready.connect(self._on_thumbnail_ready)

    def open_study(self, study_uid: str) -> None:
        """Load and show a study (permission check and audit happen in the engine)."""
        self.header.setText(_("Opening…"))
        self.pages.setCurrentIndex(1)
        self.series_list.clear()
        opener = self._open
        run_in_background(
            lambda: opener(study_uid),
            on_success=functools.partial(self._show_result, study_uid),
            on_failure=self._failed,
            owner=self,
        )

    def close_study(self) -> None:
        self.current_study_uid = None
        self.series_list.clear()
        self.header.clear()
        self.pages.setCurrentIndex(0)

    def _show_result(self, study_uid: str, result: tuple[StudyRecord, list[SeriesRecord]]) -> None:
        self._show(study_uid, *result)

    def _show(self, study_uid: str, study: StudyRecord, series: list[SeriesRecord]) -> None:
        self.current_study_uid = study_uid
        self.header.setText(
            f"{person_name(study.patient_name)} — {dicom_date(study.study_date)} — "
            f"{study.study_description}"
        )
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
        self.sig_study_opened.emit(study_uid)

    def _failed(self, exc: BaseException) -> None:
        from workstation.app.errors import show_error

        self.close_study()
        show_error(self, exc)

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
