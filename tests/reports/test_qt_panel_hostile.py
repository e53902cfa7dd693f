"""The app's verification panel never shows a hostile file as signed: a report whose
stored PDF was replaced (one byte flipped, an update drawing on the page appended,
truncated, signed under another CA, not a PDF at all) shows NOT SIGNED in red with the
reason, in a real editor window under Xvfb.  Panels are saved to artifacts/reports/."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from tests.reports.conftest import Site
from tests.reports.editor_window import shown_editor
from tests.reports.hostile_files import append_drawing, flip_byte, foreign_signed, truncate

pytestmark = pytest.mark.qt


def test_panel_never_shows_a_hostile_file_as_signed(  # type: ignore[no-untyped-def]
    qtbot, signing_site: Site, tmp_path: Path, artifacts_dir: Path
) -> None:
    site = signing_site
    doctor = site.reports("dora")
    report = doctor.create(site.study_uid, "ct_chest", "ru", {"impression": "Без патологии."})
    doctor.sign(report.report_id)
    good = site.store.pdf(report.report_id)
    assert good is not None
    variants = {
        "flipped": flip_byte(good),
        "appended": append_drawing(good),
        "truncated": truncate(good),
        "foreign": foreign_signed(site, tmp_path),
        "not_pdf": b"%PDF-1.7\n% nothing else\n",
    }
    editor = shown_editor(qtbot, site.reports("otto"), site.study_uid)
    editor.show_report(site.store.get(report.report_id))
    qtbot.waitUntil(lambda: not editor.signature_checking, timeout=30000)
    assert editor.signature.text().startswith("Signed by dora"), editor.signature.text()
    out = artifacts_dir / "reports"
    out.mkdir(exist_ok=True)
    editor.signature.grab().save(str(out / "panel_valid.png"))
    reasons = {}
    for name, data in variants.items():
        site.replace_pdf(report.report_id, data)
        editor.show_report(site.store.get(report.report_id))
        qtbot.waitUntil(lambda: not editor.signature_checking, timeout=30000)
        text = editor.signature.text()
        assert text.startswith("NOT SIGNED: ") and "Signed by" not in text, (name, text)
        assert "#c00000" in editor.signature.styleSheet(), name
        reasons[name] = text
        editor.signature.grab().save(str(out / f"panel_{name}.png"))
    assert "changed after dora signed it" in reasons["appended"], reasons
    assert "not trusted by this clinic" in reasons["foreign"], reasons
    assert "no signature" in reasons["not_pdf"] or "readable" in reasons["not_pdf"], reasons
