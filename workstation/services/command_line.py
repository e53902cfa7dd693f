"""The services the ``workstation`` command acts through: the app's, on channel ``cli``.

A verb that reads out, changes or sends patient data acts for someone:

- ``--user NAME --password-stdin``: that workstation account (standalone: a local
  account; central mode: the central login, offline cache included).  Its role decides
  what it may do, exactly as in the app, and its events name it.
- no ``--user``: the operating-system user, who must own the data directory (they can
  read its files anyway); they act with an administrator's rights and the events name
  the OS user with ``account: null``.

Every event carries ``channel: "cli"`` and ``os_user`` (:class:`ChannelAuditLog`).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from workstation.auth.audit import AuditAction
from workstation.auth.db import AuthDatabase
from workstation.auth.errors import AuthError
from workstation.auth.permissions import Role
from workstation.auth.session import Session, SessionMode
from workstation.config import Settings
from workstation.i18n import _
from workstation.services.audit_access import AuditReader
from workstation.services.channel_audit import CLI_CHANNEL, ChannelAuditLog, os_user_name
from workstation.services.jobs import Job, JobRegistry, JobSnapshot
from workstation.services.study_actions import StudyActions

if TYPE_CHECKING:
    from workstation.auth.authenticator import Authenticator
    from workstation.auth.user_admin import UserAdmin, UserInfo
    from workstation.pacs_node.archive.archive import Archive

logger = logging.getLogger(__name__)


class NotDataDirectoryOwner(AuthError):
    """No account was named and this OS user does not own the data directory."""

    def __init__(self, home: Path) -> None:
        super().__init__(
            _(
                "You do not own the data directory {path}: name your workstation account "
                "with --user NAME --password-stdin."
            ).format(path=home)
        )


class CentralManagesUsers(AuthError):
    def __init__(self) -> None:
        super().__init__(
            _(
                "Accounts are managed on the central server in this installation "
                "(central.auth_url is set); use its administration page."
            )
        )


def owns_data_directory(home: Path) -> bool:
    """True when this process's OS user owns ``home`` (always on systems without uids)."""
    getuid = getattr(os, "getuid", None)
    if getuid is None:
        return True
    try:
        return home.stat().st_uid == getuid()
    except OSError:
        return False


class CommandLineServices:
    """Audit log, accounts and study actions for one ``workstation`` command."""

    def __init__(
        self,
        settings: Settings,
        archive: Callable[[], Archive],
        *,
        os_user: str | None = None,
    ) -> None:
        self.settings = settings
        self._archive = archive
        self.os_user = os_user or os_user_name()
        self.audit = ChannelAuditLog(
            AuthDatabase.from_settings(settings),
            channel=CLI_CHANNEL,
            os_user=self.os_user,
            workstation=settings.node.ae_title,
        )
        self.jobs = JobRegistry(max_workers=1)
        self._sessions: list[Session] = []

    @cached_property
    def authenticator(self) -> Authenticator:
        from workstation.auth.authenticator import Authenticator

        return Authenticator.from_settings(self.settings, self.audit)

    # -- who acts --------------------------------------------------------------------------
    def act_as(
        self, username: str | None, password: str | None, totp: str | None = None
    ) -> Session:
        """The session a verb acts in (see the module docstring); raises AuthError
        (``MfaRequired`` when a central account needs ``totp``)."""
        if username:
            session = self.authenticator.login(username, password or "", totp)
            self.audit.account = session.username
            self._sessions.append(session)
            return session
        if not owns_data_directory(self.settings.home):
            raise NotDataDirectoryOwner(self.settings.home)
        return Session(
            username=self.os_user,
            user_id=f"os:{self.os_user}",
            role=Role.ADMIN,
            mode=SessionMode.STANDALONE,
            keyring_available=False,
            started_at=time.time(),
        )

    # -- what it does ----------------------------------------------------------------------
    def actions(self, session: Session) -> StudyActions:
        return StudyActions(session, self._archive(), self.audit, self.jobs)

    def wait(self, job: Job) -> JobSnapshot:
        return self.jobs.wait(job)

    def audit_reader(self, session: Session) -> AuditReader:
        return AuditReader(session, self.audit)

    def user_admin(self, session: Session) -> UserAdmin:
        from workstation.auth.user_admin import LocalUserAdmin

        local = self.authenticator.local
        if local is None:
            raise CentralManagesUsers()
        return LocalUserAdmin(session, local, self.audit)

    def needs_first_admin(self) -> bool:
        """Standalone and no account yet: the first administrator needs no ``--user``."""
        local = self.authenticator.local
        if local is None:
            raise CentralManagesUsers()
        return local.needs_first_admin()

    def create_first_admin(self, username: str, password: str) -> UserInfo:
        from workstation.auth.user_admin import UserInfo

        local = self.authenticator.local
        if local is None:
            raise CentralManagesUsers()
        user = local.create_first_admin(username, password)
        self.audit.record(
            AuditAction.USER_CREATE,
            actor=self.os_user,
            role="-",
            target=user.username,
            new_role=user.role.value,
            first_admin=True,
        )
        return UserInfo(user.username, user.role, False, False, user.user_id)

    def close(self) -> None:
        self.jobs.shutdown()
        for session in self._sessions:
            self.authenticator.logout(session)
        if "authenticator" in self.__dict__:
            self.authenticator.close()
        self.audit.db.close()
