"""Import worker processes: read + parse + write in parallel on every core.

Header parsing is Python under the GIL; threads alone keep one core busy.  For larger
imports the pipeline hands plain files, in small chunks, to a pool of *spawned* worker
processes.  Each worker holds its own :class:`~workstation.pacs_node.archive.ingest.Preparer`
(its own pending log, see blobstore) and a few threads so that fsyncs overlap.  Workers
return prepared instances; only the importing process's writer thread touches the index.

A worker dies with its parent (Linux: ``PR_SET_PDEATHSIG``; elsewhere a watchdog thread
polls the parent), so a killed import leaves no worker holding a pending log.
"""

from __future__ import annotations

import atexit
import ctypes
import logging
import os
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from workstation.config import Settings
from workstation.pacs_node.archive.indexing import Prepared
from workstation.pacs_node.archive.results import StoreResult

logger = logging.getLogger(__name__)

_state: dict[str, object] = {}
THREADS_PER_WORKER = 4


def _die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except OSError:
            pass
        if os.getppid() != parent:
            os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def init_worker(settings: Settings, parent: int) -> None:
    """Process-pool initializer: a Preparer of our own."""
    _die_with_parent(parent)
    from workstation.pacs_node.archive.database import make_engine
    from workstation.pacs_node.archive.ingest import Preparer

    engine = make_engine(
        settings.database_url, sqlite_synchronous=settings.archive.sqlite_synchronous
    )
    preparer = Preparer(settings, engine)
    _state["preparer"] = preparer
    _state["pool"] = ThreadPoolExecutor(THREADS_PER_WORKER)
    _state["limit"] = settings.import_.max_file_bytes
    atexit.register(preparer.close)


def _prepare_one(
    path: str, origin: str, source: str, quarantine: bool | None
) -> tuple[Prepared | StoreResult, int]:
    from workstation.i18n import _
    from workstation.pacs_node.archive.ingest import Preparer
    from workstation.pacs_node.archive.results import StoreStatus

    preparer = _state["preparer"]
    assert isinstance(preparer, Preparer)
    limit = int(_state["limit"])  # type: ignore[call-overload]
    try:
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        reason = _("The file could not be read: {error}").format(error=exc.strerror or exc)
        return StoreResult(StoreStatus.FAILURE, reason=reason), 0
    if len(data) > limit:
        reason = _("The file is larger than the import limit ({limit} bytes).").format(limit=limit)
        return StoreResult(StoreStatus.REJECTED, reason=reason), 0
    return preparer.prepare(data, source, "", origin, quarantine), len(data)


def prepare_chunk(
    chunk: list[tuple[str, str, bool | None]], source: str
) -> list[tuple[Prepared | StoreResult, int]]:
    """Prepare files ``[(path, origin, quarantine), ...]`` on this worker's threads."""
    pool = _state["pool"]
    assert isinstance(pool, ThreadPoolExecutor)
    futures = [pool.submit(_prepare_one, p, o, source, q) for p, o, q in chunk]
    return [f.result() for f in futures]


def start_pool(settings: Settings, processes: int):  # type: ignore[no-untyped-def]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(
        max_workers=processes,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=init_worker,
        initargs=(settings, os.getpid()),
    )


__all__ = ["Path", "prepare_chunk", "start_pool"]
