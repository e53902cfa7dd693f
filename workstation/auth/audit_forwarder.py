"""Forward the local audit log to the central audit API, in order, at least once.

The central is idempotent by ``event_id``, so resending after a crash is harmless.  A
cursor row per target (``auth_audit_forward``) remembers the last ``seq`` the central
confirmed.  When the sync outbox grows an audit job type it can absorb this: the cursor
and :meth:`AuditForwarder.forward_pending` are the whole state and logic.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import insert, select, update

from workstation.auth.audit import AuditEvent, AuditLog
from workstation.auth.central_client import CentralAuthClient
from workstation.auth.errors import AuthError
from workstation.auth.schema import audit_forward

logger = logging.getLogger(__name__)

AUDIT_BATCH_PATH = "/audit/events"
BATCH_SIZE = 200
#: Back-off between failed attempts, seconds: doubles up to the cap.
RETRY_FIRST, RETRY_MAX = 5.0, 300.0


class ForwardError(Exception):
    """The central did not confirm a batch; it will be sent again."""


def central_poster(
    client: CentralAuthClient, token: Callable[[], str | None]
) -> Callable[[list[dict[str, Any]]], None]:
    """A ``post_batch`` that POSTs ``{"events": [...]}`` to the central audit API."""

    def post(batch: list[dict[str, Any]]) -> None:
        access = token()
        if not access:
            raise ForwardError("no access token (offline or logged out)")
        try:
            resp = client.request("POST", AUDIT_BATCH_PATH, token=access, json={"events": batch})
        except AuthError as exc:
            raise ForwardError(str(exc)) from exc
        if not 200 <= resp.status_code < 300:
            logger.warning(
                "central refused audit batch: HTTP %s %s", resp.status_code, resp.text[:300]
            )
            raise ForwardError(f"central audit API answered HTTP {resp.status_code}")

    return post


class AuditForwarder:
    def __init__(
        self,
        log: AuditLog,
        post_batch: Callable[[list[dict[str, Any]]], None],
        *,
        target: str,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.log = log
        self.post_batch = post_batch
        self.target = target[:200]
        self.batch_size = batch_size
        self.last_error = ""
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- cursor ------------------------------------------------------------------------
    def confirmed_seq(self) -> int:
        with self.log.db.read() as conn:
            value = conn.execute(
                select(audit_forward.c.last_seq).where(audit_forward.c.target == self.target)
            ).scalar()
        return int(value or 0)

    def _advance(self, seq: int) -> None:
        now = self.log.clock.now()
        with self.log.db.write() as conn:
            done = conn.execute(
                update(audit_forward)
                .where(audit_forward.c.target == self.target)
                .where(audit_forward.c.last_seq < seq)
                .values(last_seq=seq, updated_at=now)
            ).rowcount
            exists = conn.execute(
                select(audit_forward.c.target).where(audit_forward.c.target == self.target)
            ).first()
            if not done and not exists:
                conn.execute(
                    insert(audit_forward).values(target=self.target, last_seq=seq, updated_at=now)
                )

    def pending(self) -> int:
        return max(0, self.log.last_seq() - self.confirmed_seq())

    # -- sending -----------------------------------------------------------------------
    def forward_pending(self, max_batches: int = 50) -> int:
        """Send what the central has not confirmed; the number of events confirmed.

        Raises :class:`ForwardError` when a batch is refused (the cursor stays put)."""
        sent = 0
        for _ in range(max_batches):
            batch: list[AuditEvent] = self.log.events(
                after_seq=self.confirmed_seq(), limit=self.batch_size
            )
            if not batch:
                break
            self.post_batch([e.as_json() for e in batch])
            self._advance(batch[-1].seq)
            sent += len(batch)
        return sent

    # -- background --------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self.log.subscribe(lambda _event: self._wake.set())
        self._thread = threading.Thread(target=self._run, name="audit-forwarder", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def nudge(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        delay = RETRY_FIRST
        while not self._stop.is_set():
            try:
                self.forward_pending()
            except ForwardError as exc:
                self.last_error = str(exc)
                logger.info("audit forwarding deferred: %s", exc)
                self._stop.wait(delay)
                delay = min(delay * 2, RETRY_MAX)
                continue
            except Exception:
                logger.exception("audit forwarding failed")
                self._stop.wait(RETRY_MAX)
                continue
            self.last_error = ""
            delay = RETRY_FIRST
            self._wake.wait(60.0)
            self._wake.clear()
