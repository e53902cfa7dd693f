"""The report editor in a real window for GUI tests (Xvfb)."""

from __future__ import annotations

from typing import Any


def shown_editor(
    qtbot: Any, actions: Any, study_uid: str, size: tuple[int, int] = (1200, 800)
) -> Any:
    """A QtReportEditor of ``actions`` on the study, ``size`` big, shown and exposed
    (qtbot closes it after the test)."""
    from workstation.reports._qt.qt_report_editor import QtReportEditor

    editor = QtReportEditor(actions, study_uid)
    qtbot.addWidget(editor)
    editor.resize(*size)
    editor.show()
    qtbot.waitExposed(editor)
    return editor
