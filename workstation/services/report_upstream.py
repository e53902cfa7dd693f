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
  no one.  Due jobs run in batches (one registry call, one STOW-RS; see
  :class:`ReportPublisher`).  The registry takes the token's user as the author, so a version waits until
  its signer is the one logged in centrally (the outbox outlives sessions).  Both receivers treat a repeat as done, so a job that runs again after a lost
  answer changes nothing.
- ``report_hl7`` and ``report_fhir`` (only when the site turns them on; see
  :mod:`workstation.services.report_outbound`): queued by ``publish_report`` once the
  central side took the version, or at once on a site without a central archive.

Handlers are registered on a :class:`SyncWorker` with :func:`register_report_upstream`.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workstation.i18n import _
from workstation.pacs_node.sync.jobs import ItemState, JobState
from workstation.pacs_node.sync.remotes import CENTRAL
from workstation.pacs_node.sync.worker import JobContext, RunResult, is_permanent_refusal
from workstation.reports.encapsulated_pdf import report_instance_uid
from workstation.reports.model import Report

if TYPE_CHECKING:
    from workstation.config import Settings
    from workstation.pacs_node.archive.archive import Archive
    from workstation.pacs_node.dicomweb.tokens import TokenProvider
    from workstation.pacs_node.remote import RemoteNode
    from workstation.pacs_node.sync.queue import SyncQueue
    from workstation.pacs_node.sync.worker import SyncWorker
    from workstation.reports.store import ReportStore

logger = logging.getLogger(__name__)

PUBLISH_REPORT = "publish_report"
SEND_HL7 = "report_hl7"
POST_FHIR = "report_fhir"
#: Most ``publish_report`` jobs one run takes together: one registry call and one
#: STOW-RS request (the report route takes up to 64 parts).
BATCH = 50
#: How far back the outbox start looks for signed versions that have no job.
RESCAN_DAYS = 7
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
    """The ``publish_report`` handler, run in batches (:meth:`run_batch`): the records to
    the registry first (it may refuse one: then that version reaches neither the
    archive, the RIS nor the FHIR server), then the instances to the archive, then the
    RIS and FHIR jobs are queued.

    A batch costs one registry call (``POST /reports/documents/batch``, each document
    recorded or refused on its own) and one STOW-RS request per :data:`BATCH` instances;
    each job ends on its own: done only once both sides confirmed its version, failed
    with the reason when one of them refused it for good, else queued for a retry of
    that job alone.  Both receivers take repeats, so a batch that runs again after a
    crash or a lost answer changes nothing."""

    def __init__(self, settings: Settings, tokens: TokenProvider | None) -> None:
        self.settings = settings
        self.tokens = tokens
        #: Per worker thread: its STOW node and registry client, each one kept-alive
        #: HTTP session reused for every job the thread runs.
        self._local = threading.local()

    def __call__(self, ctx: JobContext) -> RunResult:
        return self.run_batch([ctx])[0]

    def run_batch(self, ctxs: list[JobContext]) -> list[RunResult]:
        """Publish the versions of these jobs (one result per job, in order)."""
        queue = ctxs[0].queue
        payloads = queue.payloads([c.job.id for c in ctxs])
        results = self._record(ctxs, payloads)
        to_send = [
            i
            for i, (ctx, result) in enumerate(zip(ctxs, results, strict=True))
            if result.state is JobState.DONE and queue.items(ctx.job.id, ItemState.PENDING)
        ]
        if to_send:
            sent = self._send_instances([ctxs[i] for i in to_send], payloads)
            for i, result in zip(to_send, sent, strict=True):
                results[i] = result
        return results

    # -- the instances ---------------------------------------------------------------
    def _remote(self, ctx: JobContext) -> RemoteNode:
        url = self.settings.reports.upstream_stow_url
        if not url:
            return ctx.remote()
        stow: RemoteNode | None = getattr(self._local, "stow", None)
        if stow is None:
            from workstation.pacs_node.dicomweb.client import DicomWebNode

            central = self.settings.central
            stow = self._local.stow = DicomWebNode(
                url, self.tokens, archive=ctx.archive, name="central-reports",
                verify=central.ca_bundle or central.verify_tls, timeout_s=central.timeout_seconds,
                stow_batch_instances=BATCH,
            )  # fmt: skip
        return stow

    def _send_instances(
        self, ctxs: list[JobContext], payloads: dict[int, dict[str, Any]]
    ) -> list[RunResult]:
        results: dict[int, RunResult] = {}
        recorded: dict[int, tuple[list[str], list[tuple[str, str]]]] = {}
        jobs_of: dict[str, list[JobContext]] = {}  # SOP UID -> its jobs (a repeat is one more)
        paths: list[Path] = []
        for ctx in ctxs:
            sop_uid = payloads[ctx.job.id]["sop_instance_uid"]
            if sop_uid not in jobs_of:
                try:
                    paths.append(ctx.archive.instance_file(sop_uid))
                except LookupError:
                    recorded[ctx.job.id] = ([], [(sop_uid, "not in the local archive")])
                    results[ctx.job.id] = RunResult(
                        JobState.FAILED, _("The report's instance is not in the archive.")
                    )
                    continue
            jobs_of.setdefault(sop_uid, []).append(ctx)
        transfer = self._remote(ctxs[0]).send(paths) if paths else None
        outcomes = {o.sop_instance_uid: o for o in (transfer.outcomes if transfer else [])}
        for sop_uid, jobs in jobs_of.items():
            outcome = outcomes.get(sop_uid)
            for ctx in jobs:
                if outcome is not None and outcome.ok:
                    # Queued before the instance is marked sent: a crash in between repeats
                    # the STOW and these jobs (receivers take repeats), it never loses them.
                    job = ctx.job
                    queue_outbound(ctx.queue, self.settings, job.study_instance_uid,
                                   payloads[job.id])  # fmt: skip
                    recorded[job.id] = ([sop_uid], [])
                    results[job.id] = RunResult(JobState.DONE)
                elif outcome is not None and is_permanent_refusal(outcome):
                    recorded[ctx.job.id] = ([], [(sop_uid, outcome.reason)])
                    results[ctx.job.id] = RunResult(
                        JobState.FAILED,
                        _("The central archive refused the report: {reason}").format(
                            reason=outcome.reason
                        ),
                    )
                else:
                    why = (transfer.error if transfer else "") or (
                        outcome.reason if outcome else _("No answer for the report.")
                    )
                    results[ctx.job.id] = RunResult(JobState.QUEUED, why)
        if recorded:
            ctxs[0].queue.record_batch(recorded)
        return [results[c.job.id] for c in ctxs]

    # -- the registry ----------------------------------------------------------------
    def _client(self) -> Any:
        registry = getattr(self._local, "registry", None)
        if registry is None:
            from workstation.auth.central_client import CentralAuthClient

            registry = self._local.registry = CentralAuthClient.from_settings(self.settings)
        return registry

    def _record(
        self, ctxs: list[JobContext], payloads: dict[int, dict[str, Any]]
    ) -> list[RunResult]:
        """The registry's verdict on each job's version (DONE: recorded)."""
        if not (self.settings.reports.registry_enabled and self.settings.central.auth_url):
            return [RunResult(JobState.DONE)] * len(ctxs)
        token = self.tokens.access_token() if self.tokens is not None else None
        if not token:
            return [
                RunResult(JobState.QUEUED, _("Waiting for a central login to record it."))
            ] * len(ctxs)
        results: list[RunResult] = []
        bodies: dict[int, dict[str, Any]] = {}  # index -> registry document
        for i, ctx in enumerate(ctxs):
            payload = payloads[ctx.job.id]
            author = str(payload.get("author") or "")
            if author and token_user(token).casefold() != author.casefold():
                # The registry records the token's user as the author: only the signer's
                # own login may record the version (another doctor's login waits its turn).
                text = _("Waiting for {user} to log in centrally to record it.")
                results.append(RunResult(JobState.QUEUED, text.format(user=author)))
                continue
            body = {k: v for k, v in payload.items() if k not in ("report_id", "author") and v}
            body["study_instance_uid"] = ctx.job.study_instance_uid
            bodies[i] = body
            results.append(RunResult(JobState.DONE))
        for i, verdict in zip(bodies, self._publish(list(bodies.values()), token), strict=True):
            results[i] = verdict
        return results

    def _publish(self, bodies: list[dict[str, Any]], token: str) -> list[RunResult]:
        """One registry call for all ``bodies`` (one verdict each); a registry without
        the batch route, or one refusing the batch as a whole (400: one document it
        cannot read), is asked one document at a time."""
        from workstation.auth.errors import CentralUnavailable

        if not bodies:
            return []
        try:
            if len(bodies) > 1:
                rsp = self._client().request(
                    "POST", "/reports/documents/batch", token=token, json={"documents": bodies}
                )
                answers = _json(rsp).get("results")
                if rsp.status_code == 200 and isinstance(answers, list):
                    if len(answers) == len(bodies):
                        return [self._verdict(_item(a), token) for a in answers]
                elif rsp.status_code not in (400, 404, 405):
                    return [self._verdict(_answer(rsp), token)] * len(bodies)
            verdicts = []
            for body in bodies:
                rsp = self._client().request("POST", "/reports/documents", token=token, json=body)
                verdicts.append(self._verdict(_answer(rsp), token))
            return verdicts
        except CentralUnavailable as exc:
            return [RunResult(JobState.QUEUED, str(exc))] * len(bodies)

    def _verdict(self, answer: dict[str, Any], token: str) -> RunResult:
        status = answer.get("status")
        if status in (200, 201):
            return RunResult(JobState.DONE)
        code, message = str(answer.get("error", "")), str(answer.get("message", ""))[:300]
        if status == 401:
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
        if status in (400, 403, 409) and code != "predecessor_unknown":
            return RunResult(
                JobState.FAILED,
                _("The report registry refused the report: {reason}").format(reason=message),
            )
        return RunResult(JobState.QUEUED, f"HTTP {status} {code}".strip())


def _answer(rsp: Any) -> dict[str, Any]:
    """A registry answer as one verdict reads it: its JSON with the HTTP status."""
    return {**_json(rsp), "status": rsp.status_code}


def _item(answer: Any) -> dict[str, Any]:
    """One document's result in a batch answer (malformed: an error to retry)."""
    return answer if isinstance(answer, dict) else {"status": 0, "error": "bad_answer"}


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


def queue_unqueued_reports(
    queue: SyncQueue, settings: Settings, store: ReportStore, archive: Archive
) -> list[int]:
    """On outbox start: queue the versions signed in the last :data:`RESCAN_DAYS`
    whose instance is in the study but that no report job names (the process died
    between storing and queueing); the new job ids.  Idempotent by SOP Instance UID.
    Older versions are left alone: turning the RIS or FHIR on must not resend history."""
    from workstation.reports.model import ReportStatus

    r, central = settings.reports, settings.central
    if not (
        r.upstream_stow_url or central.dicomweb_url or central.dimse_peer
        or (r.hl7_enabled and r.hl7_host) or (r.fhir_enabled and r.fhir_base_url)
    ):  # fmt: skip
        return []  # nowhere to send anything
    since = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=RESCAN_DAYS)
    named = queue.report_sop_uids((PUBLISH_REPORT, SEND_HL7, POST_FHIR))
    ids: list[int] = []
    for report in store.list():
        if report.status in (ReportStatus.DRAFT, ReportStatus.PRELIMINARY):
            continue
        if report.signed_at is None or _naive_utc(report.signed_at) < since:
            continue
        sop_uid = report_instance_uid(report.report_id)
        if sop_uid in named:
            continue
        try:
            archive.instance_file(sop_uid)
        except LookupError:
            continue  # not in the study: nothing to publish (signing logged why)
        pdf = store.pdf(report.report_id)
        if pdf is None:
            continue
        ids += queue_report_upstream(queue, settings, report, signer_fingerprint(pdf))
        logger.info("report %s: queued upstream on outbox start", report.report_id)
    return ids


def _naive_utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is None else value.astimezone(dt.UTC).replace(tzinfo=None)


def signer_fingerprint(pdf: bytes) -> str:
    """SHA-256 of the certificate of a signed PDF's last signature ("" if unreadable)."""
    import io

    from cryptography import x509
    from pyhanko.pdf_utils.reader import PdfFileReader

    from workstation.reports.site_ca import fingerprint

    try:
        signatures = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
        cert = signatures[-1].signer_cert
        return fingerprint(x509.load_der_x509_certificate(cert.dump()))
    except Exception:  # the registry then records no fingerprint
        logger.warning("a signed report's certificate could not be read", exc_info=True)
        return ""


def register_report_upstream(
    worker: SyncWorker, settings: Settings, tokens: TokenProvider | None
) -> None:
    """Teach ``worker`` the report jobs (publish, HL7, FHIR)."""
    from workstation.services.report_outbound import FhirPoster, Hl7Sender

    worker.register_batch(PUBLISH_REPORT, ReportPublisher(settings, tokens).run_batch, limit=BATCH)
    worker.register(SEND_HL7, Hl7Sender(settings))
    worker.register(POST_FHIR, FhirPoster(settings))
