"""The series strip: one thumbnail per series, dragged onto a viewport to show it there.

Thumbnails are decoded in a background thread (first image of each series) and arrive
on the GUI thread through a queued signal; until then a series shows its text only.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtGui import QDrag, QIcon, QImage, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem, QStyle

from workstation.i18n import _
from workstation.imaging.render import values_to_u8
from workstation.imaging.windowing import auto_window
from workstation.viewer._qt.qt_viewport import SERIES_MIME
from workstation.viewer.catalog import SeriesEntry
from workstation.viewer.documents import DocumentInfo, document_text
from workstation.viewer.frames import DisplayFrame

logger = logging.getLogger(__name__)

THUMB = 96


def thumbnail_pixels(frame: DisplayFrame, size: int = THUMB) -> np.ndarray | None:
    """An 8-bit RGB miniature of a frame at its own (or auto) window."""
    if frame.values is None:
        return None
    v = frame.values
    step = max(1, int(np.ceil(max(v.shape[0], v.shape[1]) / size)))
    small = v[::step, ::step]
    if small.ndim == 2:
        grey = values_to_u8(small, frame.window or auto_window(small), invert=frame.inverted)
        small = np.repeat(grey[:, :, None], 3, axis=2)
    return np.ascontiguousarray(small.astype(np.uint8))


def _qimage(rgb: np.ndarray) -> QImage:
    h, w, _c = rgb.shape
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class QtThumbnails(QListWidget):
    """A vertical strip of series; drag one onto a viewport, or double-click to show it."""

    sig_series_activated = Signal(str)
    #: (series UID, picture) made on the thumbnail thread (QImage is safe off the GUI thread).
    _sig_thumbnail_ready = Signal(str, QImage)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setViewMode(QListWidget.ViewMode.IconMode)
        self.setFlow(QListWidget.Flow.TopToBottom)
        self.setWrapping(False)
        self.setIconSize(QSize(THUMB, THUMB))
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setMinimumWidth(THUMB + 40)
        self.setMaximumWidth(THUMB + 60)
        # Double-click, or Enter on the current item.
        self.itemActivated.connect(
            lambda item: self.sig_series_activated.emit(item.data(Qt.ItemDataRole.UserRole))
        )
        self._sig_thumbnail_ready.connect(self._on_thumbnail, Qt.ConnectionType.QueuedConnection)
        self._stop = threading.Event()
        self._pending: tuple | None = None
        #: ``document_picture(uid)``: an RGB miniature of a document series (a PDF's
        #: first page), made on the thumbnail thread; None keeps the document icon.
        self.document_picture: Callable[[str], np.ndarray | None] | None = None

    def set_series(
        self,
        series: list[SeriesEntry],
        first_frame: Callable[[str], DisplayFrame | None],
        document_of: Callable[[str], DocumentInfo | None] | None = None,
    ) -> None:
        """Show these series; ``first_frame(uid)`` decodes a thumbnail frame (off-thread);
        ``document_of(uid)`` names the series that are documents (kind and title)."""
        self.clear()
        self._stop.set()
        self._stop = threading.Event()
        pictures: list[tuple[str, bool]] = []
        for s in series:
            text = _("{number} {modality}\n{description}\n{count} im.").format(
                number=s.series_number if s.series_number is not None else "",
                modality=s.modality,
                description=(s.series_description or "")[:18],
                count=s.num_instances,
            )
            document = document_of(s.series_instance_uid) if document_of else None
            if document is not None:
                text = f"{document.kind}\n{document.title[:18]}"
            pictures.append((s.series_instance_uid, document is not None))
            item = QListWidgetItem(text.strip())
            if document is not None:
                item.setToolTip(document_text(document))
                item.setIcon(self._document_icon())
            item.setData(Qt.ItemDataRole.UserRole, s.series_instance_uid)
            item.setSizeHint(QSize(THUMB + 24, THUMB + 56))
            self.addItem(item)
        self._pending = (pictures, first_frame, self._stop)

    def _document_icon(self) -> QIcon:
        return self.style().standardIcon(QStyle.StandardPixmap.SP_FileDialogDetailedView)

    def start_pictures(self) -> None:
        """Decode the thumbnails now (called once the first image is on screen, so the
        pictures never compete with it for the CPU)."""
        if self._pending is None:
            return
        uids, first_frame, stop = self._pending
        self._pending = None
        threading.Thread(
            target=self._make_thumbnails,
            args=(uids, first_frame, stop),
            daemon=True,
            name="viewer-thumbnails",
        ).start()

    def _make_thumbnails(self, uids, first_frame, stop: threading.Event) -> None:
        for uid, is_document in uids:
            if stop.is_set():
                return
            try:
                if is_document:
                    picture = self.document_picture
                    rgb = picture(uid) if picture is not None else None
                else:
                    frame = first_frame(uid)
                    rgb = thumbnail_pixels(frame) if frame is not None else None
            except Exception:
                logger.warning("thumbnail of series %s failed", uid, exc_info=True)
                rgb = None
            if rgb is not None and not stop.is_set():
                self._sig_thumbnail_ready.emit(uid, _qimage(rgb))

    def _on_thumbnail(self, uid: str, image: QImage) -> None:
        for i in range(self.count()):
            item = self.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == uid:
                item.setIcon(QIcon(QPixmap.fromImage(image)))

    def series_uids(self) -> list[str]:
        return [self.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.count())]

    def mimeData(self, items) -> QMimeData:
        mime = QMimeData()
        if items:
            mime.setData(SERIES_MIME, items[0].data(Qt.ItemDataRole.UserRole).encode("ascii"))
        return mime

    def mimeTypes(self) -> list[str]:
        return [SERIES_MIME]

    def startDrag(self, actions) -> None:
        item = self.currentItem()
        if item is None:
            return
        drag = QDrag(self)
        drag.setMimeData(self.mimeData([item]))
        if not item.icon().isNull():
            drag.setPixmap(item.icon().pixmap(THUMB // 2, THUMB // 2))
        drag.exec(Qt.DropAction.CopyAction)

    def close_strip(self) -> None:
        self._stop.set()
