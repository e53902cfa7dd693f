"""The report registry: which reports exist for a study, who wrote them, their status
(draft → preliminary → final → amended) and the signed PDF's SOP Instance UID and SHA-256.

Doctors create and edit drafts (``reports.write``) and sign or amend them
(``reports.sign``); every role may read (``reports.read``).  Only the author edits and signs
a draft; a signed report is amended by its author or an administrator (role ``admin``),
not by any other doctor.  A study has one holder of its final report: a second "final"
by another doctor is refused (409 ``final_held``, naming the holder); the holder amends.
Each change appends a revision.

``POST /reports/documents`` is how a workstation's outbox publishes a signed version
(study, SOP Instance UID, version, status, signer certificate fingerprint, SHA-256 of
the unpadded PDF, predecessor): idempotent by SOP Instance UID, so an outbox that
retries after a lost answer changes nothing the second time (200 instead of 201).
``POST /reports/documents/batch`` takes up to :data:`klinika_auth.openapi.MAX_REPORT_BATCH` of them in one request and
one transaction, each all-or-nothing on its own with a per-item result, so an outbox
publishing many versions pays for one request, one token check and one commit.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, request
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from klinika_auth import audit, denials
from klinika_auth.api.common import body, client_ip, report_json
from klinika_auth.errors import ApiError, not_found
from klinika_auth.models import AuditHead, Report, ReportRevision, utcnow
from klinika_auth.rbac import current, require
from klinika_auth.services import db

bp = Blueprint("reports", __name__, url_prefix="/reports")

MAX_LIST = 500
AMEND_ANY_ROLE = "admin"  # besides the author, only this role may amend a signed report
#: Statuses of a signed report: a study has one author holding them.
SIGNED = ("final", "amended")


def _report(session: Session, report_id: int) -> Report:
    report = session.get(Report, report_id, with_for_update={"of": Report})
    if report is None:
        raise not_found("report")
    return report


def _revise(
    session: Session,
    report: Report,
    status: str,
    note: str,
    doc: dict[str, Any] | None = None,
    head: AuditHead | None = None,
) -> None:
    now = utcnow()
    report.status = status
    report.updated_at = now
    if doc:
        report.sop_instance_uid = doc["sop_instance_uid"]
        report.pdf_sha256 = doc["pdf_sha256"]
        report.version = doc.get("version")
        report.signer_fingerprint = doc.get("signer_fingerprint")
        report.predecessor_sop_instance_uid = doc.get("predecessor_sop_instance_uid")
    report.revisions.append(
        ReportRevision(
            status=status,
            sop_instance_uid=report.sop_instance_uid,
            pdf_sha256=report.pdf_sha256,
            version=report.version,
            signer_fingerprint=report.signer_fingerprint,
            predecessor_sop_instance_uid=report.predecessor_sop_instance_uid,
            changed_by=current().username,
            changed_at=now,
            note=note,
        )
    )
    session.flush()
    audit.append(
        session,
        head=head,
        action=f"report.{status}" if status != "draft" else "report.draft_saved",
        actor=current().username,
        source_ip=client_ip(),
        study_instance_uid=report.study_instance_uid,
        details={
            "report_id": report.id,
            "sop_instance_uid": report.sop_instance_uid,
            "pdf_sha256": report.pdf_sha256,
        },
    )


def _document(data: dict[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "sop_instance_uid": data["sop_instance_uid"],
        "pdf_sha256": data["pdf_sha256"].lower(),
    }
    for key in ("version", "signer_fingerprint", "predecessor_sop_instance_uid"):
        if data.get(key) is not None:
            doc[key] = data[key].lower() if key == "signer_fingerprint" else data[key]
    return doc


def _lock_study(session: Session, study_uid: str) -> None:
    """Serialise signing within one study until commit, so two doctors finalising at the
    same moment cannot both pass the check below (SQLite's BEGIN IMMEDIATE already
    serialises every write; PostgreSQL takes a transaction advisory lock)."""
    if session.get_bind().dialect.name == "postgresql":
        digest = hashlib.sha256(b"klinika-report-study:" + study_uid.encode()).digest()
        key = int.from_bytes(digest[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _refuse_if_final_held(
    session: Session, study_uid: str, except_id: int | None = None, *, locked: bool = False
) -> None:
    """409 when another doctor holds a signed report of this study (naming them);
    ``locked``: the caller already holds the study's lock."""
    if not locked:
        _lock_study(session, study_uid)
    stmt = select(Report).where(
        Report.study_instance_uid == study_uid,
        Report.status.in_(SIGNED),
        Report.author_id != current().user.id,
    )
    if except_id is not None:
        stmt = stmt.where(Report.id != except_id)
    holder = session.scalars(stmt.order_by(Report.id).limit(1)).first()
    if holder is not None:
        name = holder.author.username
        raise ApiError(
            409,
            "final_held",
            f"{name} already holds the final report of this study (report {holder.id}); "
            "only they or an administrator can amend it.",
            holder=name,
            report_id=holder.id,
        )


def _require_author(report: Report, what: str) -> None:
    if report.author_id != current().user.id:
        raise ApiError(
            403, "not_author", f"Only the report's author ({report.author.username}) can {what}."
        )


@bp.post("")
@require("reports.write")
def create_report() -> Any:
    data, session = body(), db()
    now = utcnow()
    report = Report(
        study_instance_uid=data["study_instance_uid"],
        author=current().user,
        status="draft",
        title=data.get("title", ""),
        created_at=now,
        updated_at=now,
    )
    session.add(report)
    session.flush()
    _revise(session, report, "draft", "created")
    session.commit()
    return report_json(report), 201


@bp.get("")
@require("reports.read")
def list_reports() -> Any:
    stmt = select(Report).order_by(Report.id)
    if request.args.get("study"):
        stmt = stmt.where(Report.study_instance_uid == request.args["study"])
    if request.args.get("status"):
        stmt = stmt.where(Report.status == request.args["status"])
    return {"reports": [report_json(r) for r in db().scalars(stmt.limit(MAX_LIST))]}


@bp.get("/<id:report_id>")
@require("reports.read")
def get_report(report_id: int) -> Any:
    report = db().get(Report, report_id)
    if report is None:
        raise not_found("report")
    return report_json(report)


@bp.patch("/<id:report_id>")
@require("reports.write")
def edit_draft(report_id: int) -> Any:
    data, session = body(), db()
    report = _report(session, report_id)
    if report.status != "draft":
        raise ApiError(409, "not_a_draft", "A signed report cannot be edited; amend it instead.")
    _require_author(report, "edit the draft")
    report.title = data.get("title", report.title)
    _revise(session, report, "draft", "edited")
    session.commit()
    return report_json(report)


@bp.post("/<id:report_id>/finalize")
@require("reports.sign")
def finalize(report_id: int) -> Any:
    data, session = body(), db()
    report = _report(session, report_id)
    if report.status != "draft":
        raise ApiError(409, "not_a_draft", "This report is already signed; amend it instead.")
    _require_author(report, "sign it")
    _refuse_if_final_held(session, report.study_instance_uid, except_id=report.id)
    _revise(session, report, "final", data.get("note", "signed"), _document(data))
    session.commit()
    return report_json(report)


@bp.post("/<id:report_id>/amend")
@require("reports.sign")
def amend(report_id: int) -> Any:
    data, session = body(), db()
    report = _report(session, report_id)
    if report.status == "draft":
        raise ApiError(409, "not_signed", "A draft is edited, not amended; finalise it first.")
    _require_amender(report)
    _revise(session, report, "amended", data["reason"], _document(data))
    session.commit()
    return report_json(report)


def _require_amender(report: Report) -> None:
    if report.author_id != current().user.id and current().user.role.name != AMEND_ANY_ROLE:
        raise ApiError(
            403,
            "not_author",
            f"Only the report's author ({report.author.username}) or an administrator can "
            "amend it; ask them, or write an addendum report.",
        )


@bp.post("/documents")
@require("reports.sign")
def publish_document() -> Any:
    """Record a signed version published by a workstation (idempotent by SOP UID)."""
    data, session = body(), db()
    report, created = _publish(session, data)
    session.commit()
    return report_json(report), 201 if created else 200


@bp.post("/documents/batch")
@require("reports.sign")
def publish_documents() -> Any:
    """Record several signed versions in one transaction, in the order given; each item
    stands alone (a refused one is rolled back to its savepoint, the others are kept) and
    gets its own result: 201 new, 200 already recorded, or the error it would have had."""
    data, session = body(), db()  # at most MAX_REPORT_BATCH documents: the schema caps it
    documents = data["documents"]
    # Every study of the batch locked up front in one order, so two batches naming the
    # same studies cannot wait on each other in opposite orders.
    for study_uid in sorted({d["study_instance_uid"] for d in documents}):
        _lock_study(session, study_uid)
    head = audit.lock_head(session)  # then the audit chain, as a single call takes them
    results: list[dict[str, Any]] = []
    denied: list[ApiError] = []
    for item in documents:
        try:
            with session.begin_nested():
                report, created = _publish(session, item, head=head, locked=True)
        except ApiError as exc:
            results.append({"status": exc.status, **exc.body()})
            if exc.status == 403:
                denied.append(exc)
            continue
        results.append(
            {
                "status": 201 if created else 200,
                "report_id": report.id,
                "sop_instance_uid": item["sop_instance_uid"],
            }
        )
    session.commit()
    for refusal in denied:  # audited as a single call's refusal is (after the commit)
        details = {
            "status": 403,
            "error": refusal.code,
            "endpoint": "POST /reports/documents/batch",
        }
        denials.record(
            "access.denied", actor=current().username, ip=client_ip(), details=details,
            limit_key=(403, refusal.code),
        )  # fmt: skip
    return {"results": results}


def _publish(
    session: Session, data: dict[str, Any], *, head: AuditHead | None = None, locked: bool = False
) -> tuple[Report, bool]:
    """Record one published version (not committed); (its report, whether it is new).
    A batch passes the audit head and study locks it already holds."""
    doc = _document(data)
    study_uid, status = data["study_instance_uid"], data["status"]
    seen = session.scalars(
        select(ReportRevision)
        .where(ReportRevision.sop_instance_uid == doc["sop_instance_uid"])
        .limit(1)
    ).first()
    if seen is not None:
        report = _report(session, seen.report_id)
        if seen.pdf_sha256 != doc["pdf_sha256"] or report.study_instance_uid != study_uid:
            raise ApiError(
                409, "document_conflict", "This SOP Instance UID holds another document."
            )
        return report, False
    predecessor = doc.get("predecessor_sop_instance_uid")
    if predecessor:
        report = _amended_report(session, study_uid, predecessor)
        _revise(session, report, "amended", data.get("note") or "amended", doc, head)
        return report, True
    if status == "amended":
        raise ApiError(400, "bad_request", "An amendment names its predecessor.")
    if status in SIGNED:
        _refuse_if_final_held(session, study_uid, locked=locked)
    now = utcnow()
    report = Report(
        study_instance_uid=study_uid,
        author=current().user,
        status=status,
        title=data.get("title", ""),
        created_at=now,
        updated_at=now,
        revisions=[],  # new: nothing to load before the first revision is appended
    )
    session.add(report)
    session.flush()
    _revise(session, report, status, data.get("note") or "published", doc, head)
    return report, True


def _amended_report(session: Session, study_uid: str, predecessor: str) -> Report:
    """The report whose current document ``predecessor`` is, checked for amending."""
    report_id = session.scalars(
        select(Report.id).where(Report.sop_instance_uid == predecessor).limit(1)
    ).first()
    if report_id is None:
        raise ApiError(
            409, "predecessor_unknown", "The document this one amends is not registered yet."
        )
    report = _report(session, report_id)
    if report.study_instance_uid != study_uid:
        raise ApiError(409, "study_mismatch", "The amended document belongs to another study.")
    _require_amender(report)
    return report
