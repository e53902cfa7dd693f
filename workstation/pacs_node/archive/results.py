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
    #: The data set's SOP Class/Instance UID differs from what its sender announced
    #: (only for a :class:`Received` data set); nothing was stored.
    MISMATCH = "mismatch"


@dataclass(frozen=True)
class Received:
    """A data set as a DICOM peer sent it: no file meta, and what its request said.

    ``Archive.store_bytes(data, received=...)`` stores the data set bytes as sent (no
    decode, no re-encode) behind our own file meta, checks that the data set holds the
    announced SOP Class/Instance UID (else :attr:`StoreStatus.MISMATCH`), and counts a
    stored copy of the same instance in another transfer syntax as a duplicate (a C-GET
    and a later C-MOVE may negotiate different syntaxes; it is the same instance).
    """

    transfer_syntax_uid: str
    sop_class_uid: str
    sop_instance_uid: str


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
