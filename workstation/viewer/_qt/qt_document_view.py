"""A document of the study in the viewer: a PDF's pages under its signature banner, or a
Structured Report as a tree.

Reading, rendering and the signature check run on a worker thread; results come back
through queued signals, tagged with the request they answer, so a document opened
after another never shows the first one's late pages.  The work itself is in
:mod:`workstation.viewer.pdf_document` and :mod:`workstation.viewer.sr_tree`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QImage, QKeyEvent, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workstation.i18n import _, ngettext
from workstation.viewer.documents import DocumentInfo
from workstation.viewer.pdf_document import (
    DocumentError,
    SignatureCheck,
    read_encapsulated_pdf,
    render_pages,
)
from workstation.viewer.sr_tree import SrDocument, SrNode, read_sr_tree

logger = logging.getLogger(__name__)

OK_STYLE = "color: #0a6b16; font-weight: bold; padding: 4px;"
NOT_SIGNED_STYLE = "color: #c00000; font-weight: bold; padding: 4px;"
#: SR levels opened when the tree is shown (deeper ones open on a click).
EXPAND_DEPTH = 5
#: The concept that names a TID 1500 measurement group (its tracking identifier).
TRACKING_IDENTIFIER = ("112039", "DCM")


def _qimage(rgb: Any) -> QImage:
    """A page as a QImage (made on the worker thread: QImage is safe off the GUI thread)."""
    h, w, _c = rgb.shape
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


@dataclass(frozen=True)
class _Pages:
    """Rendered pages on their way to the screen."""

    images: tuple[QImage, ...]
    page_count: int


def _node_texts(node: SrNode) -> tuple[str, str]:
    """(name, value) columns of an SR item."""
    if node.is_measurement_group:
        tracking = [c.value for c in node.children if c.concept_code == TRACKING_IDENTIFIER]
        return (_("Measurement group"), tracking[0] if tracking else "")
    name = node.concept or node.value_type.lower()
    return (name, node.value)


class _PageScroll(QScrollArea):
    """The pages' scroll area; tells the view when its width changed."""

    def __init__(self, on_resize: Callable[[], None]) -> None:
        super().__init__()
        self._on_resize = on_resize

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._on_resize()


class QtDocumentView(QWidget):
    """Shows one document; ``sig_close_requested`` asks the viewer for its images back."""

    sig_close_requested = Signal()
    #: Emitted when a document's content is on screen (pages rendered, or the tree built).
    sig_document_shown = Signal(str)
    _sig_result = Signal(int, str, object)

    def __init__(self, signature_check: SignatureCheck | None = None, parent=None) -> None:
        super().__init__(parent)
        self.signature_check = signature_check
        self._request = 0
        self._stop = threading.Event()
        self.sop_instance_uid = ""
        self._opened_at = 0.0
        #: The series' versions, newest first: (path, SOP Instance UID).
        self._versions: list[tuple[Path, str]] = []
        self._info: DocumentInfo | None = None
        self.page_labels: list[QLabel] = []
        self._page_pixmaps: list[QPixmap] = []
        self._build()
        self._sig_result.connect(self._on_result, Qt.ConnectionType.QueuedConnection)

    def _build(self) -> None:
        self.title = QLabel()
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = QFont(self.title.font())
        font.setBold(True)
        self.title.setFont(font)
        back = QPushButton(_("Back to images"))
        back.setToolTip(_("Back to images (Esc)"))
        back.clicked.connect(self.sig_close_requested.emit)
        self.version_box = QComboBox()
        self.version_box.setVisible(False)
        self.version_box.currentIndexChanged.connect(self._on_version_chosen)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.version_box)
        top.addWidget(back)
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.message = QLabel()
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.pages_host = QWidget()
        self.pages_layout = QVBoxLayout(self.pages_host)
        self.pages_layout.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.pages = _PageScroll(self._fit_pages)
        self.pages.setWidget(self.pages_host)
        self.pages.setWidgetResizable(True)
        self.pages.setStyleSheet("QScrollArea { background: #606060; }")
        self.tree = QTreeWidget()
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels([_("Concept"), _("Value")])
        self.tree.setAlternatingRowColors(True)
        self.stack = QStackedWidget()
        for widget in (self.message, self.pages, self.tree):
            self.stack.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.banner)
        layout.addWidget(self.stack, 1)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Esc (not taken by the page or the tree) asks for the images back."""
        if event.key() == Qt.Key.Key_Escape:
            self.sig_close_requested.emit()
            return
        super().keyPressEvent(event)

    # -- opening ---------------------------------------------------------------------------
    def open_versions(
        self, versions: list[tuple[int | None, Path, str]], info: DocumentInfo
    ) -> None:
        """Show a document series: ``versions`` are (instance number, path, SOP Instance
        UID), newest first; the newest opens, the others can be chosen (an amended
        report keeps its earlier versions)."""
        self._versions = [(path, uid) for _number, path, uid in versions]
        self._info = info
        self.version_box.blockSignals(True)
        self.version_box.clear()
        for i, (number, _path, _uid) in enumerate(versions):
            shown = number if number is not None else len(versions) - i
            label = _("Version {number}").format(number=shown)
            self.version_box.addItem(label if i else _("{version} (newest)").format(version=label))
        self.version_box.setCurrentIndex(0)
        self.version_box.blockSignals(False)
        self.version_box.setVisible(len(versions) > 1)
        if versions:
            self.open_document(versions[0][1], info, versions[0][2])

    def _on_version_chosen(self, index: int) -> None:
        if self._info is not None and 0 <= index < len(self._versions):
            path, uid = self._versions[index]
            self.open_document(path, self._info, uid)

    def open_document(self, path: Path, info: DocumentInfo, sop_instance_uid: str = "") -> None:
        """Show the document in ``path`` (a PDF or an SR); the work runs off this thread."""
        self._stop.set()
        self._stop = threading.Event()
        self._request += 1
        self._opened_at = time.perf_counter()
        self.sop_instance_uid = sop_instance_uid
        self.title.setText(f"{info.kind}: {info.title}" if info.title else info.kind)
        self._clear_pages()
        self.tree.clear()
        self._say(_("Opening the document…"))
        self.banner.setVisible(info.is_pdf)
        if info.is_pdf:
            self.banner.setStyleSheet("color: #404040; padding: 4px;")
            self.banner.setText(_("Checking the signature…"))
        work = self._pdf_work if info.is_pdf else self._sr_work
        threading.Thread(
            target=work,
            args=(self._request, path, self._stop),
            daemon=True,
            name="viewer-document",
        ).start()

    def close_document(self) -> None:
        """Stop any work in flight and forget what is shown."""
        self._stop.set()
        self._request += 1
        self._clear_pages()
        self.tree.clear()
        self.sop_instance_uid = ""

    # -- worker side (no widgets here) ------------------------------------------------------
    def _send(self, request: int, what: str, value: object) -> None:
        try:
            self._sig_result.emit(request, what, value)
        except RuntimeError:  # the view was deleted while the worker ran
            logger.debug("document view gone; %s dropped", what)

    def _pdf_work(self, request: int, path: Path, stop: threading.Event) -> None:
        try:
            pdf = read_encapsulated_pdf(path)
            rendered = render_pages(pdf, stop=stop)
            pages = _Pages(tuple(_qimage(p.rgb) for p in rendered.pages), rendered.page_count)
            self._send(request, "pages", pages)
        except DocumentError as exc:
            self._send(request, "error", str(exc))
            self._send(request, "signature", None)
            return
        if stop.is_set():
            return
        line = None
        if self.signature_check is not None:
            try:
                line = self.signature_check(pdf)
            except Exception:  # the banner must say something whatever the checker did
                logger.exception("signature check of document %s failed", self.sop_instance_uid)
        self._send(request, "signature", line)

    def _sr_work(self, request: int, path: Path, stop: threading.Event) -> None:
        try:
            self._send(request, "tree", read_sr_tree(path))
        except ValueError as exc:
            self._send(request, "error", str(exc))

    # -- GUI side ---------------------------------------------------------------------------
    def _on_result(self, request: int, what: str, value: object) -> None:
        if request != self._request:
            return  # an earlier document's late answer
        if what == "error":
            self._say(str(value))
        elif what == "pages":
            self._show_pages(value)  # type: ignore[arg-type]
        elif what == "signature":
            self._show_signature(value)
        elif what == "tree":
            self._show_tree(value)  # type: ignore[arg-type]

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.stack.setCurrentWidget(self.message)

    def _clear_pages(self) -> None:
        for label in self.page_labels:
            self.pages_layout.removeWidget(label)
            label.deleteLater()
        self.page_labels = []
        self._page_pixmaps = []

    def _show_pages(self, pages: _Pages) -> None:
        self._clear_pages()
        for number, image in enumerate(pages.images, start=1):
            label = QLabel()
            self._page_pixmaps.append(QPixmap.fromImage(image))
            label.setToolTip(_("Page {number}").format(number=number))
            self.pages_layout.addWidget(label)
            self.page_labels.append(label)
        left_out = pages.page_count - len(pages.images)
        if left_out:
            more = QLabel(
                ngettext(
                    "{count} more page is not shown.",
                    "{count} more pages are not shown.",
                    left_out,
                ).format(count=left_out)
            )
            more.setStyleSheet("color: white;")
            self.pages_layout.addWidget(more)
            self.page_labels.append(more)
        self.stack.setCurrentWidget(self.pages)
        self._fit_pages()
        logger.info(
            "document %s shown: %d of %d pages after %.0f ms",
            self.sop_instance_uid,
            len(pages.images),
            pages.page_count,
            self._elapsed_ms(),
        )
        self.sig_document_shown.emit(self.sop_instance_uid)

    def _fit_pages(self) -> None:
        """Pages as wide as the view (never wider than rendered)."""
        width = max(200, self.pages.viewport().width() - 24)
        for label, pixmap in zip(self.page_labels, self._page_pixmaps):
            if pixmap.width() > width:
                pixmap = pixmap.scaledToWidth(width, Qt.TransformationMode.SmoothTransformation)
            label.setPixmap(pixmap)

    def _elapsed_ms(self) -> float:
        return (time.perf_counter() - self._opened_at) * 1000.0

    def _show_signature(self, line: Any) -> None:
        logger.info(
            "document %s signature shown after %.0f ms", self.sop_instance_uid, self._elapsed_ms()
        )
        if line is not None and getattr(line, "ok", False):
            self.banner.setStyleSheet(OK_STYLE)
            self.banner.setText(str(line.text))
            return
        self.banner.setStyleSheet(NOT_SIGNED_STYLE)
        if line is not None:
            self.banner.setText(str(line.text))
        else:
            self.banner.setText(
                _("NOT SIGNED: {reason}").format(reason=_("the signature could not be checked"))
            )

    def _show_tree(self, doc: SrDocument) -> None:
        self.tree.clear()
        facts = [doc.kind]
        if doc.template:
            facts.append(_("template TID {number}").format(number=doc.template))
        facts += [f for f in (doc.completion, doc.verification) if f]
        self.banner.setVisible(True)
        self.banner.setStyleSheet("color: #404040; padding: 4px;")
        text = " · ".join(facts)
        if doc.left_out:
            text += " · " + ngettext(
                "{count} item not shown (too many or nested too deep)",
                "{count} items not shown (too many or nested too deep)",
                doc.left_out,
            ).format(count=doc.left_out)
        self.banner.setText(text)
        if doc.root is None:
            self._say(" ".join(doc.problems))
            return
        self.tree.addTopLevelItem(self._item(doc.root))
        self.tree.expandToDepth(EXPAND_DEPTH)
        self.tree.resizeColumnToContents(0)
        self.stack.setCurrentWidget(self.tree)
        logger.info(
            "document %s shown: SR tree of %d items after %.0f ms",
            self.sop_instance_uid,
            sum(1 for _node in doc.root.walk()),
            self._elapsed_ms(),
        )
        self.sig_document_shown.emit(self.sop_instance_uid)

    def _item(self, node: SrNode) -> QTreeWidgetItem:
        name, value = _node_texts(node)
        item = QTreeWidgetItem([name, value.replace("\r\n", "\n").replace("\r", "\n")])
        item.setToolTip(0, f"{node.position} {node.relationship} {node.value_type}".strip())
        if node.value_type == "CONTAINER":
            font = QFont(item.font(0))
            font.setBold(True)
            item.setFont(0, font)
        for child in node.children:
            item.addChild(self._item(child))
        return item

    def tree_rows(self) -> list[tuple[int, str, str]]:
        """(depth, name, value) of every row of the SR tree, top to bottom (for tests and
        the accessibility of the view)."""
        rows: list[tuple[int, str, str]] = []

        def walk(item: QTreeWidgetItem | None, depth: int) -> None:
            if item is None:
                return
            rows.append((depth, item.text(0), item.text(1)))
            for i in range(item.childCount()):
                walk(item.child(i), depth + 1)

        for i in range(self.tree.topLevelItemCount()):
            walk(self.tree.topLevelItem(i), 0)
        return rows
