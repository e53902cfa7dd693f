"""Radiology reports: model, templates, PDF rendering, signing and verification (no Qt).

The editor lives in ``reports/_qt``; everything a user does with a report goes through
:class:`workstation.services.report_actions.ReportActions` (permission, work, audit).
"""
