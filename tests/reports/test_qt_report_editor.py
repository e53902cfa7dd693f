"""The report editor in a real window under Xvfb, on the real engine: type, autosave,
snippet, undo, preview, sign, the signature panel, and an operator's read-only editor.
Screenshots go to artifacts/reports/ (editor, signed panel, operator view)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt

from tests.reports.conftest import Site
from tests.reports.editor_window import shown_editor
from workstation.reports.model import ReportStatus

pytestmark = pytest.mark.qt


def _shot(widget, path: Path) -> None:  # type: ignore[no-untyped-def]
    path.parent.mkdir(parents=True, exist_ok=True)
    assert widget.grab().save(str(path))


def test_write_autosave_preview_sign_and_panel(
    qtbot, signing_site: Site, artifacts_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    from workstation.reports._qt.qt_report_editor import AUTOSAVE_MS

    editor = shown_editor(
        qtbot, signing_site.reports("dora"), signing_site.study_uid, size=(1400, 900)
    )
    qtbot.waitUntil(lambda: not editor.signature_checking, timeout=30000)
    assert "NOT SIGNED" in editor.signature.text() and not editor.sign_button.isEnabled()

    editor.template_box.setCurrentIndex(editor.template_box.findData("ct_chest"))
    editor.language_box.setCurrentIndex(editor.language_box.findData("de"))
    editor._on_new_clicked()
    assert editor.report is not None and editor.report.language == "de"
    impression = editor.section_edits["impression"]
    impression.setFocus()
    qtbot.keyClicks(impression, "Rundherd 6 mm, ")
    impression.insertPlainText("Größe stabil.")  # QTest types ASCII keys only
    with qtbot.waitSignal(editor.sig_report_saved, timeout=AUTOSAVE_MS + 5000):
        pass
    stored = signing_site.store.get(editor.report.report_id)
    assert stored.section("impression") == "Rundherd 6 mm, Größe stabil."

    qtbot.keyClick(impression, Qt.Key.Key_1, Qt.KeyboardModifier.AltModifier)  # snippet "nad"
    assert impression.toPlainText().endswith("Kein akuter pathologischer Befund.")
    impression.undo()
    assert impression.toPlainText() == "Rundherd 6 mm, Größe stabil."

    assert set(editor.field_widgets) == {"contrast", "nodule_size", "emphysema", "effusion"}
    qtbot.waitUntil(lambda: all(w.isVisible() for w in editor.field_widgets.values()))
    editor.field_widgets["nodule_size"].setText("6,5")  # type: ignore[attr-defined]
    editor.request_preview()  # saves the pending edit first
    qtbot.waitUntil(lambda: editor.previews_shown == 1, timeout=30000)
    assert not editor.preview.pixmap().isNull()
    assert signing_site.store.get(editor.report.report_id).fields["nodule_size"] == "6.5"
    _shot(editor, artifacts_dir / "reports" / "editor_draft.png")

    with qtbot.waitSignal(editor.sig_report_signed, timeout=30000):
        assert editor.sign()
    assert editor.report.status == ReportStatus.FINAL
    qtbot.waitUntil(lambda: not editor.signature_checking, timeout=30000)
    assert editor.signature.text().startswith("Signed by dora")
    assert "intact, trusted" in editor.signature.text()
    assert impression.isReadOnly() and editor.amend_button.isEnabled()
    qtbot.waitUntil(lambda: editor.previews_shown == 2, timeout=30000)
    _shot(editor, artifacts_dir / "reports" / "editor_signed.png")

    editor.amend("Größe korrigiert")
    assert editor.report.version == 2 and not impression.isReadOnly()
    qtbot.waitUntil(lambda: not editor.signature_checking, timeout=30000)
    assert "NOT SIGNED" in editor.signature.text()


def test_operator_reads_but_cannot_edit(qtbot, signing_site: Site, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    doctor = signing_site.reports("dora")
    report = doctor.create(
        signing_site.study_uid, "xr_chest", "ru", {"impression": "Без патологии."}
    )
    doctor.sign(report.report_id)
    editor = shown_editor(qtbot, signing_site.reports("otto"), signing_site.study_uid)
    assert editor.section_edits["impression"].toPlainText() == "Без патологии."
    assert all(e.isReadOnly() for e in editor.section_edits.values())
    assert not editor.new_button.isEnabled() and not editor.sign_button.isEnabled()
    assert not editor.amend_button.isEnabled()
    qtbot.waitUntil(lambda: not editor.signature_checking, timeout=30000)
    assert editor.signature.text().startswith("Signed by dora")
    _shot(editor, artifacts_dir / "reports" / "editor_operator.png")


def test_panel_shows_a_revoked_signature_as_not_signed(
    qtbot, signing_site: Site, artifacts_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    doctor = signing_site.reports("dora")
    report = doctor.create(signing_site.study_uid, "ct_head", "fr", {"impression": "Normal."})
    doctor.sign(report.report_id)
    signing_site.signing("ada").revoke("dora")
    editor = shown_editor(qtbot, signing_site.reports("dora"), signing_site.study_uid)
    qtbot.waitUntil(lambda: not editor.signature_checking, timeout=30000)
    text = editor.signature.text()
    assert text.startswith("NOT SIGNED") and "revoked" in text, text
    assert "#c00000" in editor.signature.styleSheet()
    _shot(editor.signature, artifacts_dir / "reports" / "panel_revoked.png")
