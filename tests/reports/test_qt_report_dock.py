"""The report editor docked beside the viewer in the real main window (Xvfb): opening a
study shows its editor; a doctor writes a draft there.  Screenshot:
artifacts/reports/app_report_dock.png."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from tests.reports.app_window import doctor_signed_in, main_window, open_report_dock, store_study

pytestmark = pytest.mark.qt


def test_opening_a_study_docks_its_report_editor(
    qtbot, settings, tmp_path: Path, artifacts_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    from workstation.reports.model import ReportStatus

    services, session = doctor_signed_in(settings)
    uid = store_study(
        services, tmp_path / "in", patient_name="DOCK^TEST", patient_id="D-1", series=1
    )
    with main_window(qtbot, services, session) as window:
        open_report_dock(qtbot, window, uid)
        editor = window.report_dock.widget()  # type: ignore[union-attr]
        assert editor.study_uid == uid and editor.new_button.isEnabled()
        editor._on_new_clicked()
        editor.section_edits["findings"].setPlainText("Unauffällig.")
        assert editor.save()
        (report,) = services.report_actions(session).list_reports(uid)
        assert report.status == ReportStatus.DRAFT and report.section("findings") == "Unauffällig."
        qtbot.wait(300)
        (artifacts_dir / "reports").mkdir(exist_ok=True)
        assert window.grab().save(str(artifacts_dir / "reports" / "app_report_dock.png"))
