"""Everything the desktop app runs on, built once per process (no Qt).

:class:`WorkstationServices` owns the auth database and audit log, the authenticator,
the local archive (opened in the background while the login window shows), the job
registry, the DICOM node (when that part is built), and makes per-session objects: the
guarded :class:`StudyActions`, the user admin, the DICOMweb token provider and nodes.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from workstation.auth.audit import AuditAction, AuditLog, Outcome
from workstation.auth.audit_forwarder import AuditForwarder, central_poster
from workstation.auth.authenticator import Authenticator
from workstation.auth.clock import Clock, SystemClock
from workstation.auth.db import AuthDatabase
from workstation.auth.idle import IdleLock
from workstation.auth.keyring_store import SecretStore
from workstation.auth.session import Session, SessionMode
from workstation.auth.token_provider import SessionTokenProvider
from workstation.auth.user_admin import CentralUserAdmin, LocalUserAdmin, UserAdmin
from workstation.config import PeerNode, Settings
from workstation.services.activity import Activity
from workstation.services.jobs import JobRegistry
from workstation.services.study_actions import StudyActions

if TYPE_CHECKING:
    from workstation.pacs_node.archive.archive import Archive
    from workstation.services.report_actions import ReportActions

logger = logging.getLogger(__name__)

CENTRAL_NODE_NAME = "central"
#: Outbox worker threads: different studies' jobs side by side, one study's in order.
OUTBOX_THREADS = 3


class CurrentSessionTokens:
    """A DICOMweb ``TokenProvider`` that follows whoever is logged in centrally now
    (None while nobody is: outbox jobs then wait and retry)."""

    def __init__(self) -> None:
        self.provider: SessionTokenProvider | None = None

    def access_token(self) -> str | None:
        provider = self.provider
        return provider.access_token() if provider is not None else None

    def token_rejected(self, token: str) -> None:
        provider = self.provider
        if provider is not None:
            provider.token_rejected(token)


class WorkstationServices:
    def __init__(
        self,
        settings: Settings,
        *,
        store: SecretStore | None = None,
        clock: Clock | None = None,
        start_node: bool | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.auth_db = AuthDatabase.from_settings(settings)
        self.audit = AuditLog(self.auth_db, clock=self.clock, workstation=settings.node.ae_title)
        self.authenticator = Authenticator.from_settings(
            settings, self.audit, store=store, clock=self.clock
        )
        self.jobs = JobRegistry()
        self._start_node = settings.node.start_with_app if start_node is None else start_node
        self._archive: Archive | None = None
        self._archive_error: BaseException | None = None
        self._archive_lock = threading.Lock()
        self.node: Any = None
        #: Why the node is not listening (``NodeCannotListen``: reason, fix), if it failed.
        self.node_error: Any = None
        self.sync: Any = None
        self.sync_worker: Any = None
        self.forwarder: AuditForwarder | None = None
        self._providers: dict[str, SessionTokenProvider] = {}
        #: The logged-in session's token, for work that outlives a session (the outbox).
        self.current_tokens = CurrentSessionTokens()
        self._queued_by: dict[int, tuple[str, str]] = {}
        self.activity = Activity(self.jobs)

    # -- archive and node ------------------------------------------------------------------
    def _open_archive(self) -> None:
        with self._archive_lock:
            if self._archive is not None or self._archive_error is not None:
                return
            try:
                from workstation.pacs_node.archive.archive import Archive

                self._archive = Archive.open(self.settings)
            except BaseException as exc:
                logger.exception("the local archive could not be opened")
                self._archive_error = exc
        if self._archive is not None:
            self._start_sync(self._archive)
            if self._start_node:
                self._start_dicom_node(self._archive)

    def _start_sync(self, archive: Archive) -> None:
        """The persistent outbox/inbox and its worker (it drains whenever it can)."""
        try:
            from workstation.pacs_node.sync.queue import SyncQueue
            from workstation.pacs_node.sync.remotes import remote_resolver
            from workstation.pacs_node.sync.worker import SyncWorker
        except ImportError:
            logger.info("the sync outbox is not part of this build")
            return
        try:
            self.sync = SyncQueue(archive.engine)
            self.sync.subscribe(self._on_sync_job)
            resolve = remote_resolver(self.settings, archive, self.current_tokens)
            self.sync_worker = SyncWorker(self.sync, archive, resolve, concurrency=OUTBOX_THREADS)
            from workstation.services.report_upstream import register_report_upstream

            register_report_upstream(self.sync_worker, self.settings, self.current_tokens)
            self._queue_unqueued_reports(archive)
            self.sync_worker.start()
            self.activity.sync = self.sync
        except Exception:
            logger.exception("the sync outbox could not start")

    def _queue_unqueued_reports(self, archive: Archive) -> None:
        """Signed versions that never got their upstream jobs get them now."""
        from workstation.reports.store import ReportStore
        from workstation.services.report_upstream import queue_unqueued_reports

        try:
            queue_unqueued_reports(self.sync, self.settings, ReportStore(archive.engine), archive)
        except Exception:  # the outbox runs anyway; the next start tries again
            logger.exception("signed reports could not be re-queued upstream")

    def _on_sync_job(self, view: Any) -> None:
        """Audit the end of an outbox send this process queued."""
        who = self._queued_by.get(int(view.id))
        if who is None or str(view.state) not in ("done", "failed", "cancelled"):
            return
        self._queued_by.pop(int(view.id), None)
        outcome = (
            Outcome.SUCCESS if str(view.state) == "done" and not view.failed else Outcome.FAILURE
        )
        self.audit.record(
            AuditAction.STUDY_SEND,
            actor=who[0],
            role=who[1],
            outcome=outcome,
            study_uid=view.study_instance_uid or None,
            node=view.target,
            sync_job=int(view.id),
            completed=int(view.done),
            failed=int(view.failed),
            state=str(view.state),
            error=(view.last_error or "")[:300],
        )

    def queue_send(self, session: Session, study_uid: str, target: str) -> int:
        """Send a study through the outbox (guarded and audited); the queue job id."""
        if self.sync is None:
            raise RuntimeError("the sync outbox is not running")
        job_id = self.actions(session).queue_send_study(study_uid, self.sync, target)
        self._queued_by[job_id] = (session.username, session.role.value)
        if self.sync_worker is not None:
            self.sync_worker.wake()
        return job_id

    @property
    def archive(self) -> Archive:
        """The local archive, opened on first use (raises what opening raised)."""
        if self._archive is None and self._archive_error is None:
            self._open_archive()  # under a lock: one opener, the others wait for it
        if self._archive is None:
            assert self._archive_error is not None
            raise self._archive_error
        return self._archive

    def _start_dicom_node(self, archive: Archive) -> None:
        from workstation.pacs_node.dimse.errors import NodeCannotListen

        try:
            from workstation.pacs_node.dimse.service import start_node_service

            self.node = start_node_service(self.settings, archive)
            logger.info(
                "DICOM node %s listening on port %d",
                self.settings.node.ae_title,
                self.settings.node.port,
            )
        except NodeCannotListen as exc:
            self.node_error = exc
            logger.warning("the DICOM node could not start: %s", exc.reason)
        except Exception:
            logger.exception("the DICOM node could not start")

    # -- per session -------------------------------------------------------------------
    def actions(self, session: Session) -> StudyActions:
        return StudyActions(session, self.archive, self.audit, self.jobs)

    def report_actions(self, session: Session) -> ReportActions:
        """Reports of this archive for ``session`` (write, sign, amend, export, verify)."""
        from workstation.reports.store import ReportStore
        from workstation.services.report_actions import ReportActions

        return ReportActions(
            session,
            ReportStore(self.archive.engine),
            self.audit,
            self.settings,
            archive=self.archive,
            secrets=self.authenticator.store,
            outbox=self.sync,
            wake_outbox=self.sync_worker.wake if self.sync_worker is not None else None,
        )

    def idle_lock(self) -> IdleLock:
        return IdleLock(self.settings.security.idle_lock_minutes, self.clock)

    def token_provider(self, session: Session) -> SessionTokenProvider:
        provider = self._providers.get(session.session_id)
        if provider is None:
            provider = SessionTokenProvider(self.authenticator, session)
            self._providers[session.session_id] = provider
        return provider

    def user_admin(self, session: Session) -> UserAdmin:
        auth = self.authenticator
        if auth.local is not None:
            return LocalUserAdmin(session, auth.local, self.audit)
        assert auth.central is not None
        return CentralUserAdmin(session, auth.central, self.token_provider(session).access_token)

    def after_login(self, session: Session) -> None:
        """Start what a central session brings: audit forwarding."""
        central = self.authenticator.central
        if central is None or session.mode is not SessionMode.CENTRAL:
            return
        if self.forwarder is not None:
            self.forwarder.stop()
        provider = self.token_provider(session)
        self.current_tokens.provider = provider
        if self.sync_worker is not None:
            self.sync_worker.wake()
        self.forwarder = AuditForwarder(
            self.audit, central_poster(central, provider.access_token), target=central.base_url
        )
        self.forwarder.start()

    def after_logout(self, session: Session) -> None:
        provider = self._providers.pop(session.session_id, None)
        if provider is not None and self.current_tokens.provider is provider:
            self.current_tokens.provider = None
        if self.forwarder is not None:
            self.forwarder.stop()
            self.forwarder = None

    # -- remote nodes ----------------------------------------------------------------------
    def peers(self, *, may_store: bool = False, may_query: bool = False) -> list[PeerNode]:
        return [
            p
            for p in self.settings.node.peers
            if (not may_store or p.may_store) and (not may_query or p.may_query)
        ]

    def has_central_dicomweb(self) -> bool:
        return bool(self.settings.central.dicomweb_url)

    def central_node(self, session: Session) -> Any:
        """The central archive by DICOMweb with the session's bearer token."""
        from workstation.pacs_node.dicomweb.client import DicomWebNode

        c = self.settings.central
        return DicomWebNode(
            c.dicomweb_url,
            self.token_provider(session),
            archive=self.archive,
            name=CENTRAL_NODE_NAME,
            verify=c.ca_bundle or c.verify_tls,
            timeout_s=c.timeout_seconds,
        )

    def dimse_node(self, peer: PeerNode) -> Any:
        from workstation.pacs_node.dimse.scu import DimseNode

        return DimseNode(self.settings, peer, archive=self.archive)

    def node_by_name(self, name: str, session: Session) -> Any:
        if name == CENTRAL_NODE_NAME and self.has_central_dicomweb():
            return self.central_node(session)
        peer = self.settings.peer(name)
        if peer is None:
            raise KeyError(name)
        return self.dimse_node(peer)

    # -- shutdown ----------------------------------------------------------------------
    def close(self) -> None:
        if self.forwarder is not None:
            self.forwarder.stop()
        if self.sync_worker is not None:
            self.sync_worker.stop(timeout=10)
        self.jobs.shutdown()
        if self.node is not None:
            try:
                self.node.stop()
            except Exception:
                logger.exception("stopping the DICOM node failed")
        self.authenticator.close()
        if self._archive is not None:
            self._archive.close()
        self.auth_db.close()
