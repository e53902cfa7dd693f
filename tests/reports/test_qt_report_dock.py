"""The report editor docked beside the viewer in the real main window (Xvfb): opening a
study shows its editor; a doctor writes a draft there.  Screenshot:
artifacts/reports/app_report_dock.png."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from tests.app.synthetic import write_study
from tests.auth.conftest import MemoryKeyring
from tests.reports.conftest import PASSWORDS

pytestmark = pytest.mark.qt


def test_opening_a_study_docks_its_report_editor(
    qtbot, settings, tmp_path: Path, artifacts_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    from workstation.app.main_window import MainWindow
    from workstation.auth.keyring_store import SecretStore
    from workstation.auth.permissions import Role
    from workstation.reports.model import ReportStatus
    from workstation.services.workstation import WorkstationServices

    services = WorkstationServices(settings, store=SecretStore(MemoryKeyring()), start_node=False)
    admin = services.authenticator.create_first_admin("ada", PASSWORDS["ada"])
    services.authenticator.local.create_user("dora", PASSWORDS["dora"], Role.DOCTOR)  # type: ignore[union-attr]
    services.authenticator.logout(admin)
    session = services.authenticator.login("dora", PASSWORDS["dora"])
    services.after_login(session)
    uid = write_study(tmp_path / "in", patient_name="DOCK^TEST", patient_id="D-1", series=1)
    for f in sorted((tmp_path / "in").iterdir()):
        assert services.archive.store_file(f).ok
    window = MainWindow(services, session)
    qtbot.addWidget(window)
    window.resize(1800, 1000)
    window.show()
    try:
        window.open_study(uid)
        qtbot.waitUntil(lambda: window.act["report"].isEnabled(), timeout=30000)
        # Hidden until asked for (the images keep the room), built when shown.
        assert not window.report_dock.isVisible() and window.report_dock.widget() is None
        window.act["report"].trigger()
        assert window.report_dock.isVisible()
        qtbot.waitUntil(lambda: window.report_dock.widget() is not None, timeout=30000)
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
    finally:
        window.close()
        services.authenticator.logout(session)
        services.close()
