"""What a store attempt ends as: a value, never an exception."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path


class StoreStatus(enum.Enum):
    #: Written and indexed; durable (file fsynced, index row committed).
    STORED = "stored"
    #: The same SOP Instance UID with the same content is already stored.
    DUPLICATE = "duplicate"
    #: The same SOP Instance UID with different content; see ``import.conflict_policy``.
    CONFLICT = "conflict"
    #: Not storable DICOM (missing UIDs, unreadable header, not DICOM at all).
    REJECTED = "rejected"
    #: Not enough free disk space in the store.
    STORAGE_FULL = "storage_full"
    #: An internal or I/O error; retrying may help.
    FAILURE = "failure"


@dataclass(frozen=True)
class StoreResult:
    status: StoreStatus
    sop_instance_uid: str | None = None
    study_instance_uid: str | None = None
    series_instance_uid: str | None = None
    #: A sentence a person can act on (translated); empty when stored.
    reason: str = ""
    #: Where the refused (or, with policy "replace", the superseded) file was put.
    quarantine_path: Path | None = None
    #: True when this instance's patient differs (name/birth date) from another patient
    #: with the same Patient ID; the conflict is in the ``patient_conflicts`` table.
    patient_conflict: bool = False
    #: For STORED with policy "replace": the stored instance replaced an older one.
    replaced: bool = False

    @property
    def ok(self) -> bool:
        """The instance is in the archive (stored now or before)."""
        return self.status in (StoreStatus.STORED, StoreStatus.DUPLICATE)
