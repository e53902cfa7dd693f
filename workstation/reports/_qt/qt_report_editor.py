"""The report editor beside the viewer: template, language, sections, fields, snippets,
autosave of drafts, a PDF preview, the sign button and the signature panel.

A thin view on the report actions (:class:`~workstation.reports.editing.ReportEditing`,
implemented by ``services.report_actions.ReportActions``): every change
goes through it (permission, audit), so an operator's editor is read-only here and
refused in the engine too.  Plain-text editors keep Qt's undo/redo.  Snippets are
inserted with Alt+1, Alt+2, ... in the focused section.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from workstation.i18n import LANGUAGE_NAMES, _, current_language
from workstation.reports.errors import ReportError
from workstation.reports.model import LANGUAGES, SECTION_KEYS, Report, ReportStatus
from workstation.reports.signature_summary import summarize
from workstation.reports.templates import Field, heading, localized, snippets
from workstation.reports.verify import SignatureState, Verification

if TYPE_CHECKING:
    from workstation.reports._qt.qt_enrol_dialog import QtEnrolDialog
    from workstation.reports.editing import ReportEditing

logger = logging.getLogger(__name__)

AUTOSAVE_MS = 1500


class QtSignaturePanel(QLabel):
    """Signed by whom and when, intact/trusted; anything else NOT SIGNED in red."""

    def show_checking(self) -> None:
        """While the check runs off the GUI thread (the CRL may take seconds to come)."""
        self.setStyleSheet("color: #606060; font-weight: bold;")
        self.setText(_("Checking the signature…"))

    def show_result(self, result: Verification | None) -> None:
        line = summarize(result)
        colour = "#0a6b16" if line.ok else "#c00000"
        self.setStyleSheet(f"color: {colour}; font-weight: bold;")
        self.setText(line.text)


class QtReportEditor(QWidget):
    sig_report_saved = Signal(str)
    sig_report_signed = Signal(str)
    sig_error = Signal(str)
    #: The panel shows the answer of a check (after "checking…").
    sig_signature_checked = Signal()
    _sig_preview_ready = Signal(bytes)
    _sig_verified = Signal(int, object)

    def __init__(
        self, actions: ReportEditing, study_uid: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.report_actions = actions
        self.study_uid = study_uid
        self.report: Report | None = None
        self._updating = False
        self.can_write = actions.may_write
        self.can_sign = actions.may_sign
        self._autosave = QTimer(self, singleShot=True, interval=AUTOSAVE_MS)
        self._autosave.timeout.connect(self.save)
        self._build()
        self.previews_shown = 0
        self._sig_preview_ready.connect(self._on_preview_ready)
        self._check_generation = 0
        #: A signature check is running (the panel says "checking…").
        self.signature_checking = False
        self._sig_verified.connect(self._on_verified)
        self._load_latest()

    # -- building --------------------------------------------------------------------------
    def _build(self) -> None:
        self.templates = self.report_actions.templates()
        top = QHBoxLayout()
        self.template_box = QComboBox()
        ui_language = current_language()
        for t in self.templates.values():
            self.template_box.addItem(localized(t.title, ui_language), t.template_id)
        # The report's language: the UI's by default; the doctor may pick another.
        self.language_box = QComboBox()
        for lang in LANGUAGES:
            self.language_box.addItem(LANGUAGE_NAMES.get(lang, lang), lang)
        self.language_box.setCurrentIndex(max(0, self.language_box.findData(ui_language)))
        self.new_button = QPushButton(_("New report"))
        self.new_button.clicked.connect(self._on_new_clicked)
        # Long template names and status lines (German, Russian) must not widen the
        # window: the combo shows a shortened name, the status wraps on its own line.
        self.template_box.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.template_box.setMinimumContentsLength(10)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        for w in (QLabel(_("Template")), self.template_box, self.language_box, self.new_button):
            top.addWidget(w)
        top.addStretch(1)

        form = QWidget()
        self.form_layout = QFormLayout(form)
        self.fields_box = QWidget()
        self.fields_layout = QFormLayout(self.fields_box)
        self.fields_layout.setContentsMargins(0, 0, 0, 0)
        self.form_layout.addRow(self.fields_box)
        self.section_edits: dict[str, QPlainTextEdit] = {}
        for key in SECTION_KEYS:
            edit = QPlainTextEdit()
            edit.setObjectName(f"section_{key}")
            edit.setMinimumHeight(60)
            edit.textChanged.connect(self._on_text_changed)
            self.section_edits[key] = edit
            self.form_layout.addRow(QLabel(key), edit)
        self.field_widgets: dict[str, QWidget] = {}
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(form)

        self.preview = QLabel(_("Preview"))
        self.preview.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        preview_scroll = QScrollArea()
        preview_scroll.setWidgetResizable(True)
        preview_scroll.setWidget(self.preview)
        split = QSplitter()
        split.addWidget(scroll)
        split.addWidget(preview_scroll)
        split.setSizes([600, 500])

        buttons = QHBoxLayout()
        self.preview_button = QPushButton(_("Preview PDF"))
        self.preview_button.clicked.connect(self.request_preview)
        self.sign_button = QPushButton(_("Sign"))
        self.sign_button.clicked.connect(self._on_sign_clicked)
        self.amend_button = QPushButton(_("Amend"))
        self.amend_button.clicked.connect(self._on_amend_clicked)
        self.enrol_button = QPushButton(_("Get a signing certificate"))
        self.enrol_button.clicked.connect(self.open_enrolment)
        self.signature = QtSignaturePanel()
        self.signature.setWordWrap(True)
        for w in (self.preview_button, self.sign_button, self.enrol_button, self.amend_button):
            buttons.addWidget(w)
        buttons.addWidget(self.signature, 1)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status_label)
        layout.addWidget(split, 1)
        layout.addLayout(buttons)
        self._snippet_keys = [s.key for s in snippets()[:9]]
        for edit in self.section_edits.values():
            edit.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Alt+1..9 in a section inserts snippet 1..9 there (a text edit would otherwise
        take the key as typing, before any window shortcut sees it)."""
        if event.type() in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride):
            key_event = event  # a QKeyEvent for these types
            mods = key_event.modifiers()  # type: ignore[attr-defined]
            key = key_event.key()  # type: ignore[attr-defined]
            if mods == Qt.KeyboardModifier.AltModifier and Qt.Key.Key_1 <= key <= Qt.Key.Key_9:
                index = key - Qt.Key.Key_1
                if index < len(self._snippet_keys):
                    if event.type() == QEvent.Type.KeyPress:
                        self.insert_snippet(self._snippet_keys[index], watched)  # type: ignore[arg-type]
                    event.accept()
                    return True
        return super().eventFilter(watched, event)

    def _build_fields(self) -> None:
        while self.fields_layout.rowCount():
            self.fields_layout.removeRow(0)
        self.field_widgets = {}
        if self.report is None:
            return
        template = self.templates.get(self.report.template_id)
        for f in template.fields if template else ():
            widget = self._field_widget(f, self.report.language)
            self.field_widgets[f.field_id] = widget
            label = localized(f.label, self.report.language) + (f" ({f.unit})" if f.unit else "")
            self.fields_layout.addRow(QLabel(label), widget)
        self.fields_box.setVisible(bool(self.field_widgets))

    def _field_widget(self, f: Field, lang: str) -> QWidget:
        value = self.report.fields.get(f.field_id, "") if self.report else ""
        if f.type == "choice":
            box = QComboBox()
            box.addItem("", "")
            for c in f.choices:
                box.addItem(localized(c.label, lang), c.value)
            box.setCurrentIndex(max(0, box.findData(value)))
            box.currentIndexChanged.connect(self._on_text_changed)
            box.setEnabled(self._editable())
            return box
        edit = QLineEdit(value)
        edit.setPlaceholderText("YYYY-MM-DD" if f.type == "date" else "")
        edit.textChanged.connect(self._on_text_changed)
        edit.setReadOnly(not self._editable())
        return edit

    # -- state -----------------------------------------------------------------------------
    def _editable(self) -> bool:
        return self.can_write and self.report is not None and self.report.editable

    def _load_latest(self) -> None:
        reports = self.report_actions.list_reports(self.study_uid)
        self.show_report(reports[-1] if reports else None)

    def show_report(self, report: Report | None) -> None:
        self._updating = True
        try:
            self.report = report
            for key, edit in self.section_edits.items():
                edit.setPlainText(report.section(key) if report else "")
                edit.setReadOnly(not self._editable())
                label = self.form_layout.labelForField(edit)
                if isinstance(label, QLabel):
                    label.setText(
                        heading(key, report.language if report else self.language_box.currentData())
                    )
            self._build_fields()
        finally:
            self._updating = False
        self._refresh_controls()
        self.refresh_signature()

    def needs_certificate(self) -> bool:
        """Central mode, a user who may sign, no signing key here yet."""
        return self.report_actions.needs_certificate()

    def open_enrolment(self) -> QtEnrolDialog:
        """The "Get a signing certificate" dialog (shown; the button hides on success)."""
        from workstation.reports._qt.qt_enrol_dialog import QtEnrolDialog

        dialog = QtEnrolDialog(self.report_actions.enrolment(), self)
        dialog.sig_enrolled.connect(lambda _fp: self._refresh_controls())
        dialog.open()
        return dialog

    def _refresh_controls(self) -> None:
        r = self.report
        self.enrol_button.setVisible(self.needs_certificate())
        self.new_button.setEnabled(self.can_write)
        self.sign_button.setEnabled(self.can_sign and r is not None and r.editable)
        self.amend_button.setEnabled(
            self.can_write and r is not None and r.status == ReportStatus.FINAL
        )
        self.preview_button.setEnabled(r is not None)
        if r is None:
            self.status_label.setText(_("No report for this study yet"))
        else:
            self.status_label.setText(
                _("{status} · version {version}").format(status=r.status.label, version=r.version)
            )

    def _show_signature(self, result: Verification | None) -> None:
        """Show ``result`` now; a check still running is forgotten."""
        self._check_generation += 1
        self.signature_checking = False
        self.signature.show_result(result)

    def refresh_signature(self) -> None:
        """Check the signature off the GUI thread: in central mode the CRL fetch may wait
        for the server (up to its timeout) before the kept copy is used.  The panel shows
        "checking…" meanwhile; a newer check makes an older answer moot."""
        if self.report is None or self.report.editable:
            self._show_signature(None)
            return
        self._check_generation += 1
        generation, report_id = self._check_generation, self.report.report_id
        actions = self.report_actions
        self.signature_checking = True
        self.signature.show_checking()

        def work() -> None:
            result: Verification
            try:
                result = actions.verify(report_id)
            except ReportError as exc:
                result = Verification(SignatureState.NOT_SIGNED, str(exc))
            except (OSError, ValueError) as exc:
                logger.warning("signature check of report %s failed: %r", report_id, exc)
                result = Verification(
                    SignatureState.NOT_SIGNED, _("the signature could not be checked")
                )
            try:
                self._sig_verified.emit(generation, result)
            except RuntimeError:  # the editor was closed meanwhile
                logger.debug("signature check of report %s outlived its editor", report_id)

        threading.Thread(target=work, name="report-signature-check", daemon=True).start()

    def _on_verified(self, generation: int, result: Verification) -> None:
        if generation != self._check_generation:
            return
        self.signature_checking = False
        self.signature.show_result(result)
        self.sig_signature_checked.emit()

    # -- editing ---------------------------------------------------------------------------
    def _on_text_changed(self, *_args: Any) -> None:
        if not self._updating and self._editable():
            self._autosave.start()

    def current_sections(self) -> dict[str, str]:
        return {
            k: e.toPlainText() for k, e in self.section_edits.items() if e.toPlainText().strip()
        }

    def current_fields(self) -> dict[str, str]:
        out = {}
        for fid, w in self.field_widgets.items():
            value = w.currentData() if isinstance(w, QComboBox) else w.text()  # type: ignore[attr-defined]
            out[fid] = str(value or "")
        return out

    def save(self) -> bool:
        """Write the draft now (autosave calls this); False with a message on refusal."""
        self._autosave.stop()
        if not self._editable() or self.report is None:
            return False
        try:
            self.report = self.report_actions.edit(
                self.report.report_id, self.current_sections(), self.current_fields()
            )
        except ReportError as exc:
            self.sig_error.emit(str(exc))
            return False
        self._refresh_controls()
        self.sig_report_saved.emit(self.report.report_id)
        return True

    def insert_snippet(self, key: str, edit: QPlainTextEdit | None = None) -> None:
        """Insert snippet ``key`` at the cursor (one undo step)."""
        if not self._editable() or self.report is None:
            return
        edit = edit or self.section_edits["findings"]
        text = next(localized(s.text, self.report.language) for s in snippets() if s.key == key)
        cursor = edit.textCursor()
        before = edit.toPlainText()[: cursor.position()]
        cursor.beginEditBlock()  # its own undo step, not merged with the typing before it
        cursor.insertText(text if not before or before[-1].isspace() else " " + text)
        cursor.endEditBlock()
        edit.setTextCursor(cursor)

    def _on_new_clicked(self) -> None:
        try:
            report = self.report_actions.create(
                self.study_uid, self.template_box.currentData(), self.language_box.currentData()
            )
        except (ReportError, LookupError) as exc:
            self.sig_error.emit(str(exc))
            return
        self.show_report(report)

    def _on_amend_clicked(self) -> None:
        if self.report is None:
            return
        reason, ok = QInputDialog.getText(self, _("Amend report"), _("Reason for the amendment:"))
        if ok and reason.strip():
            self.amend(reason)

    def amend(self, reason: str) -> None:
        assert self.report is not None
        try:
            self.show_report(self.report_actions.amend(self.report.report_id, reason))
        except ReportError as exc:
            self.sig_error.emit(str(exc))

    # -- signing ---------------------------------------------------------------------------
    def _on_sign_clicked(self) -> None:
        passphrase = None
        try:
            self.report_actions.key_passphrase()
        except ReportError:
            passphrase, ok = QInputDialog.getText(
                self, _("Sign report"), _("Signing key passphrase:"), QLineEdit.EchoMode.Password
            )
            if not ok:
                return
        self.sign(passphrase)

    def sign(self, passphrase: str | None = None) -> bool:
        if self.report is None:
            return False
        if self._autosave.isActive():
            self.save()
        try:
            self.report = self.report_actions.sign(self.report.report_id, passphrase)
        except ReportError as exc:
            self.sig_error.emit(str(exc))
            self._show_signature(Verification(SignatureState.NOT_SIGNED, str(exc)))
            return False
        self.show_report(self.report)
        self.sig_report_signed.emit(self.report.report_id)
        self.request_preview()
        return True

    # -- preview ---------------------------------------------------------------------------
    def request_preview(self) -> None:
        """Render and rasterise the PDF off the GUI thread; the page appears when ready."""
        if self.report is None:
            return
        if self._autosave.isActive():
            self.save()
        report_id = self.report.report_id

        def work() -> None:
            from workstation.reports.preview import pdf_page_png

            try:
                png = pdf_page_png(self.report_actions.preview(report_id)) or b""
            except ReportError:
                logger.exception("preview of report %s failed", report_id)
                png = b""
            self._sig_preview_ready.emit(png)

        threading.Thread(target=work, name="report-preview", daemon=True).start()

    def _on_preview_ready(self, png: bytes) -> None:
        self.previews_shown += 1
        if not png:
            self.preview.setText(_("No preview (poppler's pdftoppm is not installed)."))
            return
        pixmap = QPixmap()
        pixmap.loadFromData(png, "PNG")
        self.preview.setPixmap(pixmap)
