"""Decoding lanes: worker processes (the decoders hold the GIL) plus one in-process lane.

A :class:`DecodePool` runs one thread per *lane*. A process lane owns one worker process
(``spawn``, safe beside Qt threads) and feeds it one frame at a time, so the job a worker
dies on is known exactly: that frame becomes a
:class:`~workstation.imaging.errors.CannotDisplay` and a fresh worker replaces the dead
one. A job that runs longer than ``job_timeout_s`` kills its worker the same way.

The in-process lane decodes in the calling process: urgent jobs (the first image of a
series comes back without a round trip) and "fast" jobs, uncompressed frames read
straight from disk, which the workers take as well (their pixels come back through
shared memory, see :mod:`workstation.imaging.transfer`). Compressed frames are left to
the workers, out of this process's GIL. If workers cannot be started at all, the
in-process lane takes every job, so images still appear.

Jobs are not queued in the pool: when a lane is free it asks the registered
:class:`JobSource` objects (series loaders, most recently active first) for their best
job *at that moment*, so a change of focus reorders everything not yet started.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import partial
from multiprocessing.connection import Connection, wait
from typing import Any, Protocol

from workstation.i18n import _, current_language, set_language
from workstation.imaging.errors import CannotDisplay
from workstation.imaging.frame import Frame, FrameRef
from workstation.imaging.memory import return_large_blocks_to_os
from workstation.imaging.transfer import PixelBlock, attach_block, send_result

logger = logging.getLogger(__name__)

Result = Frame | CannotDisplay

#: A worker that fails to start this many times in a row is given up on.
MAX_START_FAILURES = 3
#: How long a new worker may take to import the decoders and say it is ready.
WORKER_START_TIMEOUT_S = 60.0
_READY = "ready"
#: Jobs sent to one worker ahead of its results.
PIPELINE_DEPTH = 2


@dataclass(eq=False)
class DecodeJob:
    """One frame to decode, and where its result goes."""

    ref: FrameRef
    future: Future[Result] = field(default_factory=Future)
    fast: bool = False


class JobSource(Protocol):
    """Something that hands the pool its most urgent job (a series loader)."""

    def next_job(self, *, accept_fast: bool, accept_heavy: bool) -> DecodeJob | None:
        """The best job now, or None. Urgent jobs go to any lane; otherwise "fast" jobs
        (uncompressed frames) only if `accept_fast`, the others only if `accept_heavy`."""
        ...


class _AdHocSource:
    """Single decodes submitted with :meth:`DecodePool.submit` (highest priority)."""

    def __init__(self) -> None:
        self.jobs: deque[DecodeJob] = deque()
        self.lock = threading.Lock()

    def next_job(self, *, accept_fast: bool, accept_heavy: bool) -> DecodeJob | None:
        with self.lock:
            return self.jobs.popleft() if self.jobs else None


class DecodePool:
    """Worker processes and an in-process lane that decode frames for job sources.

    Parameters
    ----------
    processes : int, optional
        Worker processes (default: CPU count, at least 1; 0 for in-process only).
    in_process_lane : bool
        Also decode urgent and fast jobs in this process.
    job_timeout_s : float
        A worker busy longer than this on one frame is killed and replaced.
    niceness : int
        Added to each worker process's niceness when it starts (POSIX; replaced workers
        too), so background decoding yields the cores to whoever draws the screen.
    """

    def __init__(
        self,
        processes: int | None = None,
        *,
        in_process_lane: bool = True,
        job_timeout_s: float = 60.0,
        niceness: int = 0,
    ) -> None:
        self.processes = max(1, os.cpu_count() or 1) if processes is None else max(0, processes)
        self.in_process_lane = in_process_lane or self.processes == 0
        self.job_timeout_s = job_timeout_s
        self.niceness = niceness
        self._cond = threading.Condition()
        self._sources: list[JobSource] = []
        self._adhoc = _AdHocSource()
        self._closed = False
        self._started = False
        self._lanes: list[_Lane] = []
        self._broken_workers = 0
        self.restarts = 0

    # ----- life cycle ---------------------------------------------------------------
    def start(self) -> DecodePool:
        """Start the lanes (idempotent); worker processes spawn in the background.

        Also makes freed frame memory go back to the system
        (:func:`~workstation.imaging.memory.return_large_blocks_to_os`)."""
        with self._cond:
            if self._started:
                return self
            self._started = True
        return_large_blocks_to_os()
        language = current_language()
        for i in range(self.processes):
            self._lanes.append(_ProcessLane(self, i, language))
        if self.in_process_lane:
            self._lanes.append(_ThreadLane(self))
        for lane in self._lanes:
            lane.start()
        return self

    def wait_ready(self, timeout: float = 30.0) -> bool:
        """Block until every worker process has started (for benchmarks and tests)."""
        deadline = time.monotonic() + timeout
        for lane in self._lanes:
            if isinstance(lane, _ProcessLane) and not lane.ready.wait(
                max(0.0, deadline - time.monotonic())
            ):
                return False
        return True

    def close(self) -> None:
        """Stop the lanes and worker processes; pending futures are left unresolved."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        for lane in self._lanes:
            lane.join(timeout=5)
        for lane in self._lanes:
            if isinstance(lane, _ProcessLane):
                lane.stop_worker()

    def __enter__(self) -> DecodePool:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def worker_pids(self) -> list[int]:
        return [lane.pid for lane in self._lanes if isinstance(lane, _ProcessLane) and lane.pid]

    @property
    def processes_usable(self) -> bool:
        return self.processes > 0 and self._broken_workers < self.processes

    # ----- sources and jobs ---------------------------------------------------------
    def attach(self, source: JobSource) -> None:
        """Register `source` as the most recently active one."""
        with self._cond:
            if source in self._sources:
                self._sources.remove(source)
            self._sources.insert(0, source)
            self._cond.notify_all()

    def detach(self, source: JobSource) -> None:
        with self._cond:
            if source in self._sources:
                self._sources.remove(source)

    def wake(self) -> None:
        """Tell idle lanes that a source has new work."""
        with self._cond:
            self._cond.notify_all()

    def submit(self, ref: FrameRef) -> Future[Result]:
        """Decode one frame ahead of all loaders' work."""
        job = DecodeJob(ref)
        with self._adhoc.lock:
            self._adhoc.jobs.append(job)
        self.wake()
        return job.future

    def _take(self, *, in_process: bool, block: bool = True) -> DecodeJob | None:
        """The next job for this lane; waits for one if `block`. None once closed."""
        with self._cond:
            while not self._closed:
                # Every lane reads uncompressed frames (a worker's come back through shared
                # memory for ~0.2 ms); compressed ones stay out of this process's GIL.
                accept_fast = True
                accept_heavy = not in_process or not self.processes_usable
                for source in [self._adhoc, *self._sources]:
                    job = source.next_job(accept_fast=accept_fast, accept_heavy=accept_heavy)
                    if job is not None:
                        return job
                if not block:
                    return None
                self._cond.wait(timeout=1.0)
            return None

    @property
    def closed(self) -> bool:
        return self._closed

    def _requeue(self, job: DecodeJob) -> None:
        with self._adhoc.lock:
            self._adhoc.jobs.appendleft(job)
        self.wake()

    def _worker_broke(self) -> None:
        with self._cond:
            self._broken_workers += 1
            self._cond.notify_all()


class _Lane(threading.Thread):
    def __init__(self, pool: DecodePool, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.pool = pool


class _ThreadLane(_Lane):
    def __init__(self, pool: DecodePool) -> None:
        super().__init__(pool, "decode-inprocess")
        from workstation.imaging.header import HeaderCache

        self.headers = HeaderCache(16)

    def run(self) -> None:
        from workstation.imaging.decode import decode_frame

        warm_up()
        while (job := self.pool._take(in_process=True)) is not None:
            _resolve(job, partial(decode_frame, job.ref.path, job.ref.frame, headers=self.headers))


class _ProcessLane(_Lane):
    """One worker process, kept busy with up to :data:`PIPELINE_DEPTH` jobs.

    The next job is sent before the current result is back, so the worker never waits
    for this process to be scheduled (that wait cost seconds per series on a busy
    machine). Each job in flight has its own shared-memory block. When the worker dies
    the oldest job in flight is the one it died on; the others go back to the queue.
    """

    def __init__(self, pool: DecodePool, index: int, language: str) -> None:
        super().__init__(pool, f"decode-worker-{index}")
        self.language = language
        self.ready = threading.Event()
        self._process: Any = None
        self._conn: Connection | None = None
        self._start_failures = 0
        self._blocks = [PixelBlock() for _ in range(PIPELINE_DEPTH)]
        self._inflight: deque[tuple[DecodeJob, int]] = deque()
        self._head_since = 0.0

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def run(self) -> None:
        try:
            while self._start_failures < MAX_START_FAILURES and not self._ensure_worker():
                pass
            self.ready.set()
            if self._start_failures >= MAX_START_FAILURES:
                return
            while self._fill() or self._inflight:
                if self._inflight:
                    self._collect()
        finally:
            self.ready.set()
            for job, _block in self._inflight:
                self.pool._requeue(job)
            self._inflight.clear()
            self.stop_worker()
            for block in self._blocks:
                block.close()

    def _fill(self) -> bool:
        """Send jobs until the pipeline is full; False once the pool is closed."""
        while len(self._inflight) < PIPELINE_DEPTH:
            job = self.pool._take(in_process=False, block=not self._inflight)
            if job is None:
                return not self.pool.closed
            if job.future.cancelled():
                continue
            if not self._ensure_worker():
                self.pool._requeue(job)  # another lane (in-process at worst) takes it
                return self._start_failures < MAX_START_FAILURES
            busy = {b for _j, b in self._inflight}
            block = next(i for i in range(PIPELINE_DEPTH) if i not in busy)
            try:
                assert self._conn is not None
                self._conn.send((job.ref.path, job.ref.frame, self._blocks[block].name))
            except (OSError, ValueError):
                self.pool._requeue(job)
                return True  # _collect notices the dead worker
            if not self._inflight:
                self._head_since = time.monotonic()
            self._inflight.append((job, block))
        return True

    def _collect(self) -> None:
        """Wait for the oldest job's result (or the worker's death) and settle it."""
        assert self._conn is not None and self._process is not None
        timeout = max(0.0, self._head_since + self.pool.job_timeout_s - time.monotonic())
        ready: list[Any] = []
        try:
            ready = wait([self._conn, self._process.sentinel], timeout=timeout)
            if self._conn in ready:
                message = self._conn.recv()
                job, block = self._inflight.popleft()
                _settle(job, partial(self._blocks[block].receive, message))
                self._head_since = time.monotonic()
                return
        except (EOFError, OSError):
            ready = ready or [self._process.sentinel]  # the pipe broke: the worker is gone
        self._worker_lost(timed_out=not ready)

    def _worker_lost(self, *, timed_out: bool) -> None:
        assert self._process is not None
        self._process.join(timeout=0 if timed_out else 1)
        exitcode = self._process.exitcode
        job, _block = self._inflight.popleft()
        for other, _b in self._inflight:
            self.pool._requeue(other)
        self._inflight.clear()
        logger.warning(
            "decode worker %s on frame %d of %s; replacing it",
            "timed out" if timed_out else "died",
            job.ref.frame,
            os.path.basename(job.ref.path),
        )
        self.pool.restarts += 1
        self.stop_worker()
        if timed_out:
            result = CannotDisplay(
                _("Decoding this image took too long and was stopped."),
                f"timeout {self.pool.job_timeout_s}s",
            )
        else:
            result = CannotDisplay(
                _("The image decoder crashed on this image."), f"exit code {exitcode}"
            )
        _settle(job, partial(_same, result))

    def _ensure_worker(self) -> bool:
        """A live, ready worker process; False (and counted) when one cannot be started."""
        if self._process is not None and self._process.is_alive():
            return True
        self.stop_worker()
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe(duplex=True)
        process = ctx.Process(
            target=worker_main,
            args=(child, self.language, [b.name for b in self._blocks], self.pool.niceness),
            name=self.name,
            daemon=True,
        )
        try:
            process.start()
            child.close()
            started = parent.poll(WORKER_START_TIMEOUT_S) and parent.recv() == _READY
        except (OSError, EOFError):
            logger.exception("cannot start a decode worker")
            started = False
        if not started:
            parent.close()
            if process.is_alive():
                process.kill()
            self._start_failures += 1
            if self._start_failures >= MAX_START_FAILURES:
                logger.error("decode workers cannot be started; decoding continues in-process")
                self.pool._worker_broke()
            return False
        self._start_failures = 0
        self._process, self._conn = process, parent
        return True

    def stop_worker(self) -> None:
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            try:
                conn.send(None)
            except (OSError, ValueError):
                pass
            conn.close()
        if process is not None:
            process.join(timeout=2)
            if process.is_alive():
                process.kill()
                process.join(timeout=2)


def _resolve(job: DecodeJob, run: Callable[[], Result]) -> None:
    """Run `run` and give its result (or a CannotDisplay for anything it raised) to `job`."""
    if job.future.cancelled():
        return
    try:
        result = run()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # a lane must survive anything a job throws
        logger.exception("decode job failed unexpectedly")
        result = CannotDisplay(_("The image data cannot be decoded."), repr(exc)[:300])
    if not job.future.done():
        job.future.set_result(result)


_settle = _resolve


def _same(result: Result) -> Result:
    return result


def warm_up() -> None:
    """Import the decoders now, so the first image does not pay for it."""
    import importlib

    for name in (
        "pydicom.pixels",
        "pydicom.pixels.decoders.pylibjpeg",
        "libjpeg",
        "openjpeg",
        "rle",
    ):
        try:
            importlib.import_module(name)
        except ImportError:
            logger.debug("decoder module %s not available", name)


def worker_main(
    conn: Connection, language: str, blocks: list[str | None] | None = None, niceness: int = 0
) -> None:
    """Entry point of a worker process: decode (path, frame, block) requests until told
    to stop; pixels go back through the named shared block when there is one."""
    from workstation.imaging.decode import decode_frame
    from workstation.imaging.header import HeaderCache

    if niceness and hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(niceness)  # raising it needs no privilege
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    set_language(language)
    return_large_blocks_to_os()
    warm_up()
    headers = HeaderCache(16)
    attached = {name: attach_block(name) for name in blocks or () if name}
    conn.send(_READY)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            break
        if message is None:
            break
        path, frame, block = message
        send_result(conn, decode_frame(path, frame, headers=headers), attached.get(block))
    for shm in attached.values():
        if shm is not None:
            shm.close()
