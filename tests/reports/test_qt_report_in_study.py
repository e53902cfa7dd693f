"""After signing, the study in the real main window's local list (Xvfb) carries its
report series: Modality shows DOC beside CT, one more series, one more image.
Screenshots: artifacts/reports/browser_doc_series.png, artifacts/reports/viewer_doc_series.png."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from tests.reports.app_window import doctor_signed_in, main_window, open_report_dock, store_study

pytestmark = pytest.mark.qt


def test_signed_report_shows_as_doc_series_of_the_study(
    qtbot, settings, tmp_path: Path, artifacts_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    services, session = doctor_signed_in(settings, enrolled=True)
    uid = store_study(
        services, tmp_path / "in", patient_name="REPORT^SERIES", patient_id="D-9", images=2
    )
    reports = services.report_actions(session)
    draft = reports.create(uid, "ct_chest", "en", {"impression": "No nodule."})
    reports.sign(draft.report_id)
    with main_window(qtbot, services, session) as window:
        window.local.search_now()
        qtbot.waitUntil(lambda: window.local.select_study(uid), timeout=30000)
        record = window.local.selected()
        assert record is not None and record.study_instance_uid == uid
        assert set(record.modalities) == {"CT", "DOC"}
        assert (record.num_series, record.num_instances) == (2, 3)
        model = window.local.model
        row = model.row_of(uid)
        shown = [
            model.index(row, c).data()
            for c in range(model.columnCount())  # type: ignore[arg-type]
        ]
        assert any(text and "DOC" in str(text) for text in shown), shown
        qtbot.wait(300)
        (artifacts_dir / "reports").mkdir(exist_ok=True)
        assert window.grab().save(str(artifacts_dir / "reports" / "browser_doc_series.png"))
        open_report_dock(qtbot, window, uid)
        qtbot.wait(1500)
        assert window.grab().save(str(artifacts_dir / "reports" / "viewer_doc_series.png"))
