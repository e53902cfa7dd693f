"""Measurements are written only by roles that may (checked where the write happens)."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("vtkmodules")

from PySide6.QtCore import Qt

from tests.auth.standalone_session import standalone_session
from tests.viewer.gui_helpers import drag, open_and_wait

pytestmark = [pytest.mark.qt, pytest.mark.vtk]


def _actions(role, tmp_path):  # type: ignore[no-untyped-def]
    """The session's study actions, as the app hands them to the viewer: they check the
    role and audit a refusal (the archive and jobs are not needed for measuring)."""
    from workstation.auth.audit import AuditLog
    from workstation.auth.db import AuthDatabase
    from workstation.services.study_actions import StudyActions

    session = standalone_session("u", role, keyring_available=False)
    audit = AuditLog(AuthDatabase.open(f"sqlite:///{tmp_path / 'auth.sqlite3'}"))
    return StudyActions(session, None, audit, None)


@pytest.mark.parametrize(("role", "allowed"), [("operator", False), ("doctor", True)])
def test_measuring_follows_the_role(qtbot, settings, ct_catalog, tmp_path, role, allowed) -> None:
    from workstation.auth.permissions import Role
    from workstation.viewer._qt.qt_viewer import QtViewer

    actions = _actions(Role(role), tmp_path)
    v = QtViewer(ct_catalog, settings, actions=actions)
    qtbot.addWidget(v)
    v.resize(1000, 700)
    v.show()
    qtbot.waitExposed(v)
    errors: list[str] = []
    v.sig_error.connect(errors.append)
    try:
        open_and_wait(qtbot, v, ct_catalog)
        view = v.views[0]
        v.set_tool(v.tool.LENGTH)
        drag(qtbot, view.render_view, view.screen_point((10, 10)), view.screen_point((60, 40)))
        qtbot.keyClick(view.render_view, Qt.Key.Key_K)
        ref = view.viewport.current_ref()
        assert (len(v.model.annotations()) == 1) is allowed
        assert v.model.is_key_image(ref.sop_instance_uid, 0) is allowed
        # Remove and Export SR follow the role, even with measurements in the list
        # (made earlier by someone who may).
        guard, v.model.write_guard = v.model.write_guard, None
        if not allowed:
            v.set_tool(v.tool.LENGTH)
            drag(qtbot, view.render_view, view.screen_point((10, 10)), view.screen_point((60, 40)))
        v.model.write_guard = guard
        assert v.panel.list.count() >= 1
        assert v.panel.remove_button.isEnabled() is allowed
        assert v.panel.export_button.isEnabled() is allowed
        denied = actions.audit.events(action="permission_denied")
        assert bool(denied) is not allowed  # a refusal is in the audit log
        if not allowed:
            assert errors and "not allowed" in errors[0]
            with pytest.raises(ValueError):
                v.store_sr()
    finally:
        v.close()
