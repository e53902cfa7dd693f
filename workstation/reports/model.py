"""What a report is: a study's text in sections plus structured fields, with a status.

A report moves draft -> preliminary -> final.  A final report is never edited in place:
an *amendment* is a new version (``version + 1``) that names its predecessor and a
reason.  Each signed version keeps its PDF and the PDF's SHA-256.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from workstation.i18n.labelled_enum import N_, LabelledStrEnum

#: Section keys in the order a report prints them.
SECTION_KEYS: tuple[str, ...] = (
    "clinical_history",
    "technique",
    "findings",
    "impression",
    "recommendation",
)

LANGUAGES: tuple[str, ...] = ("en", "ru", "es", "fr", "de")


class ReportStatus(LabelledStrEnum):
    DRAFT = "draft", N_("draft")
    PRELIMINARY = "preliminary", N_("preliminary")
    FINAL = "final", N_("final")
    #: A final version that a later amendment replaced.
    SUPERSEDED = "superseded", N_("superseded")


#: Allowed status changes (final only by signing, superseded only by amending).
TRANSITIONS: Mapping[ReportStatus, frozenset[ReportStatus]] = {
    ReportStatus.DRAFT: frozenset({ReportStatus.PRELIMINARY, ReportStatus.FINAL}),
    ReportStatus.PRELIMINARY: frozenset({ReportStatus.DRAFT, ReportStatus.FINAL}),
    ReportStatus.FINAL: frozenset({ReportStatus.SUPERSEDED}),
    ReportStatus.SUPERSEDED: frozenset(),
}


@dataclass(frozen=True)
class Report:
    report_id: str
    study_instance_uid: str
    template_id: str
    language: str
    author: str
    status: ReportStatus = ReportStatus.DRAFT
    version: int = 1
    #: The report this one amends (None for a first version).
    predecessor_id: str | None = None
    amendment_reason: str = ""
    sections: Mapping[str, str] = field(default_factory=dict)
    #: Structured fields from the template: field id -> value as typed.
    fields: Mapping[str, str] = field(default_factory=dict)
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    signed_at: dt.datetime | None = None
    signed_by: str = ""
    pdf_sha256: str = ""

    @property
    def editable(self) -> bool:
        return self.status in (ReportStatus.DRAFT, ReportStatus.PRELIMINARY)

    def section(self, key: str) -> str:
        return self.sections.get(key, "")


def can_move(old: ReportStatus, new: ReportStatus) -> bool:
    return new == old or new in TRANSITIONS[old]
