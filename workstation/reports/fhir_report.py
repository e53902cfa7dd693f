"""A signed report as a FHIR R4 DiagnosticReport (built and checked with fhir.resources).

The resource carries: ``status`` from the FHIR value set (fhir.resources does not check
it, :func:`check_status` does: ``signed`` is refused), ``code`` LOINC 18748-4, the
``subject`` (the patient by identifier), the ``imagingStudy`` (by its Study Instance
UID), the ``resultsInterpreter`` (the signer), the impression as ``conclusion``, the
report's ``language`` and ``presentedForm`` with the signed PDF (base64), its SHA-1 and
size.  Its ``identifier`` is the Encapsulated PDF's SOP Instance UID, so a receiver can
tell a repeat (the sender asks for a conditional create with ``If-None-Exist``).

R4 and R4B share DiagnosticReport; fhir.resources' R4B model is the one used.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from typing import Any

from workstation.reports.encapsulated_pdf import REPORT_CODE
from workstation.reports.model import Report, ReportStatus

#: http://hl7.org/fhir/ValueSet/diagnostic-report-status (R4).
STATUS_VALUES = frozenset(
    {
        "registered",
        "partial",
        "preliminary",
        "final",
        "amended",
        "corrected",
        "appended",
        "cancelled",
        "entered-in-error",
        "unknown",
    }
)
LOINC = "http://loinc.org"
DICOM_UID = "urn:dicom:uid"
PATIENT_ID_SYSTEM = "urn:klinika:patient-id"


class FhirStatusError(ValueError):
    """A status outside the FHIR DiagnosticReport value set."""


def check_status(status: str) -> str:
    if status not in STATUS_VALUES:
        raise FhirStatusError(
            f"{status!r} is not a DiagnosticReport status ({', '.join(sorted(STATUS_VALUES))})"
        )
    return status


def report_status(report: Report) -> str:
    """final, amended (a signed amendment) or preliminary."""
    if report.status in (ReportStatus.FINAL, ReportStatus.SUPERSEDED):
        return "amended" if report.predecessor_id else "final"
    return "preliminary"


def identifier_query(sop_instance_uid: str) -> str:
    """The ``If-None-Exist`` search that finds this document again on the server."""
    return f"identifier={DICOM_UID}|urn:oid:{sop_instance_uid}"


def _instant(moment: dt.datetime | None) -> str:
    moment = moment or dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.replace(microsecond=0).isoformat()


def _patient(header: Any) -> dict[str, Any]:
    ref: dict[str, Any] = {"type": "Patient"}
    patient_id = str(header.get("PatientID", "") or "")
    if patient_id:
        system = str(header.get("IssuerOfPatientID", "") or "") or PATIENT_ID_SYSTEM
        if ":" not in system:
            system = f"{PATIENT_ID_SYSTEM}:{system}"
        ref["identifier"] = {"system": system, "value": patient_id}
    name = str(header.get("PatientName", "") or "").split("=")[0]
    if name:
        ref["display"] = " ".join(p for p in name.split("^") if p)
    return ref


def build_diagnostic_report(
    report: Report,
    pdf: bytes,
    header: Any,
    *,
    sop_instance_uid: str,
    status: str | None = None,
    title: str = "",
) -> dict[str, Any]:
    """The DiagnosticReport as a JSON-ready dict (validated by fhir.resources)."""
    from fhir.resources.R4B.diagnosticreport import DiagnosticReport

    code, _scheme, meaning = REPORT_CODE
    issued = _instant(report.signed_at or report.updated_at)
    data: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "language": report.language,
        "identifier": [{"system": DICOM_UID, "value": f"urn:oid:{sop_instance_uid}"}],
        "status": check_status(status or report_status(report)),
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v2-0074",
                        "code": "RAD",
                        "display": "Radiology",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": LOINC, "code": code, "display": meaning}]},
        "subject": _patient(header),
        "effectiveDateTime": issued,
        "issued": issued,
        "resultsInterpreter": [{"display": report.signed_by or report.author}],
        "imagingStudy": [
            {
                "type": "ImagingStudy",
                "identifier": {
                    "system": DICOM_UID,
                    "value": f"urn:oid:{report.study_instance_uid}",
                },
            }
        ],
        "presentedForm": [
            {
                "contentType": "application/pdf",
                "language": report.language,
                "data": base64.b64encode(pdf).decode("ascii"),
                "size": len(pdf),
                # FHIR's Attachment.hash is SHA-1 by definition.
                "hash": base64.b64encode(hashlib.sha1(pdf).digest()).decode("ascii"),
                "title": (title or meaning)[:200],
                "creation": issued,
            }
        ],
    }
    conclusion = report.section("impression").strip()
    if conclusion:
        data["conclusion"] = conclusion
    DiagnosticReport.model_validate(data)  # shapes and types (not value sets)
    return data
