"""Every study action the GUI offers, as a guarded, audited engine call.

``StudyActions(session, archive, audit, jobs)`` checks the session's permission first
(:func:`workstation.auth.require`; a refusal is audited and raised as
:class:`~workstation.auth.PermissionDenied`), then works, then audits.  Long actions return
a :class:`~workstation.services.jobs.Job`.  Audit events carry UIDs, counts and node
names, never patient names or IDs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from workstation.auth.audit import AuditAction, AuditLog, Outcome
from workstation.auth.errors import PermissionDenied
from workstation.auth.permissions import Permission
from workstation.auth.session import Session
from workstation.i18n import _, ngettext
from workstation.services.errors import check_export_destination
from workstation.services.jobs import Job, JobContext, JobKind, JobRegistry

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

    from workstation.pacs_node.archive.archive import Archive
    from workstation.pacs_node.archive.queries import StudyQuery
    from workstation.pacs_node.archive.records import SeriesRecord, StudyRecord
    from workstation.pacs_node.remote import RemoteNode, TransferResult

logger = logging.getLogger(__name__)

#: Study UIDs listed in one audit event at most (the count is always exact).
MAX_UIDS_IN_AUDIT = 50

#: What a send or a retrieve needs of the session.
_TRANSFER_PERMISSION = {
    AuditAction.STUDY_SEND: Permission.STUDY_SEND,
    AuditAction.STUDY_RETRIEVE: Permission.STUDY_RETRIEVE,
}


class StudyActions:
    def __init__(
        self, session: Session, archive: Archive, audit: AuditLog, jobs: JobRegistry
    ) -> None:
        self.session = session
        self.archive = archive
        self.audit = audit
        self.jobs = jobs

    # -- the guard -----------------------------------------------------------------------
    def guard(self, permission: Permission, study_uid: str | None = None) -> None:
        """:func:`require` plus an audit event when refused."""
        self.audit.require(self.session, permission, study_uid)

    def refusal(self, permission: Permission, study_uid: str | None = None) -> str:
        """ "" when the session may do it now, else the reason to show; a refusal is
        audited (outcome ``denied``) like every other."""
        try:
            self.guard(permission, study_uid)
        except PermissionDenied as exc:
            return str(exc)
        return ""

    def measurement_refusal(self, study_uid: str | None = None) -> str:
        """ "" when the session may write measurements now, else the reason (audited)."""
        return self.refusal(Permission.ANNOTATION_WRITE, study_uid)

    def may_measure(self) -> bool:
        """Whether the session's role may write measurements (for enabling buttons)."""
        return self.session.can(Permission.ANNOTATION_WRITE)

    # -- browsing --------------------------------------------------------------------------
    def search(self, query: StudyQuery) -> list[StudyRecord]:
        self.guard(Permission.STUDY_VIEW)
        return self.archive.find_studies(query)

    def count(self, query: StudyQuery) -> int:
        """How many studies match ``query`` (ignoring its limit and offset)."""
        self.guard(Permission.STUDY_VIEW)
        from workstation.pacs_node.archive.models import Study
        from workstation.pacs_node.archive.queries import study_filters

        table = Study.__table__
        with self.archive.engine.connect() as conn:
            stmt = (
                select(func.count())
                .select_from(table)
                .where(*study_filters(query, conn.dialect.name))
            )
            return int(conn.execute(stmt).scalar() or 0)

    def series(self, study_uid: str) -> list[SeriesRecord]:
        self.guard(Permission.STUDY_VIEW, study_uid)
        return self.archive.find_series(study_uid)

    def open_study(self, study_uid: str) -> tuple[StudyRecord, list[SeriesRecord]]:
        """The study and its series, for the viewer; audited as ``study_open``."""
        self.guard(Permission.STUDY_VIEW, study_uid)
        study = self.archive.get_study(study_uid)
        series = self.archive.find_series(study_uid)
        self.audit.record(AuditAction.STUDY_OPEN, session=self.session, study_uid=study_uid)
        return study, series

    # -- changing the archive ----------------------------------------------------------
    def delete_study(self, study_uid: str) -> int:
        """Delete a local study (administrators only); the number of instances removed."""
        self.guard(Permission.STUDY_DELETE, study_uid)
        try:
            count = self.archive.delete_study(study_uid)
        except Exception as exc:
            self._audit_failure(AuditAction.STUDY_DELETE, study_uid, exc)
            raise
        self.audit.record(
            AuditAction.STUDY_DELETE, session=self.session, study_uid=study_uid, instances=count
        )
        return count

    def import_paths(self, paths: Sequence[Path | str], title: str = "") -> Job:
        """Import files, folders, DICOMDIR sets, ZIPs or media as a job.

        The job's result is the importer's ``ImportSummary`` (with the reject list)."""
        self.guard(Permission.STUDY_IMPORT)
        inputs = [Path(p) for p in paths]
        title = title or _import_title(inputs)

        def run(ctx: JobContext) -> object:
            from workstation.pacs_node.archive.importing import Importer

            def progress(p: Any) -> None:
                ctx.progress(p.files_done, p.files_total, _import_message(p))

            summary = Importer(self.archive).run(inputs, progress=progress, cancel=ctx.cancel_event)
            for rejected in summary.rejected:
                ctx.fail_item(Path(rejected.origin).name or rejected.origin, rejected.reason)
            self.record_import(summary)
            return summary

        return self.jobs.submit(JobKind.IMPORT, title, run)

    def record_import(self, summary: Any) -> None:
        """Audit a finished import (``ImportSummary``); the CLI runs the importer itself
        for its progress bar and Ctrl+C handling, after :meth:`guard` (``STUDY_IMPORT``)."""
        uids = sorted(summary.study_uids)
        self._note_charset_fallback(summary, uids)
        self.audit.record(
            AuditAction.STUDY_IMPORT,
            session=self.session,
            outcome=Outcome.SUCCESS if summary.ok else Outcome.FAILURE,
            study_uid=uids[0] if len(uids) == 1 else None,
            stored=summary.stored,
            duplicates=summary.duplicates,
            rejected=len(summary.rejected),
            cancelled=summary.cancelled,
            studies=uids[:MAX_UIDS_IN_AUDIT],
            study_count=len(uids),
        )

    def _note_charset_fallback(self, summary: Any, uids: list[str]) -> None:
        """Say in the import summary which studies' text was read with the site's
        fallback character set (their files declared none)."""
        from workstation.pacs_node.archive.errors import NotFoundError

        read_with: dict[str, int] = {}
        for uid in uids[:MAX_UIDS_IN_AUDIT]:
            try:
                fallback = self.archive.get_study(uid).charset_fallback
            except NotFoundError:
                continue
            if fallback:
                read_with[fallback] = read_with.get(fallback, 0) + 1
        for fallback, n in read_with.items():
            summary.notes.append(
                ngettext(
                    "{n} study declared no character set; its text was read as {charset} "
                    "(archive.fallback_charset).",
                    "{n} studies declared no character set; their text was read as {charset} "
                    "(archive.fallback_charset).",
                    n,
                ).format(n=n, charset=fallback)
            )

    def export_study(
        self, study_uid: str, destination: Path, *, anonymize: bool = False, dicomdir: bool = False
    ) -> Job:
        """Export a study to a folder or ``.zip`` (optionally de-identified, with DICOMDIR).

        Raises ``NotFoundError`` for a study the archive does not hold and
        :class:`~workstation.services.errors.DestinationMissing` when the destination's
        folder does not exist (no folders are made on a mistyped path)."""
        self.guard(Permission.STUDY_EXPORT, study_uid)
        destination = Path(destination)
        self.archive.get_study(study_uid)
        check_export_destination(destination)

        def run(ctx: JobContext) -> object:
            from workstation.pacs_node.archive.export import export_study

            ctx.progress(0, None, _("Exporting…"))
            try:
                result = export_study(
                    self.archive, study_uid, destination, dicomdir=dicomdir, anonymize=anonymize
                )
            except Exception as exc:
                self._audit_failure(AuditAction.STUDY_EXPORT, study_uid, exc)
                raise
            ctx.progress(result.files, result.files, _("{n} files written").format(n=result.files))
            self.audit.record(
                AuditAction.STUDY_EXPORT,
                session=self.session,
                study_uid=study_uid,
                files=result.files,
                anonymized=anonymize,
                dicomdir=dicomdir,
                zip=destination.suffix.lower() == ".zip",
                exported_study_uid=result.study_instance_uid,
            )
            return result

        title = _("Export study to {dest}").format(dest=destination)
        return self.jobs.submit(JobKind.EXPORT, title, run)

    # -- other nodes -----------------------------------------------------------------------
    def find_remote(
        self, node: RemoteNode, filters: dict[str, str], *, limit: int = 500
    ) -> list[Dataset]:
        """Search a remote archive at study level (QIDO-RS or C-FIND)."""
        self.guard(Permission.STUDY_VIEW)
        from workstation.pacs_node.remote import QueryLevel

        return node.find(QueryLevel.STUDY, filters, limit=limit)

    def send_study(self, study_uid: str, node: Any, node_label: str = "") -> Job:
        """Send every instance of a local study to ``node`` (a RemoteNode with ``send``)."""

        def send(progress: Any, cancel: Any) -> TransferResult:
            files = [rec.path for rec in self.archive.study_instances(study_uid)]
            return node.send(files, progress=progress, cancel=cancel)

        label = node_label or getattr(node, "name", "?")
        title = _("Send study to {node}")
        return self._transfer_job(AuditAction.STUDY_SEND, study_uid, label, title, send)

    def transfer_now(
        self,
        action: AuditAction,
        study_uids: Sequence[str],
        node_label: str,
        work: Callable[[], TransferResult],
        **detail: Any,
    ) -> TransferResult:
        """Run a send (``STUDY_SEND``) or retrieve (``STUDY_RETRIEVE``) in the calling
        thread, guarded and audited: the command line's way, with its own progress bar
        and Ctrl+C.  ``work`` returns the peer's ``TransferResult``."""
        targets: list[str | None] = list(study_uids) or [None]
        for uid in targets:
            self.guard(_TRANSFER_PERMISSION[action], uid)
        try:
            result = work()
        except Exception as exc:
            self._audit_failure(action, study_uids[0] if len(study_uids) == 1 else None, exc)
            raise
        self.audit.record(
            action,
            session=self.session,
            outcome=Outcome.SUCCESS if result.ok else Outcome.FAILURE,
            study_uid=study_uids[0] if len(study_uids) == 1 else None,
            node=node_label,
            studies=list(study_uids[:MAX_UIDS_IN_AUDIT]),
            completed=result.completed,
            failed=result.failed,
            cancelled=result.cancelled,
            error=result.error[:300],
            **detail,
        )
        return result

    def study_files(self, study_uids: Sequence[str]) -> list[Path]:
        """The stored files of local studies (``NotFoundError`` for one not held)."""
        from workstation.pacs_node.archive.errors import NotFoundError

        files: list[Path] = []
        for uid in study_uids:
            records = self.archive.study_instances(uid)
            if not records:
                raise NotFoundError(_("Study {uid} is not in the local archive.").format(uid=uid))
            files += [Path(r.path) for r in records]
        return files

    def record_render(self, study_uid: str, sop_instance_uid: str, frame: int) -> None:
        """Audit an image of an archived study written out as a picture: an export
        (``STUDY_EXPORT`` with ``format: png``); the caller guarded ``STUDY_EXPORT`` first."""
        self.audit.record(
            AuditAction.STUDY_EXPORT,
            session=self.session,
            study_uid=study_uid,
            format="png",
            sop_instance_uid=sop_instance_uid,
            frame=frame,
        )

    def queue_send_study(self, study_uid: str, sync: Any, target: str) -> int:
        """Put a study in the persistent outbox for ``target`` (``central`` or an AE-table
        name); it goes when the link allows, survives restarts, and retries.  The queue
        job's id."""
        self.guard(Permission.STUDY_SEND, study_uid)
        uids = [rec.sop_instance_uid for rec in self.archive.study_instances(study_uid)]
        job_id = int(
            sync.enqueue_send_study(
                study_uid, uids, target=target, description=_study_summary(self.archive, study_uid)
            )
        )
        self.audit.record(
            AuditAction.STUDY_SEND,
            session=self.session,
            study_uid=study_uid,
            node=target,
            queued=True,
            sync_job=job_id,
            instances=len(uids),
        )
        return job_id

    def retrieve_study(self, study_uid: str, node: RemoteNode, node_label: str = "") -> Job:
        """Bring a study from ``node`` into the local archive."""

        def retrieve(progress: Any, cancel: Any) -> TransferResult:
            return node.retrieve(study_uid, progress=progress, cancel=cancel)

        title = _("Retrieve study from {node}")
        return self._transfer_job(
            AuditAction.STUDY_RETRIEVE, study_uid, node_label or node.name, title, retrieve
        )

    def _transfer_job(
        self,
        action: AuditAction,
        study_uid: str,
        node_label: str,
        title: str,
        transfer: Callable[[Any, Any], TransferResult],
    ) -> Job:
        """Guard ``action`` (send or retrieve) on the study, then a job that runs
        ``transfer(progress, cancel)`` and audits its outcome; ``title`` names ``{node}``."""
        self.guard(_TRANSFER_PERMISSION[action], study_uid)

        def run(ctx: JobContext) -> object:
            result = transfer(_progress_to(ctx), _cancel_token(ctx))
            return self._finish_transfer(ctx, action, study_uid, node_label, result)

        kind = JobKind.SEND if action is AuditAction.STUDY_SEND else JobKind.RETRIEVE
        return self.jobs.submit(kind, title.format(node=node_label), run)

    def _finish_transfer(
        self,
        ctx: JobContext,
        action: AuditAction,
        study_uid: str,
        node_label: str,
        result: TransferResult,
    ) -> TransferResult:
        for outcome in result.outcomes:
            if not outcome.ok:
                ctx.fail_item(outcome.sop_instance_uid, outcome.reason)
        done = result.completed + result.warning
        ctx.progress(
            done + result.failed,
            None,
            _("{done} transferred, {failed} failed").format(done=done, failed=result.failed),
        )
        ok = result.ok
        self.audit.record(
            action,
            session=self.session,
            outcome=Outcome.SUCCESS if ok else Outcome.FAILURE,
            study_uid=study_uid,
            node=node_label,
            completed=result.completed,
            failed=result.failed,
            cancelled=result.cancelled,
            error=result.error[:300],
        )
        if result.error and not result.failed:
            raise RuntimeError(result.error)
        return result

    def _audit_failure(self, action: AuditAction, study_uid: str | None, exc: Exception) -> None:
        self.audit.record(
            action,
            session=self.session,
            outcome=Outcome.FAILURE,
            study_uid=study_uid,
            error=type(exc).__name__,
        )


def _study_summary(archive: Any, study_uid: str) -> str:
    """Date, modalities and description: enough to recognise a job, nothing identifying."""
    study = archive.get_study(study_uid)
    date = study.study_date
    date = f"{date[:4]}-{date[4:6]}-{date[6:]}" if len(date) == 8 else date
    parts = [date, "/".join(study.modalities), study.study_description]
    return " ".join(p for p in parts if p)[:120] or study_uid


def _progress_to(ctx: JobContext) -> Callable[[Any], None]:
    def progress(p: Any) -> None:
        ctx.progress(p.done, p.total)

    return progress


def _cancel_token(ctx: JobContext) -> Any:
    """A ``remote.CancelToken`` that is the job's cancel flag."""
    from workstation.pacs_node.remote import CancelToken

    class JobCancelToken(CancelToken):
        def cancel(self) -> None:
            ctx.cancel_event.set()

        @property
        def cancelled(self) -> bool:
            return ctx.cancel_event.is_set()

    return JobCancelToken()


def _import_title(paths: list[Path]) -> str:
    if len(paths) == 1:
        return _("Import from {path}").format(path=paths[0])
    return ngettext("Import {n} item", "Import {n} items", len(paths)).format(n=len(paths))


def _import_message(p: Any) -> str:
    return _("{stored} stored, {dup} already there, {rej} rejected").format(
        stored=p.stored, dup=p.duplicates, rej=p.rejected
    )
