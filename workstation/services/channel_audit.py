"""An audit log that names the way in (``cli``, ``app``) and the OS user on every event.

The desktop app and the ``workstation`` command write the same events through the same
services; this subclass adds who sat at the keyboard: the channel and the operating-system
account, and (when a workstation account was named) that account.
"""

from __future__ import annotations

import getpass
from typing import Any

from workstation.auth.audit import AuditAction, AuditEvent, AuditLog, Outcome
from workstation.auth.clock import Clock
from workstation.auth.db import AuthDatabase
from workstation.auth.session import Session

CLI_CHANNEL = "cli"


def os_user_name() -> str:
    """The operating-system account running this process ("?" when it has no name)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "?"


class ChannelAuditLog(AuditLog):
    """:class:`AuditLog` whose events all carry ``channel`` and ``os_user`` details."""

    def __init__(
        self,
        db: AuthDatabase,
        *,
        channel: str,
        os_user: str,
        clock: Clock | None = None,
        workstation: str | None = None,
    ) -> None:
        super().__init__(db, clock=clock, workstation=workstation)
        self.channel = channel
        self.os_user = os_user
        #: The workstation account acting (set once its password was checked), or None.
        self.account: str | None = None

    def record(
        self,
        action: AuditAction | str,
        *,
        session: Session | None = None,
        actor: str | None = None,
        role: str | None = None,
        outcome: Outcome | str = Outcome.SUCCESS,
        study_uid: str | None = None,
        **detail: Any,
    ) -> AuditEvent:
        detail.setdefault("channel", self.channel)
        detail.setdefault("os_user", self.os_user)
        if self.account:
            detail.setdefault("account", self.account)
        return super().record(
            action,
            session=session,
            actor=actor,
            role=role,
            outcome=outcome,
            study_uid=study_uid,
            **detail,
        )
