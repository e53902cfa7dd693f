"""A workstation in central mode for report tests: its archive holding one synthetic
study, its local auth database and audit log, an in-memory keyring and an
Authenticator pointed at a real central auth API (tests/harness); helpers that sign a
new central user in and give the report actions for a session."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.app.synthetic import write_study
from tests.auth.conftest import MemoryKeyring
from workstation.auth.audit import AuditLog
from workstation.auth.authenticator import Authenticator
from workstation.auth.db import AuthDatabase
from workstation.auth.keyring_store import SecretStore
from workstation.auth.session import Session
from workstation.config import CentralSettings, Settings
from workstation.pacs_node.archive.archive import Archive
from workstation.reports.store import ReportStore
from workstation.services.report_actions import ReportActions


@dataclass
class CentralWorkstation:
    settings: Settings
    archive: Archive
    audit: AuditLog
    secrets: SecretStore
    auth: Authenticator
    store: ReportStore
    study_uid: str

    def sign_in_new_user(self, central: Any, role: str) -> tuple[Session, str, str]:
        """Create a ``role`` user ``<role>-<random>`` on ``central`` and sign it in here
        (no offline fallback); gives (session, user name, password)."""
        name, password = f"{role}-{os.urandom(4).hex()}", "Pw-" + os.urandom(12).hex()
        central.create_user(name, password, role)
        return self.auth.login(name, password, allow_offline=False), name, password

    def reports(self, session: Session) -> ReportActions:
        return ReportActions(
            session,
            self.store,
            self.audit,
            self.settings,
            archive=self.archive,
            secrets=self.secrets,
        )


@contextmanager
def central_workstation(
    settings: Settings, central: Any, folder: Path, *, patient_name: str, patient_id: str
) -> Iterator[CentralWorkstation]:
    """The workstation of ``settings`` in central mode against ``central`` with one
    one-series study (written to ``folder``) stored in its archive; closed on exit."""
    settings = dataclasses.replace(settings, central=CentralSettings(auth_url=central.url))
    archive = Archive.open(settings)
    db = AuthDatabase.from_settings(settings)
    audit = AuditLog(db)
    secrets = SecretStore(MemoryKeyring())
    auth = Authenticator.from_settings(settings, audit, store=secrets)
    try:
        uid = write_study(folder, patient_name=patient_name, patient_id=patient_id, series=1)
        for f in sorted(folder.iterdir()):
            assert archive.store_file(f).ok
        store = ReportStore(archive.engine)
        yield CentralWorkstation(settings, archive, audit, secrets, auth, store, uid)
    finally:
        auth.close()
        archive.close()
        db.close()
