"""Klinika Workstation: a diagnostic radiology workstation with an embedded local PACS."""

__version__ = "0.1.0"
