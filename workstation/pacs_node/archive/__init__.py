"""The local archive: SQLAlchemy index + UUID-named file store + import + export.

Public API (other packages import from here)::

    from workstation.pacs_node.archive import Archive, StoreResult, StoreStatus, StudyQuery
"""

from __future__ import annotations

from workstation.pacs_node.archive.archive import Archive, ChangeEvent
from workstation.pacs_node.archive.queries import StudyQuery
from workstation.pacs_node.archive.records import (
    InstanceRecord,
    PatientConflictRecord,
    SeriesRecord,
    StudyRecord,
)
from workstation.pacs_node.archive.results import Received, StoreResult, StoreStatus

__all__ = [
    "Archive",
    "ChangeEvent",
    "InstanceRecord",
    "PatientConflictRecord",
    "Received",
    "SeriesRecord",
    "StoreResult",
    "StoreStatus",
    "StudyQuery",
    "StudyRecord",
]
