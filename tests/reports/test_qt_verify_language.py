"""The reasons the verifier itself gives (no signature in the PDF, not a readable PDF)
reach the doctor in the UI's language: a Russian editor shows a final report whose stored
PDF carries no signature as НЕ ПОДПИСАНО with the reason in Russian, in red, in a real
window under Xvfb."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from tests.reports.conftest import Site
from tests.reports.editor_window import shown_editor
from workstation import i18n

pytestmark = pytest.mark.qt


@pytest.fixture
def russian_ui() -> Iterator[None]:
    assert i18n.set_language("ru") == "ru"
    try:
        yield
    finally:
        i18n.set_language("en")


def test_russian_panel_gives_the_verifiers_reason_in_russian(  # type: ignore[no-untyped-def]
    qtbot, signing_site: Site, russian_ui: None, artifacts_dir: Path
) -> None:
    site = signing_site
    doctor = site.reports("dora")
    report = doctor.create(site.study_uid, "ct_chest", "ru", {"impression": "Без патологии."})
    unsigned = doctor.preview(report.report_id)  # the draft's render: a PDF, no signature
    assert unsigned.startswith(b"%PDF") and b"/ByteRange" not in unsigned
    doctor.sign(report.report_id)

    editor = shown_editor(qtbot, site.reports("otto"), site.study_uid)
    out = artifacts_dir / "reports"
    out.mkdir(exist_ok=True)

    site.replace_pdf(report.report_id, unsigned)
    editor.show_report(site.store.get(report.report_id))
    qtbot.waitUntil(lambda: editor.signature.text().startswith("НЕ ПОДПИСАНО"), timeout=10000)
    qtbot.waitUntil(lambda: not editor.signature_checking, timeout=30000)
    text = editor.signature.text()
    assert text == "НЕ ПОДПИСАНО: PDF не содержит подписи", text
    assert "#c00000" in editor.signature.styleSheet()
    editor.signature.grab().save(str(out / "panel_ru_no_signature.png"))

    site.replace_pdf(report.report_id, b"%PDF-1.7\n% nothing else\n")
    editor.show_report(site.store.get(report.report_id))
    qtbot.waitUntil(lambda: not editor.signature_checking, timeout=30000)
    text = editor.signature.text()
    assert text.startswith("НЕ ПОДПИСАНО: "), text
    reason = text.removeprefix("НЕ ПОДПИСАНО: ")
    assert reason in ("PDF не содержит подписи",) or reason.startswith(
        ("это не читаемый PDF (", "подпись не читается (")
    ), reason
    assert not any(word in reason for word in ("signature", "readable", "carries")), reason


def test_verifier_reasons_follow_the_ui_language(signing_site: Site, russian_ui: None) -> None:
    """The engine's own answer (what ``report verify`` prints) is translated too."""
    from workstation.services.report_actions import verify_report_pdf

    site = signing_site
    doctor = site.reports("dora")
    report = doctor.create(site.study_uid, "free_text", "ru", {"impression": "Норма."})
    result = verify_report_pdf(site.settings, doctor.preview(report.report_id))  # type: ignore[arg-type]
    assert not result.ok and result.reason == "PDF не содержит подписи", result
    i18n.set_language("de")
    result = verify_report_pdf(site.settings, doctor.preview(report.report_id))  # type: ignore[arg-type]
    assert result.reason == "das PDF trägt keine Signatur", result
