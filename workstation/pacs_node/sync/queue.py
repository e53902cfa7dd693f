"""The persistent outbox and inbox: enqueue, list, claim and finish jobs.

Everything is a row in the archive's database (see :mod:`schema`), so jobs survive a
restart or a kill -9.  Several processes may share the queue (the desktop app and a
headless ``node serve``): a worker *claims* a due job with a compare-and-set on its
state and holds a lease it renews; a job whose lease expired is due again, and so is
at once a job whose owner was a process of this host that no longer exists (kill -9).

The activity panel polls :meth:`SyncQueue.jobs` (cheap, indexed) or subscribes with
:meth:`SyncQueue.subscribe` for in-process change callbacks.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from workstation.events import Event
from workstation.pacs_node.sync import schema as t
from workstation.pacs_node.sync.jobs import (
    ACTIVE_STATES,
    Direction,
    ItemState,
    JobState,
    JobView,
    Kind,
    utcnow,
)
from workstation.storage.engine import write_engine
from workstation.storage.migrate import ensure_schema
from workstation.storage.row_records import record_from_row

logger = logging.getLogger(__name__)

JobCallback = Callable[[JobView], None]
_ITEM_CHUNK = 500


def upgrade_schema(engine: Engine) -> bool:
    """Bring the sync tables to the newest revision (cheap when they are current)."""
    return ensure_schema(engine, "workstation.pacs_node.sync:migrations", t.VERSION_TABLE)


class SyncQueue:
    """The jobs of the outbox and inbox; safe to share between threads."""

    def __init__(self, engine: Engine, *, lease_s: float = 60.0) -> None:
        self.engine = engine
        #: Write transactions (BEGIN IMMEDIATE on SQLite: the archive's index writer and
        #: other programs write to the same file; see archive/database.py).
        self._writes = write_engine(engine)
        self.lease_s = lease_s
        #: host:pid:random - lets a restarted process on the same host take over at once
        #: the jobs of a process that died (kill -9) instead of waiting for the lease.
        self.owner = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.changed = Event("sync queue")
        #: Emitted (no arguments) when a job becomes due in this process (queued, retried):
        #: idle workers wait on it instead of polling.
        self.queued = Event("sync queue: job queued")
        upgrade_schema(engine)

    # -- enqueue ---------------------------------------------------------------------
    def enqueue(
        self,
        kind: str,
        *,
        target: str,
        direction: Direction = Direction.OUT,
        description: str = "",
        study_uid: str = "",
        sop_uids: Iterable[str] = (),
        payload: dict[str, Any] | None = None,
        max_attempts: int = 0,
    ) -> int:
        """Add a job (and its instances, if any); returns its id.  0 attempts = unlimited."""
        now = utcnow()
        uids = list(dict.fromkeys(sop_uids))
        with self._writes.begin() as conn:
            key = conn.execute(
                sa.insert(t.jobs).values(
                    direction=str(direction),
                    kind=str(kind),
                    target=target,
                    state=str(JobState.QUEUED),
                    description=description[:200],
                    study_instance_uid=study_uid,
                    payload=json.dumps(payload or {}),
                    max_attempts=max_attempts,
                    next_attempt_at=now,
                    total=len(uids),
                    created_at=now,
                    updated_at=now,
                )
            ).inserted_primary_key
            assert key is not None
            job_id = int(key[0])
            self._add_items(conn, job_id, uids)
        self._notify(job_id)
        self.queued.emit()
        return job_id

    def enqueue_send_study(
        self, study_uid: str, sop_uids: Sequence[str], *, target: str, description: str = ""
    ) -> int:
        """Send these instances of a study upstream (the study as it is now)."""
        return self.enqueue(
            Kind.SEND_STUDY, target=target, study_uid=study_uid, sop_uids=sop_uids,
            description=description or study_uid,
        )  # fmt: skip

    def enqueue_retrieve_study(self, study_uid: str, *, target: str, description: str = "") -> int:
        """Fetch a study from upstream into the local archive when the link allows."""
        return self.enqueue(
            Kind.RETRIEVE_STUDY, target=target, direction=Direction.IN, study_uid=study_uid,
            description=description or study_uid,
        )  # fmt: skip

    @staticmethod
    def _add_items(conn: Connection, job_id: int, uids: list[str]) -> None:
        for i in range(0, len(uids), _ITEM_CHUNK):
            conn.execute(
                sa.insert(t.items),
                [
                    {"job_id": job_id, "sop_instance_uid": u, "state": str(ItemState.PENDING)}
                    for u in uids[i : i + _ITEM_CHUNK]
                ],
            )

    # -- read (activity panel) -------------------------------------------------------
    def jobs(
        self,
        *,
        states: Iterable[JobState] | None = None,
        direction: Direction | None = None,
        limit: int = 200,
    ) -> list[JobView]:
        stmt = sa.select(t.jobs).order_by(t.jobs.c.id.desc()).limit(limit)
        if states is not None:
            stmt = stmt.where(t.jobs.c.state.in_([str(s) for s in states]))
        if direction is not None:
            stmt = stmt.where(t.jobs.c.direction == str(direction))
        with self.engine.connect() as conn:
            return [_view(r) for r in conn.execute(stmt).mappings()]

    def job(self, job_id: int) -> JobView | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.jobs).where(t.jobs.c.id == job_id)).mappings().first()
        return _view(row) if row else None

    def pending_count(self) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(t.jobs)
                    .where(t.jobs.c.state.in_([str(s) for s in ACTIVE_STATES]))
                ).scalar_one()
            )

    def items(self, job_id: int, state: ItemState | None = None) -> list[str]:
        stmt = sa.select(t.items.c.sop_instance_uid).where(t.items.c.job_id == job_id)
        if state is not None:
            stmt = stmt.where(t.items.c.state == str(state))
        with self.engine.connect() as conn:
            return list(conn.execute(stmt.order_by(t.items.c.id)).scalars())

    def report_sop_uids(self, kinds: Iterable[str]) -> set[str]:
        """The ``sop_instance_uid`` of every job of these kinds (any state)."""
        stmt = sa.select(t.jobs.c.payload).where(t.jobs.c.kind.in_(list(kinds)))
        found: set[str] = set()
        with self.engine.connect() as conn:
            for (text,) in conn.execute(stmt):
                try:
                    uid = json.loads(text).get("sop_instance_uid")
                except (ValueError, AttributeError):
                    continue
                if isinstance(uid, str):
                    found.add(uid)
        return found

    def payload(self, job_id: int) -> dict[str, Any]:
        with self.engine.connect() as conn:
            text = conn.execute(
                sa.select(t.jobs.c.payload).where(t.jobs.c.id == job_id)
            ).scalar_one()
        return dict(json.loads(text or "{}"))

    def payloads(self, job_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """The payloads of these jobs, by id (one query)."""
        stmt = sa.select(t.jobs.c.id, t.jobs.c.payload).where(t.jobs.c.id.in_(list(job_ids)))
        with self.engine.connect() as conn:
            return {int(i): dict(json.loads(text or "{}")) for i, text in conn.execute(stmt)}

    def _views(self, job_ids: Sequence[int]) -> list[JobView]:
        """These jobs, in the order given (one query)."""
        if not job_ids:
            return []
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.jobs).where(t.jobs.c.id.in_(list(job_ids))))
            found = {r["id"]: _view(r) for r in rows.mappings()}
        return [found[i] for i in job_ids if i in found]

    def subscribe(self, callback: JobCallback) -> Callable[[], None]:
        """Call ``callback(job)`` after each change made in this process (any thread)."""
        return self.changed.connect(callback)

    # -- user actions ----------------------------------------------------------------
    def cancel(self, job_id: int) -> bool:
        """Cancel a queued job (a running one stops after its current batch)."""
        return self._set_state(job_id, JobState.CANCELLED, only_from=ACTIVE_STATES)

    def retry(self, job_id: int) -> bool:
        """Queue a failed or cancelled job again, now, with refused items pending again."""
        with self._writes.begin() as conn:
            changed = conn.execute(
                sa.update(t.jobs)
                .where(
                    t.jobs.c.id == job_id,
                    t.jobs.c.state.in_([str(JobState.FAILED), str(JobState.CANCELLED)]),
                )
                .values(
                    state=str(JobState.QUEUED),
                    attempts=0,
                    next_attempt_at=utcnow(),
                    updated_at=utcnow(),
                    lease_owner="",
                    lease_until=None,
                )
            ).rowcount
            if changed:
                conn.execute(
                    sa.update(t.items)
                    .where(t.items.c.job_id == job_id, t.items.c.state == str(ItemState.REFUSED))
                    .values(state=str(ItemState.PENDING))
                )
        if changed:
            self._notify(job_id)
            self.queued.emit()
        return bool(changed)

    def remove_finished(self, older_than: dt.timedelta) -> int:
        """Forget done/cancelled jobs finished before ``now - older_than``."""
        cutoff = utcnow() - older_than
        with self._writes.begin() as conn:
            return int(
                conn.execute(
                    sa.delete(t.jobs).where(
                        t.jobs.c.state.in_([str(JobState.DONE), str(JobState.CANCELLED)]),
                        t.jobs.c.updated_at < cutoff,
                    )
                ).rowcount
            )

    # -- worker side -----------------------------------------------------------------
    def release_dead_owners(self) -> int:
        """Queue again the running jobs of dead processes of this host; returns how many."""
        host = self.owner.split(":", 1)[0]
        running = sa.select(t.jobs.c.id, t.jobs.c.lease_owner).where(
            t.jobs.c.state == str(JobState.RUNNING), t.jobs.c.lease_owner != self.owner
        )
        # Looked at without the write lock first: it is taken only when there is a job
        # of a dead process to release (this runs before every claim).
        with self.engine.connect() as conn:
            rows = conn.execute(running).all()
        dead = [(i, o) for i, o in rows if _dead_local_owner(o, host)]
        if not dead:
            return 0
        with self._writes.begin() as conn:
            released = 0
            for job_id, owner in dead:  # still that dead owner's (checked under the lock)
                released += conn.execute(
                    sa.update(t.jobs)
                    .where(
                        t.jobs.c.id == job_id,
                        t.jobs.c.lease_owner == owner,
                        t.jobs.c.state == str(JobState.RUNNING),
                    )
                    .values(state=str(JobState.QUEUED), lease_owner="", lease_until=None)
                ).rowcount
        if released:
            logger.info("re-queued %d sync job(s) of a process that died", released)
        return released

    def claim_next(
        self, *, kinds: Iterable[str] | None = None, busy_studies: Iterable[str] = ()
    ) -> JobView | None:
        """Take the oldest due job (queued and due, or running with an expired lease),
        skipping the studies in ``busy_studies`` (their jobs run in order, one at a time)."""
        self.release_dead_owners()
        now = utcnow()
        due = sa.or_(
            sa.and_(t.jobs.c.state == str(JobState.QUEUED), t.jobs.c.next_attempt_at <= now),
            sa.and_(t.jobs.c.state == str(JobState.RUNNING), t.jobs.c.lease_until < now),
        )
        stmt = sa.select(t.jobs.c.id).where(due).order_by(t.jobs.c.next_attempt_at, t.jobs.c.id)
        if kinds is not None:
            stmt = stmt.where(t.jobs.c.kind.in_(list(kinds)))
        busy = sorted(set(busy_studies) - {""})
        if busy:
            stmt = stmt.where(t.jobs.c.study_instance_uid.notin_(busy))
        # Looked at without the write lock first: an idle worker's look must not hold up
        # the writers (the archive's index writer, the other threads' settling).
        with self.engine.connect() as conn:
            if conn.execute(stmt.limit(1)).first() is None:
                return None
        with self._writes.begin() as conn:
            for job_id in conn.execute(stmt.limit(20)).scalars():
                claimed = self._take(conn, job_id, due, now)
                if claimed:
                    break
            else:
                return None
        self._notify(job_id)
        return self.job(job_id)

    def claim_batch(
        self, first: JobView, *, limit: int, busy_studies: Iterable[str] = (), share: int = 1
    ) -> list[JobView]:
        """Besides ``first`` (claimed), take up to ``limit`` more due queued jobs of its
        kind and target, oldest first, for one batched run.  A batch never takes a job
        ahead of an older job of its study and kind that it leaves (not due yet, or run
        elsewhere), and skips the studies in ``busy_studies``.

        ``share``: how many idle workers split the due studies; the batch takes the
        jobs of at most ``ceil(due studies / share)`` studies (``first``'s and the
        oldest others), so the other workers find studies of their own."""
        if limit <= 0:
            return []
        now = utcnow()
        due = sa.and_(t.jobs.c.state == str(JobState.QUEUED), t.jobs.c.next_attempt_at <= now)
        active = (
            sa.select(t.jobs.c.id, t.jobs.c.study_instance_uid, t.jobs.c.state,
                      t.jobs.c.next_attempt_at)
            .where(
                t.jobs.c.kind == first.kind, t.jobs.c.target == first.target,
                t.jobs.c.direction == str(first.direction),
                t.jobs.c.state.in_([str(s) for s in ACTIVE_STATES]), t.jobs.c.id != first.id,
            )
            .order_by(t.jobs.c.id)
            .limit(_ITEM_CHUNK)
        )  # fmt: skip
        taken: list[int] = []
        with self._writes.begin() as conn:
            candidates = _batch_candidates(conn.execute(active).all(), busy_studies, now)
            groups = list(dict.fromkeys([_group(first.id, first.study_instance_uid)]
                                        + [g for _i, g in candidates]))  # fmt: skip
            allowed = set(groups[: -(-len(groups) // max(1, share))])
            blocked: set[str] = set()
            for job_id, group in candidates:
                if len(taken) >= limit:
                    break
                if group not in allowed or group in blocked:
                    continue
                claimed = self._take(conn, job_id, due, now)
                if claimed:
                    taken.append(job_id)
                else:
                    blocked.add(group)  # taken elsewhere: its study's later jobs wait
        views = self._views(taken)
        for view in views:
            self._notify(view.id)
        return views

    def next_due_in(self) -> float | None:
        """Seconds until the next queued job is due (0 when one is due now; None when
        nothing is queued)."""
        with self.engine.connect() as conn:
            first = conn.execute(
                sa.select(sa.func.min(t.jobs.c.next_attempt_at)).where(
                    t.jobs.c.state == str(JobState.QUEUED)
                )
            ).scalar_one_or_none()
        if first is None:
            return None
        return max(0.0, (first - utcnow()).total_seconds())

    def renew(self, job_id: int) -> bool:
        """Extend our lease; False when the job is no longer ours (cancelled, taken)."""
        now = utcnow()
        with self._writes.begin() as conn:
            return bool(
                conn.execute(
                    sa.update(t.jobs)
                    .where(*self._running_here(job_id))
                    .values(lease_until=now + dt.timedelta(seconds=self.lease_s))
                ).rowcount
            )

    def record_items(
        self, job_id: int, sent: Iterable[str], refused: Iterable[tuple[str, str]] = ()
    ) -> None:
        """Mark confirmed instances sent and permanently refused ones refused."""
        self.record_batch({job_id: (list(sent), list(refused))})

    def record_batch(
        self, outcomes: Mapping[int, tuple[Sequence[str], Sequence[tuple[str, str]]]]
    ) -> None:
        """:meth:`record_items` for several jobs in one transaction: job id -> (sent
        instances, refused (instance, reason))."""
        with self._writes.begin() as conn:
            for job_id, (sent, refused) in outcomes.items():
                for i in range(0, len(sent), _ITEM_CHUNK):
                    conn.execute(
                        sa.update(t.items)
                        .where(
                            t.items.c.job_id == job_id,
                            t.items.c.sop_instance_uid.in_(list(sent[i : i + _ITEM_CHUNK])),
                        )
                        .values(state=str(ItemState.SENT))
                    )
                for uid, reason in refused:
                    conn.execute(
                        sa.update(t.items)
                        .where(t.items.c.job_id == job_id, t.items.c.sop_instance_uid == uid)
                        .values(state=str(ItemState.REFUSED), last_error=reason[:2000])
                    )
                self._refresh_counts(conn, job_id)
        for job_id in outcomes:
            self._notify(job_id)

    def add_items(self, job_id: int, uids: Iterable[str]) -> None:
        """Add instances found while running (e.g. a study's instances at send time)."""
        with self._writes.begin() as conn:
            known = set(
                conn.execute(
                    sa.select(t.items.c.sop_instance_uid).where(t.items.c.job_id == job_id)
                ).scalars()
            )
            self._add_items(conn, job_id, [u for u in dict.fromkeys(uids) if u not in known])
            self._refresh_counts(conn, job_id)

    @staticmethod
    def _refresh_counts(conn: Connection, job_id: int) -> None:
        counts: dict[str, int] = dict(
            conn.execute(
                sa.select(t.items.c.state, sa.func.count())
                .where(t.items.c.job_id == job_id)
                .group_by(t.items.c.state)
            ).all()
        )
        conn.execute(
            sa.update(t.jobs)
            .where(t.jobs.c.id == job_id)
            .values(
                total=sum(counts.values()),
                done=counts.get(str(ItemState.SENT), 0),
                failed=counts.get(str(ItemState.REFUSED), 0),
                updated_at=utcnow(),
            )
        )

    def progress(self, job_id: int, *, done: int, total: int) -> None:
        """Progress of a job without items (e.g. a retrieve)."""
        with self._writes.begin() as conn:
            conn.execute(
                sa.update(t.jobs)
                .where(t.jobs.c.id == job_id)
                .values(done=done, total=total, updated_at=utcnow())
            )
        self._notify(job_id)

    def finish(self, job_id: int, state: JobState, error: str = "") -> None:
        """End a run: done, failed (for good), or cancelled."""
        with self._writes.begin() as conn:
            conn.execute(self._finishing(job_id, state, error))
        self._notify(job_id)

    def postpone(self, job_id: int, delay_s: float, error: str) -> None:
        """Back to the queue after a transient failure; due again in ``delay_s``."""
        with self._writes.begin() as conn:
            conn.execute(self._postponing(job_id, delay_s, error))
        self._notify(job_id)

    def settle(self, ends: Sequence[tuple[int, JobState, str, float]]) -> None:
        """End several runs in one transaction: ``(job id, state, error, delay_s)``;
        QUEUED postpones by ``delay_s``, DONE or FAILED finishes.  A job cancelled
        meanwhile stays cancelled."""
        with self._writes.begin() as conn:
            for job_id, state, error, delay_s in ends:
                if state is JobState.QUEUED:
                    conn.execute(self._postponing(job_id, delay_s, error))
                else:
                    conn.execute(
                        self._finishing(job_id, state, error).where(
                            t.jobs.c.state != str(JobState.CANCELLED)
                        )
                    )
        for job_id, *_rest in ends:
            self._notify(job_id)

    def _finishing(self, job_id: int, state: JobState, error: str) -> sa.Update:
        return (
            sa.update(t.jobs)
            .where(t.jobs.c.id == job_id, t.jobs.c.lease_owner == self.owner)
            .values(
                state=str(state),
                last_error=error[:2000],
                lease_owner="",
                lease_until=None,
                updated_at=utcnow(),
            )
        )

    def _postponing(self, job_id: int, delay_s: float, error: str) -> sa.Update:
        now = utcnow()
        return (
            sa.update(t.jobs)
            .where(*self._running_here(job_id))
            .values(
                state=str(JobState.QUEUED),
                last_error=error[:2000],
                lease_owner="",
                lease_until=None,
                next_attempt_at=now + dt.timedelta(seconds=delay_s),
                updated_at=now,
            )
        )

    # -- internals -------------------------------------------------------------------
    def _set_state(self, job_id: int, state: JobState, *, only_from: Iterable[JobState]) -> bool:
        with self._writes.begin() as conn:
            changed = conn.execute(
                sa.update(t.jobs)
                .where(t.jobs.c.id == job_id, t.jobs.c.state.in_([str(s) for s in only_from]))
                .values(state=str(state), updated_at=utcnow())
            ).rowcount
        if changed:
            self._notify(job_id)
        return bool(changed)

    def _running_here(self, job_id: int) -> tuple[sa.ColumnElement[bool], ...]:
        """The job is running under this process's lease."""
        return (
            t.jobs.c.id == job_id,
            t.jobs.c.lease_owner == self.owner,
            t.jobs.c.state == str(JobState.RUNNING),
        )

    def _take(self, conn: Connection, job_id: int, due: Any, now: dt.datetime) -> bool:
        """Lease job `job_id` to this owner if it is still `due` (another owner may have
        taken it since it was read); one more attempt is counted."""
        taken = conn.execute(
            sa.update(t.jobs)
            .where(t.jobs.c.id == job_id, due)
            .values(
                state=str(JobState.RUNNING),
                lease_owner=self.owner,
                lease_until=now + dt.timedelta(seconds=self.lease_s),
                attempts=t.jobs.c.attempts + 1,
                updated_at=now,
            )
        ).rowcount
        return bool(taken)

    def _notify(self, job_id: int) -> None:
        if not len(self.changed):
            return  # nobody listens: spare the read
        view = self.job(job_id)
        if view is None:
            return
        self.changed.emit(view)


def _dead_local_owner(owner: str, host: str) -> bool:
    owner_host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if os.name != "posix" or owner_host != host or not pid_text.isdigit():
        return False  # (os.kill(pid, 0) would terminate the process on Windows)
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists but not ours to signal
        return False
    return False


def _group(job_id: int, study: str) -> str:
    """What a batch shares out: a study, or a job that belongs to none."""
    return study or f"#{job_id}"


def _batch_candidates(
    rows: Sequence[Any], busy_studies: Iterable[str], now: dt.datetime
) -> list[tuple[int, str]]:
    """(job id, group) of the active jobs ``rows`` (oldest first) a batch may take: due
    and queued, of a study not busy and with no older job left waiting."""
    blocked = set(busy_studies) - {""}
    found: list[tuple[int, str]] = []
    for job_id, study, state, next_at in rows:
        if study in blocked or state != str(JobState.QUEUED) or next_at > now:
            if study:
                blocked.add(study)  # its later jobs wait for this one
            continue
        found.append((job_id, _group(job_id, study)))
    return found


def _view(row: Any) -> JobView:
    return record_from_row(
        JobView, row, direction=Direction(row["direction"]), state=JobState(row["state"])
    )
