"""The list of the study's measurements and annotations: select, remove, export."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from workstation.i18n import _, ngettext
from workstation.viewer.annotations import kind_label, label
from workstation.viewer.model import ViewerModel


def entry_text(kind: str, value: str) -> str:
    """A list entry: the kind, then each value on its own line."""
    lines = [v for v in value.split("\n") if v]
    if not lines:
        return kind
    return f"{kind}: {lines[0]}" + "".join(f"\n    {v}" for v in lines[1:])


class QtAnnotationPanel(QWidget):
    sig_selected = Signal(str)
    #: Save the measurements as a DICOM SR file / store it in the study in the archive.
    sig_export_requested = Signal()
    sig_store_requested = Signal()

    def __init__(self, model: ViewerModel, parent=None, *, writable: bool = True) -> None:
        super().__init__(parent)
        self.model = model
        #: Whether this role may change measurements: else Remove and Export SR stay off
        #: (the engine refuses and audits anyway).
        self.writable = writable
        self.title = QLabel(_("Measurements"))
        self.list = QListWidget()
        # Entries wrap to the panel's width, each value on its own line: nothing cut off.
        self.list.setWordWrap(True)
        self.list.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.setUniformItemSizes(False)
        self.list.currentItemChanged.connect(self._on_current_changed)
        self.remove_button = QPushButton(_("Remove"))
        self.remove_button.clicked.connect(self.remove_current)
        self.export_button = QPushButton(_("Export SR"))
        menu = QMenu(self.export_button)
        menu.addAction(_("Store in the local archive"), self.sig_store_requested.emit)
        menu.addAction(_("Save as a file…"), self.sig_export_requested.emit)
        self.export_button.setMenu(menu)
        self.key_images = QLabel()
        buttons = QHBoxLayout()
        buttons.addWidget(self.remove_button)
        buttons.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.key_images)
        self.setMinimumWidth(220)
        model.annotations_changed.connect(self.reload)
        model.key_images_changed.connect(self._update_key_images)
        self.reload()

    def reload(self) -> None:
        current = self.current_id()
        self.list.clear()
        for a in self.model.annotations():
            text = entry_text(kind_label(a.kind), label(a))
            item = QListWidgetItem(text)
            item.setToolTip(text)
            item.setData(Qt.ItemDataRole.UserRole, a.annotation_id)
            self.list.addItem(item)
            if a.annotation_id == current:
                self.list.setCurrentItem(item)
        self.remove_button.setEnabled(self.writable and self.list.count() > 0)
        self.export_button.setEnabled(self.writable and self.list.count() > 0)
        if not self.writable:
            why = _("Your role may not change measurements.")
            self.remove_button.setToolTip(why)
            self.export_button.setToolTip(why)

    def _update_key_images(self) -> None:
        n = self.model.key_image_count()
        self.key_images.setText(ngettext("{n} key image", "{n} key images", n).format(n=n))

    def current_id(self) -> str:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else ""

    def select(self, annotation_id: str) -> None:
        for i in range(self.list.count()):
            if self.list.item(i).data(Qt.ItemDataRole.UserRole) == annotation_id:
                self.list.setCurrentRow(i)
                return

    def _on_current_changed(self, current, _previous) -> None:
        if current is not None:
            self.sig_selected.emit(current.data(Qt.ItemDataRole.UserRole))

    def remove_current(self) -> None:
        annotation_id = self.current_id()
        if annotation_id:
            self.model.remove_annotation(annotation_id)
