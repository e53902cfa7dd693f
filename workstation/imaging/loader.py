"""Progressive loading of one series: the focus frame first, then the rest nearest first.

A :class:`SeriesLoader` is a :class:`~workstation.imaging.pool.JobSource`: the pool's
lanes ask it for its best job whenever they are free, so moving the focus (the slice on
screen) reorders all work not yet started. Results go into the shared
:class:`~workstation.imaging.cache.FrameCache` and to the ``on_frame`` callback, which
runs on a decoding thread: a Qt view must re-emit it as a signal.

When the series needs more memory than the cache budget allows, only the frames nearest
the focus (as many as fit in 90 % of the budget) are decoded; moving the focus fetches
the new neighbourhood.
"""

from __future__ import annotations

import heapq
import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from functools import partial

import numpy as np

from workstation.i18n import _
from workstation.imaging.cache import FrameCache
from workstation.imaging.errors import CannotDisplay
from workstation.imaging.frame import Frame, FrameRef
from workstation.imaging.header import NATIVE_LITTLE_ENDIAN
from workstation.imaging.pool import DecodeJob, DecodePool
from workstation.imaging.volume import Volume, assemble_volume

logger = logging.getLogger(__name__)

Result = Frame | CannotDisplay
FrameCallback = Callable[[int, Result], None]

#: Share of the cache budget one loader may fill ahead of the viewer.
PREFETCH_SHARE = 0.9


class SeriesLoader:
    """Decode the frames of one series for display, focus first.

    Parameters
    ----------
    refs : sequence of FrameRef
        The frames in display order (e.g. by Instance Number or position).
    pool : DecodePool
        Started pool shared by the application.
    cache : FrameCache
        Shared cache; already cached frames are not decoded again.
    focus : int
        Index decoded first.
    on_frame : callable(index, Frame | CannotDisplay), optional
        Called once per frame as it arrives, on a decoding thread.
    on_finished : callable(), optional
        Called when every wanted frame has arrived.
    """

    def __init__(
        self,
        refs: Sequence[FrameRef],
        pool: DecodePool,
        cache: FrameCache,
        *,
        focus: int = 0,
        on_frame: FrameCallback | None = None,
        on_finished: Callable[[], None] | None = None,
    ) -> None:
        self.refs = tuple(refs)
        self.pool = pool
        self.cache = cache
        self.on_frame = on_frame
        self.on_finished = on_finished
        self._lock = threading.Lock()
        self._focus = min(max(focus, 0), max(len(self.refs) - 1, 0))
        self._heap: list[tuple[int, int]] = []
        self._pending: set[int] = set()
        self._inflight: set[int] = set()
        self._done: set[int] = set()
        self._urgent: deque[int] = deque()
        self._futures: dict[int, Future[Result]] = {}
        self._fast: bool | None = None
        self._capacity = len(self.refs)
        self._cancelled = False
        self._finished = threading.Event()
        self._index_of = {ref: i for i, ref in enumerate(self.refs)}

    # ----- public -------------------------------------------------------------------
    @property
    def total(self) -> int:
        return len(self.refs)

    @property
    def decoded(self) -> int:
        return len(self._done)

    @property
    def focus(self) -> int:
        return self._focus

    def start(self) -> SeriesLoader:
        """Queue the focus frame first and the others after it; returns self."""
        cached: list[tuple[int, Result]] = []
        with self._lock:
            for i, ref in enumerate(self.refs):
                hit = self.cache.peek(ref)
                if hit is not None:
                    self._done.add(i)
                    cached.append((i, hit))
                else:
                    self._pending.add(i)
            if self._focus in self._pending:
                self._urgent.append(self._focus)
            self._rebuild_heap()
        self.pool.attach(self)
        for i, hit in cached:
            self._emit(i, hit)
        self._check_finished()
        return self

    def get(self, index: int) -> Result | None:
        """The frame at `index` if decoded (marks it recently used), else None."""
        return self.cache.get(self.refs[index])

    def request(self, index: int) -> Future[Result]:
        """A future for the frame at `index`, decoded before anything else if needed."""
        hit = self.cache.get(self.refs[index])
        future: Future[Result] = Future()
        if hit is not None:
            future.set_result(hit)
            return future
        with self._lock:
            existing = self._futures.get(index)
            if existing is not None:
                return existing
            self._futures[index] = future
            self._finished.clear()
            if index not in self._inflight:
                self._pending.add(index)
                self._done.discard(index)
                self._urgent.appendleft(index)
        self.pool.attach(self)
        return future

    def set_focus(self, index: int) -> None:
        """Make `index` the centre of decoding order (the slice on screen)."""
        with self._lock:
            self._focus = min(max(index, 0), len(self.refs) - 1)
            self._refresh_window()
            self._rebuild_heap()
        self.pool.attach(self)
        self._check_finished()

    def cancel(self) -> None:
        """Stop decoding for this series; frames in flight still land in the cache."""
        with self._lock:
            self._cancelled = True
            self._pending.clear()
            self._heap.clear()
            self._urgent.clear()
            futures = list(self._futures.values())
            self._futures.clear()
        self.pool.detach(self)
        for future in futures:
            future.cancel()
        self._finished.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every wanted frame has arrived (or the loader was cancelled)."""
        return self._finished.wait(timeout)

    def results(self) -> list[Result | None]:
        """The cached result of every frame, None where not (or no longer) decoded."""
        return [self.cache.peek(ref) for ref in self.refs]

    def assemble_volume(self, timeout: float | None = None) -> Volume | CannotDisplay:
        """Wait for all frames and stack them into a :class:`Volume` held once.

        Cache entries are swapped for views into the volume where the voxels equal the
        frame's modality values, so the series does not sit in memory twice.
        """
        if self._capacity < len(self.refs):
            return CannotDisplay(_("This series is larger than the image memory budget allows."))
        if not self.wait(timeout):
            return CannotDisplay(_("The series is still loading."))
        frames: list[Frame] = []
        for i, result in enumerate(self.results()):
            if result is None:
                result = self.request(i).result(timeout)
            if isinstance(result, CannotDisplay):
                return CannotDisplay(
                    _("Slice {n} cannot be displayed: {reason}").format(
                        n=i + 1, reason=result.reason
                    )
                )
            frames.append(result)
        volume = assemble_volume(
            frames, on_slice=lambda i, _k, view: self._adopt(i, frames[i], view)
        )
        return volume

    # ----- JobSource ----------------------------------------------------------------
    def next_job(self, *, accept_fast: bool, accept_heavy: bool) -> DecodeJob | None:
        with self._lock:
            if self._cancelled:
                return None
            while self._urgent:
                index = self._urgent.popleft()
                if index in self._pending:
                    return self._dispatch(index)
            if self._fast is None and self._inflight:
                return None  # the first image gets the machine to itself
            if not (accept_fast if self._fast else accept_heavy):
                return None
            while self._heap:
                _distance, index = heapq.heappop(self._heap)
                if index in self._pending:
                    return self._dispatch(index)
            return None

    # ----- internals ----------------------------------------------------------------
    def _dispatch(self, index: int) -> DecodeJob:
        self._pending.discard(index)
        self._inflight.add(index)
        job = DecodeJob(self.refs[index], fast=bool(self._fast))
        job.future.add_done_callback(partial(self._on_done, index))
        return job

    def _on_done(self, index: int, future: Future[Result]) -> None:
        if future.cancelled():
            return
        result = future.result()
        evicted = self.cache.put(self.refs[index], result)
        learned = False
        with self._lock:
            self._inflight.discard(index)
            self._done.add(index)
            for ref in evicted:
                j = self._index_of.get(ref)
                if j is not None:
                    self._done.discard(j)
            if self._fast is None:
                learned = self._learn(result)
            waiter = self._futures.pop(index, None)
            cancelled = self._cancelled
        if waiter is not None and not waiter.done():
            waiter.set_result(result)
        if learned:
            self.pool.wake()
        if not cancelled:
            self._emit(index, result)
            self._check_finished()

    def _learn(self, frame: Result) -> bool:
        """From the first frame: is the series fast-path, and how many frames fit?"""
        if not isinstance(frame, Frame):
            self._fast = False
            return True
        self._fast = frame.info.transfer_syntax in NATIVE_LITTLE_ENDIAN and not frame.is_color
        if frame.nbytes > 0:
            self._capacity = max(1, int(self.cache.budget_bytes * PREFETCH_SHARE) // frame.nbytes)
            if self._capacity < len(self.refs):
                logger.info(
                    "series exceeds the cache budget; prefetching %d frames", self._capacity
                )
                self._refresh_window()
                self._rebuild_heap()
        return True

    def _wanted(self) -> set[int]:
        if self._capacity >= len(self.refs):
            return set(range(len(self.refs)))
        order = sorted(range(len(self.refs)), key=lambda i: abs(i - self._focus))
        return set(order[: self._capacity])

    def _refresh_window(self) -> None:
        wanted = self._wanted()
        self._pending = {i for i in wanted if i not in self._done and i not in self._inflight} | {
            i for i in self._futures if i not in self._inflight
        }
        self._finished.clear()

    def _rebuild_heap(self) -> None:
        self._heap = [(abs(i - self._focus), i) for i in self._pending]
        heapq.heapify(self._heap)

    def _emit(self, index: int, result: Result) -> None:
        if self.on_frame is None:
            return
        try:
            self.on_frame(index, result)
        except Exception:  # a broken callback must not stop decoding
            logger.exception("on_frame callback failed")

    def _check_finished(self) -> None:
        with self._lock:
            done = not self._pending and not self._inflight
            already = self._finished.is_set()
            if done:
                self._finished.set()
        if done:
            self.pool.detach(self)  # idle: lanes need not ask us
            with self._lock:
                revived = bool(self._pending)  # a request() raced with us
            if revived:
                self.pool.attach(self)
        if done and not already and self.on_finished is not None:
            try:
                self.on_finished()
            except Exception:
                logger.exception("on_finished callback failed")

    def _adopt(self, index: int, frame: Frame, view: np.ndarray) -> None:
        self.cache.put(self.refs[index], Frame(frame.info, view, modality_applied=True))
