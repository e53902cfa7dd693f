"""What a new user hit (issue 10 §4), in the real app: Enter submits the first-start form;
the import dialog shows no "0 of N files" before a choice and each Folder… adds to it;
the study list gives the room to Description and Patient ID and has birth date and sex;
the audit log reads in local time and words; a refusal is audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from tests.app.conftest import make_settings
from tests.app.synthetic import write_study
from tests.auth.standalone_session import standalone_session
from workstation.app import audit_text
from workstation.app.study_model import COLUMNS
from workstation.auth.audit import AuditAction

pytestmark = pytest.mark.qt


def _admin_by_enter(qtbot: Any, controller: Any) -> Any:
    dialog = controller.login_dialog
    assert dialog.first_admin_mode
    dialog.admin_name.setText("chief")
    dialog.admin_password.setText("Correct horse 1")
    dialog.admin_confirm.setText("Correct horse 1")
    with qtbot.waitSignal(controller.sig_window_shown, timeout=30_000) as blocker:
        qtbot.keyClick(dialog.admin_confirm, Qt.Key.Key_Return)
    window = blocker.args[0]
    qtbot.waitExposed(window)
    return window


def test_first_start_enter_import_choice_columns_and_audit_log(
    qtbot: Any, start_app: Any, tmp_path: Path
) -> None:
    controller = start_app(make_settings(tmp_path / "home"))
    window = _admin_by_enter(qtbot, controller)
    window.resize(1500, 900)

    # -- import dialog: nothing counted before a choice; choices add up and can go ----
    dialog = window.open_import_dialog()
    assert not dialog.progress.isTextVisible() and "0 of" not in dialog.progress.text()
    first, second = tmp_path / "a", tmp_path / "b"
    uid = write_study(
        first,
        patient_name="LONGFAMILYNAME^GIVEN",
        patient_id="PID-0123456789-XYZ",
        images=2,
    )
    write_study(second, patient_name="OTHER^ONE", patient_id="P-2", images=1)
    dialog.add_paths([first])
    dialog.add_paths([second])
    dialog.add_paths([first])  # the same folder once
    assert dialog.paths == [first, second] and dialog.path_list.count() == 2
    assert not dialog.remove_button.isEnabled()
    dialog.path_list.item(1).setSelected(True)
    assert dialog.remove_button.isEnabled()
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    assert dialog.paths == [first]
    with qtbot.waitSignal(dialog.sig_finished, timeout=60_000) as done:
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    assert done.args[0] == [uid]
    assert dialog.progress.isTextVisible() and dialog.progress.text() == "2 of 2 files"
    dialog.close()

    # -- the study list: birth date and sex; Description and Patient ID get the room ----
    keys = [c.key for c in COLUMNS]
    assert {"birth_date", "sex"} <= set(keys)
    table = window.local.table
    qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=10_000)
    # The imported study is selected: Open opens it.
    qtbot.waitUntil(lambda: window.local.selected() is not None, timeout=10_000)
    assert window.act["open"].isEnabled()
    header = table.horizontalHeader()
    assert header.sortIndicatorSection() == keys.index("study_date")  # newest first
    width = {k: header.sectionSize(i) for i, k in enumerate(keys)}
    assert width["description"] > width["images"] and width["description"] >= 180
    pid = window.model.index(0, keys.index("patient_id"))
    text = window.model.data(pid)
    assert table.fontMetrics().horizontalAdvance(text) < width["patient_id"]
    assert window.model.data(window.model.index(0, keys.index("sex"))) in ("F", "M", "O", "")

    # -- a refusal is audited; the audit log reads in local time and in words ----------
    from workstation.auth.permissions import Permission, Role

    assert window.study_actions.refusal(Permission.STUDY_DELETE, uid) == ""
    operator = standalone_session("olga", Role.OPERATOR, user_id="2", keyring_available=False)
    actions = window.services.actions(operator)
    log = actions.audit
    before = len(log.events(action="permission_denied"))
    assert "delete studies" in actions.refusal(Permission.STUDY_DELETE, uid)
    (denied,) = log.events(action="permission_denied")[before:]
    assert denied.outcome == "denied" and denied.study_uid == uid and denied.actor == "olga"
    audit = window.open_audit()
    qtbot.waitUntil(lambda: audit.table.rowCount() >= 4, timeout=10_000)
    row = [audit.table.item(r, 3).text() for r in range(audit.table.rowCount())].index(
        "Refused: not permitted"
    )
    assert audit.table.item(row, 4).text() == "refused"
    assert audit.table.item(row, 6).text() == "Not permitted to: delete studies"
    assert audit.table.item(row, 0).text() == audit_text.local_time(denied.occurred_at)
    assert "=" not in "".join(audit.table.item(r, 6).text() for r in range(audit.table.rowCount()))
    audit.close()


def test_audit_times_are_local_and_details_are_words() -> None:
    stamp = "2026-12-07T03:04:05.123456Z"
    assert audit_text.local_time(stamp, timezone(timedelta(hours=3))) == "2026-12-07 06:04:05"
    assert audit_text.local_time(stamp, UTC) == "2026-12-07 03:04:05"
    here = datetime(2026, 12, 7, 3, 4, 5, tzinfo=UTC).astimezone()
    assert audit_text.local_time(stamp) == here.strftime("%Y-%m-%d %H:%M:%S")
    text = audit_text.detail_text(
        {"permission": "studies.send", "files": 3, "anonymized": True, "new_thing": "x"}
    )
    assert text == (
        "Not permitted to: send studies to other nodes; Files: 3; Anonymized: yes; New thing: x"
    )
    many = audit_text.detail_text({"studies": [str(i) for i in range(8)]})
    assert many == "Studies: 0, 1, 2, 3, 4 (+3)"
    assert audit_text.action_text("study_open") == "Study opened"
    assert audit_text.outcome_text("denied") == "refused"
    # Every action has words (an action added later without any still reads as words).
    for action in AuditAction:
        assert "_" not in audit_text.action_text(action.value), action
    assert audit_text.action_text("some_new_thing") == "Some new thing"
