"""A signed report's way upstream, through the persistent outbox (:mod:`pacs_node.sync`).

On signing, :func:`queue_report_upstream` queues one job per destination, each with
what it needs in its payload (the jobs survive a restart and wait while offline):

- ``publish_report`` (target ``central``): the version is recorded in the central
  report registry (study, SOP Instance UID, version, status, author, signer certificate
  fingerprint, SHA-256 of the unpadded PDF, predecessor), then the Encapsulated PDF
  instance goes to the central archive (STOW-RS with the logged-in user's token, to
  ``reports.upstream_stow_url`` or the central node, which may be C-STORE).  The
  registry goes first because it is the gate: its refusals (another doctor holds the
  study's final report; an amendment by someone not allowed) fail the job with the
  registry's words, which the activity panel shows, and the refused version reaches
  no one.  The registry takes the token's user as the author, so a version waits until
  its signer is the one logged in centrally (the outbox outlives sessions).  Both receivers treat a repeat as done, so a job that runs again after a lost
  answer changes nothing.
- ``report_hl7`` and ``report_fhir`` (only when the site turns them on; see
  :mod:`workstation.services.report_outbound`): queued by ``publish_report`` once the
  central side took the version, or at once on a site without a central archive.

Handlers are registered on a :class:`SyncWorker` with :func:`register_report_upstream`.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import TYPE_CHECKING, Any

from workstation.i18n import _
from workstation.pacs_node.sync.jobs import ItemState, JobState
from workstation.pacs_node.sync.remotes import CENTRAL
from workstation.pacs_node.sync.worker import JobContext, RunResult, is_permanent_refusal
from workstation.reports.encapsulated_pdf import report_instance_uid
from workstation.reports.model import Report

if TYPE_CHECKING:
    from workstation.config import Settings
    from workstation.pacs_node.dicomweb.tokens import TokenProvider
    from workstation.pacs_node.remote import RemoteNode
    from workstation.pacs_node.sync.queue import SyncQueue
    from workstation.pacs_node.sync.worker import SyncWorker

logger = logging.getLogger(__name__)

PUBLISH_REPORT = "publish_report"
SEND_HL7 = "report_hl7"
POST_FHIR = "report_fhir"
RIS = "ris"
FHIR = "fhir"


def registry_status(report: Report) -> str:
    """The registry's word for a signed version: final, or amended for an amendment."""
    return "amended" if report.predecessor_id else "final"


def queue_report_upstream(
    queue: SyncQueue, settings: Settings, report: Report, signer_fingerprint: str, title: str = ""
) -> list[int]:
    """Queue the jobs that take a signed version upstream; their ids (none on a
    standalone site with no central archive, RIS or FHIR server set)."""
    sop_uid = report_instance_uid(report.report_id)
    payload: dict[str, Any] = {
        "report_id": report.report_id,
        "sop_instance_uid": sop_uid,
        "version": report.version,
        "status": registry_status(report),
        "author": report.signed_by or report.author,
        "signer_fingerprint": signer_fingerprint,
        "pdf_sha256": report.pdf_sha256,
        "predecessor_sop_instance_uid": (
            report_instance_uid(report.predecessor_id) if report.predecessor_id else None
        ),
        "title": title[:200],
    }
    central = settings.central
    if settings.reports.upstream_stow_url or central.dicomweb_url or central.dimse_peer:
        text = _("Report version {version} to the central archive")
        return [
            queue.enqueue(
                PUBLISH_REPORT,
                target=CENTRAL,
                study_uid=report.study_instance_uid,
                sop_uids=[sop_uid],
                payload=payload,
                description=text.format(version=report.version),
            )
        ]
    return queue_outbound(queue, settings, report.study_instance_uid, payload)


def queue_outbound(
    queue: SyncQueue, settings: Settings, study_uid: str, payload: dict[str, Any]
) -> list[int]:
    """Queue the RIS and FHIR jobs the site turned on (after the registry accepted the
    version, when there is a central side)."""
    r = settings.reports
    jobs: list[tuple[str, str, str]] = []
    if r.hl7_enabled and r.hl7_host:
        jobs.append((SEND_HL7, RIS, _("Report version {version} to the RIS (HL7)")))
    if r.fhir_enabled and r.fhir_base_url:
        jobs.append((POST_FHIR, FHIR, _("Report version {version} to the FHIR server")))
    return [
        queue.enqueue(
            kind,
            target=target,
            study_uid=study_uid,
            payload=payload,
            description=text.format(version=payload["version"]),
        )
        for kind, target, text in jobs
    ]


class ReportPublisher:
    """The ``publish_report`` handler: the record to the registry first (it may refuse:
    then nothing reaches the archive, the RIS or the FHIR server), then the instance to
    the archive, then the RIS and FHIR jobs are queued."""

    def __init__(self, settings: Settings, tokens: TokenProvider | None) -> None:
        self.settings = settings
        self.tokens = tokens
        self._stow: RemoteNode | None = None
        self._registry: Any = None

    def __call__(self, ctx: JobContext) -> RunResult:
        payload = ctx.queue.payload(ctx.job.id)
        recorded = self._record(ctx, payload)
        if recorded.state is not JobState.DONE:
            return recorded
        if ctx.queue.items(ctx.job.id, ItemState.PENDING):
            sop_uid = payload["sop_instance_uid"]
            failure = self._send_instance(ctx, sop_uid)
            if failure is not None:
                return failure
            # Queued before the instance is marked sent: a crash in between repeats the
            # STOW and these jobs (receivers take repeats), it never loses them.
            queue_outbound(ctx.queue, self.settings, ctx.job.study_instance_uid, payload)
            ctx.queue.record_items(ctx.job.id, [sop_uid])
        return RunResult(JobState.DONE)

    # -- the instance ----------------------------------------------------------------
    def _remote(self, ctx: JobContext) -> RemoteNode:
        url = self.settings.reports.upstream_stow_url
        if not url:
            return ctx.remote()
        if self._stow is None:
            from workstation.pacs_node.dicomweb.client import DicomWebNode

            central = self.settings.central
            self._stow = DicomWebNode(
                url, self.tokens, archive=ctx.archive, name="central-reports",
                verify=central.ca_bundle or central.verify_tls, timeout_s=central.timeout_seconds,
            )  # fmt: skip
        return self._stow

    def _send_instance(self, ctx: JobContext, sop_uid: str) -> RunResult | None:
        try:
            path = ctx.archive.instance_file(sop_uid)
        except LookupError:
            ctx.queue.record_items(ctx.job.id, [], [(sop_uid, "not in the local archive")])
            return RunResult(JobState.FAILED, _("The report's instance is not in the archive."))
        result = self._remote(ctx).send([path])
        outcome = result.outcomes[0] if result.outcomes else None
        if outcome is not None and outcome.ok:
            return None
        if outcome is not None and is_permanent_refusal(outcome):
            ctx.queue.record_items(ctx.job.id, [], [(sop_uid, outcome.reason)])
            return RunResult(
                JobState.FAILED,
                _("The central archive refused the report: {reason}").format(reason=outcome.reason),
            )
        return RunResult(
            JobState.QUEUED,
            result.error or (outcome.reason if outcome else _("No answer for the report.")),
        )

    # -- the registry ----------------------------------------------------------------
    def _client(self) -> Any:
        if self._registry is None:
            from workstation.auth.central_client import CentralAuthClient

            self._registry = CentralAuthClient.from_settings(self.settings)
        return self._registry

    def _record(self, ctx: JobContext, payload: dict[str, Any]) -> RunResult:
        if not (self.settings.reports.registry_enabled and self.settings.central.auth_url):
            return RunResult(JobState.DONE)
        token = self.tokens.access_token() if self.tokens is not None else None
        if not token:
            return RunResult(JobState.QUEUED, _("Waiting for a central login to record it."))
        author = str(payload.get("author") or "")
        if author and token_user(token).casefold() != author.casefold():
            # The registry records the token's user as the author: only the signer's own
            # login may record the version (another doctor logged in waits their turn).
            return RunResult(
                JobState.QUEUED,
                _("Waiting for {user} to log in centrally to record it.").format(user=author),
            )
        from workstation.auth.errors import CentralUnavailable

        body = {k: v for k, v in payload.items() if k not in ("report_id", "author") and v}
        body["study_instance_uid"] = ctx.job.study_instance_uid
        try:
            rsp = self._client().request("POST", "/reports/documents", token=token, json=body)
        except CentralUnavailable as exc:
            return RunResult(JobState.QUEUED, str(exc))
        return self._verdict(rsp, token)

    def _verdict(self, rsp: Any, token: str) -> RunResult:
        if rsp.status_code in (200, 201):
            return RunResult(JobState.DONE)
        answer = _json(rsp)
        code, message = str(answer.get("error", "")), str(answer.get("message", ""))[:300]
        if rsp.status_code == 401:
            assert self.tokens is not None
            self.tokens.token_rejected(token)
            return RunResult(JobState.QUEUED, _("The central login expired; will retry."))
        if code == "final_held":
            return RunResult(
                JobState.FAILED,
                _("Refused: {holder} already holds the final report of this study.").format(
                    holder=answer.get("holder", "?")
                ),
            )
        if rsp.status_code in (400, 403, 409) and code != "predecessor_unknown":
            return RunResult(
                JobState.FAILED,
                _("The report registry refused the report: {reason}").format(reason=message),
            )
        return RunResult(JobState.QUEUED, f"HTTP {rsp.status_code} {code}".strip())


def token_user(token: str) -> str:
    """The user name (``sub``) a central access token names; read, not verified (the
    registry verifies the token; this only picks whose login records a version)."""
    try:
        part = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (IndexError, ValueError):
        return ""
    return str(claims.get("sub", "")) if isinstance(claims, dict) else ""


def _json(rsp: Any) -> dict[str, Any]:
    try:
        data = rsp.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def register_report_upstream(
    worker: SyncWorker, settings: Settings, tokens: TokenProvider | None
) -> None:
    """Teach ``worker`` the report jobs (publish, HL7, FHIR)."""
    from workstation.services.report_outbound import FhirPoster, Hl7Sender

    worker.register(PUBLISH_REPORT, ReportPublisher(settings, tokens))
    worker.register(SEND_HL7, Hl7Sender(settings))
    worker.register(POST_FHIR, FhirPoster(settings))
