"""Everything the desktop app runs on, built once per process (no Qt).

:class:`WorkstationServices` owns the auth database and audit log, the authenticator,
the local archive (opened in the background while the login window shows), the job
registry, the DICOM node (when that part is built), and makes per-session objects: the
guarded :class:`StudyActions`, the user admin, the DICOMweb token provider and nodes.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from typing import TYPE_CHECKING, Any

from workstation.auth.audit import AuditLog
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
from workstation.services.jobs import JobRegistry
from workstation.services.study_actions import StudyActions

if TYPE_CHECKING:
    from workstation.pacs_node.archive.archive import Archive

logger = logging.getLogger(__name__)

CENTRAL_NODE_NAME = "central"


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
        self._archive_ready = threading.Event()
        self._archive_lock = threading.Lock()
        self.node: Any = None
        self.forwarder: AuditForwarder | None = None
        self._providers: dict[str, SessionTokenProvider] = {}

    # -- archive and node ------------------------------------------------------------------
    def open_archive_in_background(self) -> None:
        threading.Thread(target=self._open_archive, name="archive-open", daemon=True).start()

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
            finally:
                self._archive_ready.set()
        if self._archive is not None and self._start_node:
            self._start_dicom_node(self._archive)

    @property
    def archive(self) -> Archive:
        """The local archive (waits for the background open; raises what it raised)."""
        if not self._archive_ready.is_set():
            self._open_archive()
        self._archive_ready.wait()
        if self._archive is None:
            assert self._archive_error is not None
            raise self._archive_error
        return self._archive

    def _start_dicom_node(self, archive: Archive) -> None:
        if importlib.util.find_spec("workstation.pacs_node.dimse.service") is None:
            logger.info("the DICOM node is not part of this build")
            return
        try:
            from workstation.pacs_node.dimse.service import start_node_service

            self.node = start_node_service(self.settings, archive)
            logger.info(
                "DICOM node %s listening on port %d",
                self.settings.node.ae_title,
                self.settings.node.port,
            )
        except Exception:
            logger.exception("the DICOM node could not start")

    # -- per session -------------------------------------------------------------------
    def actions(self, session: Session) -> StudyActions:
        return StudyActions(session, self.archive, self.audit, self.jobs)

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
        self.forwarder = AuditForwarder(
            self.audit, central_poster(central, provider.access_token), target=central.base_url
        )
        self.forwarder.start()

    def after_logout(self, session: Session) -> None:
        self._providers.pop(session.session_id, None)
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
