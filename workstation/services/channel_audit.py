"""An audit log that names the way in (``cli``, ``app``) and the OS user on every event.

The desktop app and the ``workstation`` command write the same events through the same
services; this subclass adds who sat at the keyboard: the channel and the operating-system
account, and (when a workstation account was named) that account.
"""

from __future__ import annotations

import getpass
from typing import Any

from workstation.auth.audit import AuditLog
from workstation.auth.clock import Clock
from workstation.auth.db import AuthDatabase

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

    def context_details(self) -> dict[str, Any]:
        """The channel, the OS user and (once checked) the workstation account."""
        details = {"channel": self.channel, "os_user": self.os_user}
        if self.account:
            details["account"] = self.account
        return details
