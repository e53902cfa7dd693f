"""The reports engine's exceptions; their messages are for the user."""

from __future__ import annotations


class ReportError(Exception):
    """Base class: something about a report or its signature went wrong."""


class ReportNotFound(ReportError):
    """No report with this id."""


class ReportStateError(ReportError):
    """The action is not allowed in the report's status (e.g. editing a final report)."""


class TemplateError(ReportError):
    """A template file is missing or malformed."""


class SigningRefused(ReportError):
    """The signature was refused before anything was written (expired, revoked, ...)."""


class SigningSetupError(ReportError):
    """No CA, no key or no passphrase: signing is not set up for this user."""
