"""The workstation's guarded entry points and background jobs (no Qt).

The GUI (``workstation.app``) and scripts call these instead of the archive, node and
DICOMweb client directly: every call checks the session's permission with
:func:`workstation.auth.require`, does the work, and writes the audit event.  Long work
runs as a :class:`~workstation.services.jobs.Job` the activity panel shows.
"""
