"""Reading the local audit log: administrators only (``audit.read``)."""

from __future__ import annotations

from workstation.auth.audit import AuditEvent, AuditLog
from workstation.auth.permissions import Permission, requires
from workstation.auth.session import Session


class AuditReader:
    def __init__(self, session: Session, log: AuditLog) -> None:
        self.session = session
        self.log = log

    @requires(Permission.AUDIT_READ)
    def events(
        self,
        *,
        limit: int = 1000,
        action: str | None = None,
        actor: str | None = None,
        since: str | None = None,
    ) -> list[AuditEvent]:
        """Newest first; ``since`` as :meth:`AuditLog.events` takes it."""
        return self.log.events(
            limit=limit, action=action, actor=actor, since=since, newest_first=True
        )

    @requires(Permission.AUDIT_READ)
    def verify(self) -> tuple[int, int | None]:
        """(number of events, ``seq`` of the first broken one or None when intact)."""
        return self.log.count(), self.log.verify_chain()
