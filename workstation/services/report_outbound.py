"""Outbox handlers that tell the hospital's systems about a signed report version.

- ``report_hl7``: the HL7 v2.5.1 ORU^R01 (:mod:`workstation.reports.hl7_oru`; OBR-25 F,
  C for an amendment) over MLLP to ``reports.hl7_host:hl7_port``
  (:mod:`workstation.reports.mllp` says what each ACK code does).  MSH-10 is the same on
  every attempt, so the RIS can tell a repeat.
- ``report_fhir``: the FHIR R4 DiagnosticReport (:mod:`workstation.reports.fhir_report`)
  POSTed to ``{reports.fhir_base_url}/DiagnosticReport`` as a conditional create
  (``If-None-Exist`` on the document's identifier).  2xx is done; 408, 429, 5xx and a
  dead link are retried; any other 4xx fails with the server's words.

Both read the version and its signed PDF from the local report store when they run, so
a job queued offline sends what was signed, whenever the link allows.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from workstation.i18n import _
from workstation.pacs_node.sync.jobs import JobState
from workstation.pacs_node.sync.worker import JobContext, RunResult

if TYPE_CHECKING:
    from workstation.config import Settings
    from workstation.reports.model import Report

logger = logging.getLogger(__name__)

#: Longest server answer kept in a job's error.
MAX_REASON = 300
#: Largest FHIR answer read.
MAX_ANSWER_BYTES = 256 * 1024


def _version(ctx: JobContext) -> tuple[Report, bytes, Any, dict[str, Any]]:
    """The report version, its signed PDF, its study header and the job's payload."""
    from workstation.reports.encapsulated_pdf import study_header
    from workstation.reports.store import ReportStore

    payload = ctx.queue.payload(ctx.job.id)
    store = ReportStore(ctx.archive.engine)
    report = store.get(payload["report_id"])
    pdf = store.pdf(report.report_id)
    if pdf is None:
        raise LookupError(f"report {report.report_id} holds no signed PDF")
    return report, pdf, study_header(ctx.archive, report.study_instance_uid), payload


class Hl7Sender:
    """The ``report_hl7`` handler."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def __call__(self, ctx: JobContext) -> RunResult:
        from workstation.reports.hl7_oru import build_oru, oru_er7
        from workstation.reports.mllp import AckVerdict, MllpError, send_message

        r = self.settings.reports
        report, pdf, header, _payload = _version(ctx)
        message = build_oru(
            report, pdf, header, facility=r.clinic_name,
            receiving_application=r.hl7_receiving_application,
            receiving_facility=r.hl7_receiving_facility,
        )  # fmt: skip
        control_id = str(message.msh.msh_10.value)
        try:
            ack = send_message(
                r.hl7_host, r.hl7_port, oru_er7(message).encode("utf-8"),
                timeout_s=r.hl7_timeout_seconds,
            )  # fmt: skip
        except MllpError as exc:
            return RunResult(
                JobState.QUEUED, _("The RIS cannot be reached: {error}").format(error=exc)
            )
        if ack.control_id != control_id:
            return RunResult(JobState.QUEUED, _("The RIS acknowledged another message."))
        if ack.verdict is AckVerdict.ACCEPTED:
            return RunResult(JobState.DONE)
        reason = _("The RIS answered {code}: {text}").format(code=ack.code, text=ack.text)
        if ack.verdict is AckVerdict.REFUSED:
            return RunResult(JobState.FAILED, reason)
        return RunResult(JobState.QUEUED, reason)


class FhirPoster:
    """The ``report_fhir`` handler."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def __call__(self, ctx: JobContext) -> RunResult:
        import requests

        from workstation.reports.fhir_report import build_diagnostic_report, identifier_query

        r = self.settings.reports
        report, pdf, header, payload = _version(ctx)
        sop_uid = payload["sop_instance_uid"]
        resource = build_diagnostic_report(
            report, pdf, header, sop_instance_uid=sop_uid, title=payload.get("title", "")
        )
        central = self.settings.central
        try:
            rsp = requests.post(
                r.fhir_base_url.rstrip("/") + "/DiagnosticReport",
                json=resource,
                headers={
                    "Content-Type": "application/fhir+json",
                    "Accept": "application/fhir+json",
                    "If-None-Exist": identifier_query(sop_uid),
                },
                timeout=r.fhir_timeout_seconds,
                verify=central.ca_bundle or central.verify_tls,
                allow_redirects=False,
                stream=True,
            )
            answer = rsp.raw.read(MAX_ANSWER_BYTES, decode_content=True)
            rsp.close()
        except requests.RequestException as exc:
            return RunResult(
                JobState.QUEUED,
                _("The FHIR server cannot be reached: {error}").format(error=type(exc).__name__),
            )
        if 200 <= rsp.status_code < 300:
            return RunResult(JobState.DONE)
        reason = _("The FHIR server answered HTTP {status}: {text}").format(
            status=rsp.status_code, text=_outcome_text(answer)
        )
        if rsp.status_code in (408, 429) or rsp.status_code >= 500:
            return RunResult(JobState.QUEUED, reason)
        return RunResult(JobState.FAILED, reason)


def _outcome_text(answer: bytes) -> str:
    """The diagnostics of an OperationOutcome, else the start of the answer."""
    import json

    try:
        data = json.loads(answer)
        issues = data.get("issue", []) if isinstance(data, dict) else []
        text = "; ".join(
            str(i.get("diagnostics") or i.get("code") or "") for i in issues if isinstance(i, dict)
        )
    except ValueError:
        text = answer.decode("utf-8", errors="replace")
    return text[:MAX_REASON]
