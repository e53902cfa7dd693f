"""The desktop face (PySide6): login, main window, study browser, dialogs.

Views are thin: every action is a call into ``workstation.services`` / ``workstation.auth``
run off the GUI thread (:mod:`workstation.app.workers`).  Entry point:
:func:`workstation.app.main.run_app`.
"""
