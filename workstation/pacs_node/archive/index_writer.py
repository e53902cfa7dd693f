"""The one writer of the index: group commit for stores, and serialized write calls.

Receivers on many threads hand in *prepared* instances (file already written and
fsynced in the store, directory entry too).  One thread takes whatever has queued up,
indexes the batch in one transaction and commits once, then completes every caller's
future.  A commit therefore costs one fsync for the whole group, which is what makes
durable C-STORE fast.  (Fsyncing the files' directories here, once per batch, was
tried: it serialises work the receiving threads otherwise overlap, and measured ~35 %
slower.)
"""

from __future__ import annotations

import dataclasses
import logging
import queue
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
from workstation.pacs_node.archive.indexing import (
    PostCommit,
    Prepared,
    _failure,
    finish_studies,
    index_batch,
    index_one,
)
from workstation.pacs_node.archive.results import StoreResult

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
    ) -> None:
        # Write transactions begin with BEGIN IMMEDIATE on SQLite (see database.py).
        self.engine = write_engine(engine)
        self.batch_size = max(1, batch_size)
        self.after_commit = after_commit
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="archive-writer", daemon=True)
        self._thread.start()

    # -- public -----------------------------------------------------------------------
    def submit(self, item: Prepared) -> Future[StoreResult]:
        future: Future[StoreResult] = Future()
        item.future = future
        self._queue.put(item)
        return future

    def call(self, fn: Callable[[Connection], Any]) -> Any:
        """Run ``fn(conn)`` in its own transaction on the writer thread; return its result."""
        task = _Call(fn)
        self._queue.put(task)
        return task.future.result()

    def stop(self) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout=60)

    # -- loop -------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            if isinstance(first, _Call):
                self._run_call(first)
                continue
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
            if stop_after:
                return

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
        except (SQLAlchemyError, OSError) as exc:
            logger.exception("index commit failed for a batch of %d instances", len(batch))
            post = PostCommit(remove_uuids=[item.file_uuid for item in batch])
            reason = _("The archive index could not be written: {error}").format(error=exc)
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

    def _index(self, batch: list[Prepared]) -> tuple[list[StoreResult], PostCommit]:
        post = PostCommit()
        try:
            with self.engine.begin() as conn:
                return index_batch(conn, batch, post), post
        except IntegrityError:
            # Another process stored some of these meanwhile: redo one by one.
            logger.info("batch of %d hit a concurrent insert; indexing one by one", len(batch))
        post = PostCommit()
        with self.engine.begin() as conn:
            touched: dict[int, Any] = {}
            results = [index_one(conn, item, post, touched, i) for i, item in enumerate(batch)]
            finish_studies(conn, touched, post)
        return results, post
