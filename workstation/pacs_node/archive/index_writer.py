"""The one writer of the index: group commit for stores, and serialized write calls.

Receivers on many threads hand in *prepared* instances: the file is written, and either
durable already (fsynced, directory entry too) or being fsynced by a helper thread
(``Prepared.durable``).  The index statements may run meanwhile, but every transaction
waits for its files' durability before it commits, so a row never becomes visible (or
durable) before its file.  One thread takes whatever has queued up,
indexes the batch in one transaction and commits once, then completes every caller's
future.  A commit therefore costs one fsync for the whole group, which is what makes
durable C-STORE fast.  (Fsyncing the files' directories here, once per batch, was
tried: it serialises work the receiving threads otherwise overlap, and measured ~35 %
slower.)

:meth:`IndexWriter.store` is the path of a caller that waits for its one instance (a
C-STORE: the sender waits for each answer).  When no transaction is running and nothing
is queued, the caller commits its instance itself, on its own thread - the same
transaction the writer thread would run, without two thread hand-offs (a measurable
part of one instance's latency).  Otherwise the instance joins the queue and the next
group commit.  One lock (``_commit_lock``) keeps every index transaction of this
process one at a time, whichever thread runs it.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from workstation.i18n import _
from workstation.pacs_node.archive.database import write_engine
from workstation.pacs_node.archive.disk_full import disk_full_reason, free_bytes, is_disk_full
from workstation.pacs_node.archive.indexing import (
    PostCommit,
    Prepared,
    _failure,
    finish_studies,
    index_batch,
    index_one,
)
from workstation.pacs_node.archive.results import StoreResult, StoreStatus

logger = logging.getLogger(__name__)

__all__ = ["IndexWriter", "PostCommit", "Prepared"]


@dataclass
class _Call:
    fn: Callable[[Connection], Any]
    future: Future[Any] = field(default_factory=Future)


_STOP = object()


class IndexWriter:
    def __init__(
        self,
        engine: Engine,
        *,
        batch_size: int,
        after_commit: Callable[[PostCommit], dict[int, Path]],
        store_root: Path | None = None,
    ) -> None:
        #: The store's folder: its free space is quoted when the disk is full.
        self.store_root = store_root
        # Write transactions begin with BEGIN IMMEDIATE on SQLite (see database.py).
        self.engine = write_engine(engine)
        self.batch_size = max(1, batch_size)
        self.after_commit = after_commit
        self._queue: queue.Queue[Any] = queue.Queue()
        #: Held while an index transaction runs (writer thread or an inline store).
        self._commit_lock = threading.Lock()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="archive-writer", daemon=True)
        self._thread.start()

    # -- public -----------------------------------------------------------------------
    def submit(self, item: Prepared) -> Future[StoreResult]:
        future: Future[StoreResult] = Future()
        item.future = future
        if self._stopped:  # a store that was under way when the archive closed
            with self._commit_lock:
                self._run_batch([item])
            return future
        self._queue.put(item)
        return future

    def store(self, item: Prepared) -> StoreResult:
        """Index one instance and wait until it is committed (see the module docstring)."""
        if self._commit_lock.acquire(blocking=False):
            try:
                if self._queue.empty():
                    item.future = Future()
                    self._run_batch([item])
                    return item.future.result()
            finally:
                self._commit_lock.release()
        return self.submit(item).result()

    def call(self, fn: Callable[[Connection], Any]) -> Any:
        """Run ``fn(conn)`` in its own transaction on the writer thread; return its result."""
        task = _Call(fn)
        self._queue.put(task)
        return task.future.result()

    def stop(self) -> None:
        self._stopped = True
        self._queue.put(_STOP)
        self._thread.join(timeout=60)
        # Anything that slipped in behind the stop marker is still answered.
        while True:
            try:
                left = self._queue.get_nowait()
            except queue.Empty:
                return
            with self._commit_lock:
                if isinstance(left, _Call):
                    self._run_call(left)
                elif left is not _STOP:
                    self._run_batch([left])

    # -- loop -------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            if isinstance(first, _Call):
                with self._commit_lock:
                    self._run_call(first)
                continue
            # Whatever queues up while an inline store commits joins this batch.
            with self._commit_lock:
                stop_after = self._drain_and_run(first)
            if stop_after:
                return

    def _drain_and_run(self, first: Prepared) -> bool:
        """Index ``first`` and what else is queued; True when a stop was among them."""
        batch = [first]
        stop_after = False
        pending_call: _Call | None = None
        while len(batch) < self.batch_size:
            try:
                nxt = self._queue.get_nowait()
            except queue.Empty:
                break
            if nxt is _STOP:
                stop_after = True
                break
            if isinstance(nxt, _Call):
                pending_call = nxt
                break
            batch.append(nxt)
        self._run_batch(batch)
        if pending_call is not None:
            self._run_call(pending_call)
        return stop_after

    def _run_call(self, task: _Call) -> None:
        try:
            with self.engine.begin() as conn:
                result = task.fn(conn)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            task.future.set_exception(exc)
        else:
            task.future.set_result(result)

    def _run_batch(self, batch: list[Prepared]) -> None:
        try:
            results, post = self._index(batch)
        except _NotDurable as exc:
            # Nothing was committed: fail the items whose file is not on disk, index the rest.
            logger.error("%d file(s) of a batch could not be made durable", len(exc.errors))
            for index, error in exc.errors.items():
                item = batch[index]
                self.after_commit(PostCommit(remove_uuids=[item.file_uuid]))
                if is_disk_full(error):
                    result = self._full(item)
                else:
                    reason = _("The file could not be written to the archive: {error}").format(
                        error=error.strerror or error
                    )
                    result = _failure(item, reason)
                assert item.future is not None
                item.future.set_result(result)
            rest = [item for i, item in enumerate(batch) if i not in exc.errors]
            if rest:
                self._run_batch(rest)
            return
        except (SQLAlchemyError, OSError, sqlite3.Error) as exc:
            # Nothing was committed: the batch's files go too (no file without its row).
            post = PostCommit(remove_uuids=[item.file_uuid for item in batch])
            if is_disk_full(exc):
                logger.error("index commit of %d instances failed: disk full", len(batch))
                results = [self._full(item) for item in batch]
            else:
                logger.exception("index commit failed for a batch of %d instances", len(batch))
                reason = _("The archive index could not be written ({error}).").format(
                    error=type(getattr(exc, "orig", None) or exc).__name__
                )
                results = [_failure(item, reason) for item in batch]
        try:
            moved = self.after_commit(post)
        except Exception:
            logger.exception("post-commit work failed")
            moved = {}
        for index, qpath in moved.items():
            results[index] = dataclasses.replace(results[index], quarantine_path=qpath)
        for item, result in zip(batch, results, strict=True):
            assert item.future is not None
            item.future.set_result(result)

    def _full(self, item: Prepared) -> StoreResult:
        free = free_bytes(self.store_root) if self.store_root is not None else -1
        reason = disk_full_reason(free)
        return dataclasses.replace(_failure(item, reason), status=StoreStatus.STORAGE_FULL)

    def _index(self, batch: list[Prepared]) -> tuple[list[StoreResult], PostCommit]:
        post = PostCommit()
        try:
            with self.engine.begin() as conn:
                results = index_batch(conn, batch, post)
                _await_files(batch)  # the rows become visible at commit, after their files
                return results, post
        except IntegrityError:
            # Another process stored some of these meanwhile: redo one by one.
            logger.info("batch of %d hit a concurrent insert; indexing one by one", len(batch))
        post = PostCommit()
        with self.engine.begin() as conn:
            touched: dict[int, Any] = {}
            results = [index_one(conn, item, post, touched, i) for i, item in enumerate(batch)]
            finish_studies(conn, touched, post)
            _await_files(batch)
        return results, post


class _NotDurable(Exception):
    """Some files of a batch could not be fsynced: {index in batch: error}."""

    def __init__(self, errors: dict[int, OSError]) -> None:
        super().__init__(f"{len(errors)} file(s) not durable")
        self.errors = errors


def _await_files(batch: list[Prepared]) -> None:
    """Wait until every file of the batch is durable; raise _NotDurable if one is not.

    Called inside the index transaction, just before its commit: the statements ran
    while the files were being fsynced, and no row is visible before its file is durable.
    """
    errors: dict[int, OSError] = {}
    for index, item in enumerate(batch):
        if item.durable is None:
            continue
        try:
            item.durable.result()
        except OSError as exc:
            errors[index] = exc
    if errors:
        raise _NotDurable(errors)
