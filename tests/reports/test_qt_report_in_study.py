"""After signing, the study in the real main window's local list (Xvfb) carries its
report series: Modality shows DOC beside CT, one more series, one more image.
Screenshots: artifacts/reports/browser_doc_series.png, artifacts/reports/viewer_doc_series.png."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from tests.app.synthetic import write_study
from tests.auth.conftest import MemoryKeyring
from tests.reports.conftest import PASSWORDS

pytestmark = pytest.mark.qt


def test_signed_report_shows_as_doc_series_of_the_study(
    qtbot, settings, tmp_path: Path, artifacts_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    from workstation.app.main_window import MainWindow
    from workstation.auth.keyring_store import SecretStore
    from workstation.auth.permissions import Role
    from workstation.services.signing_actions import SigningActions
    from workstation.services.workstation import WorkstationServices

    services = WorkstationServices(settings, store=SecretStore(MemoryKeyring()), start_node=False)
    admin = services.authenticator.create_first_admin("ada", PASSWORDS["ada"])
    SigningActions(admin, services.audit, settings, services.authenticator.store).ca_init(
        "Klinika Test Clinic"
    )
    services.authenticator.local.create_user("dora", PASSWORDS["dora"], Role.DOCTOR)  # type: ignore[union-attr]
    services.authenticator.logout(admin)
    session = services.authenticator.login("dora", PASSWORDS["dora"])
    services.after_login(session)
    SigningActions(session, services.audit, settings, services.authenticator.store).enroll()
    uid = write_study(tmp_path / "in", patient_name="REPORT^SERIES", patient_id="D-9", images=2)
    for f in sorted((tmp_path / "in").iterdir()):
        assert services.archive.store_file(f).ok
    reports = services.report_actions(session)
    draft = reports.create(uid, "ct_chest", "en", {"impression": "No nodule."})
    reports.sign(draft.report_id)
    window = MainWindow(services, session)
    qtbot.addWidget(window)
    window.resize(1800, 1000)
    window.show()
    try:
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
        window.open_study(uid)
        qtbot.waitUntil(lambda: window.act["report"].isEnabled(), timeout=30000)
        # Hidden until asked for (the images keep the room), built when shown.
        assert not window.report_dock.isVisible() and window.report_dock.widget() is None
        window.act["report"].trigger()
        assert window.report_dock.isVisible()
        qtbot.waitUntil(lambda: window.report_dock.widget() is not None, timeout=30000)
        qtbot.wait(1500)
        assert window.grab().save(str(artifacts_dir / "reports" / "viewer_doc_series.png"))
    finally:
        window.close()
        services.authenticator.logout(session)
        services.close()
