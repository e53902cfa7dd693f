"""Exceptions of the local archive.

Store and import results are values (:class:`~workstation.pacs_node.archive.results.StoreResult`),
not exceptions; these are raised for misuse, missing objects and a broken archive.
"""

from __future__ import annotations


class ArchiveError(Exception):
    """Base class of everything the archive raises."""


class InvalidDicomError(ArchiveError):
    """The input is not DICOM we can store; the message says why."""


class NotFoundError(ArchiveError, LookupError):
    """A study, series, instance or file named by UID is not in the archive."""


class ArchiveClosedError(ArchiveError):
    """The archive was closed; open it again."""


class MigrationError(ArchiveError):
    """The index database could not be brought to the current schema."""
