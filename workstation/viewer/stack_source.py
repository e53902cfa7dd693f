"""A :class:`~workstation.viewer.frames.FrameSource` decoding in one background thread.

The first frame is decoded first; after that the undecoded frame nearest the current one.
Decoded frames are kept up to a memory budget; past it the frames farthest from the
current one are dropped (and decoded again when the user comes back).  This is the
viewer's fallback; the imaging package's process-pool loader replaces it when available.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from workstation.imaging.frame import FrameRef
from workstation.viewer import fallback_decode
from workstation.viewer.catalog import InstanceEntry, sort_instances
from workstation.viewer.frames import (
    DisplayFrame,
    FrameGeometry,
    FrameListener,
    FrameSlot,
    SeriesHeader,
    error_frame,
)

logger = logging.getLogger(__name__)

DEFAULT_MEMORY_BYTES = 2 * 1024**3


def _ref_geometry(e: InstanceEntry) -> FrameGeometry | None:
    if not (e.image_position and e.image_orientation):
        return None
    return FrameGeometry(
        rows=0,
        columns=0,
        image_position=tuple(e.image_position),  # type: ignore[arg-type]
        image_orientation=tuple(e.image_orientation),  # type: ignore[arg-type]
    )


def frame_slots(entries: list[InstanceEntry], *, reverse: bool = False) -> list[FrameSlot]:
    """One slot per frame, in display order."""
    slots = []
    for e in sort_instances(entries, reverse=reverse):
        n = max(1, e.number_of_frames or 1)
        geom = _ref_geometry(e) if n == 1 else None
        for f in range(n):
            slots.append(
                FrameSlot(FrameRef.of(e.path, f), e.sop_instance_uid, e.instance_number, geom)
            )
    return slots


class StackSource:
    def __init__(
        self,
        entries: list[InstanceEntry],
        *,
        series_uid: str = "",
        memory_bytes: int = DEFAULT_MEMORY_BYTES,
        read: Callable[[Any], Any] | None = None,
        on_frame: FrameListener | None = None,
        focus: int = 0,
        reverse: bool = False,
    ) -> None:
        self._refs = frame_slots(entries, reverse=reverse)
        self.header = SeriesHeader(series_instance_uid=series_uid)
        self._memory_bytes = memory_bytes
        self._read = read or _read_dataset
        self._frames: dict[int, DisplayFrame] = {}
        self._bytes = 0
        self._last_bytes = 0
        self._header_read = False
        self._current = max(0, min(focus, len(self._refs) - 1))
        self._listeners: list[FrameListener] = [on_frame] if on_frame is not None else []
        self._cond = threading.Condition()
        self._closed = False
        self._datasets: OrderedDict[str, Any] = OrderedDict()
        self._thread = threading.Thread(target=self._run, name="viewer-decode", daemon=True)
        self._thread.start()

    # FrameSource ----------------------------------------------------------
    def __len__(self) -> int:
        return len(self._refs)

    def ref(self, index: int) -> FrameSlot:
        return self._refs[index]

    def frame(self, index: int) -> DisplayFrame | None:
        with self._cond:
            return self._frames.get(index)

    def set_current(self, index: int) -> None:
        with self._cond:
            self._current = max(0, min(index, len(self._refs) - 1))
            self._cond.notify_all()

    def add_listener(self, listener: FrameListener) -> None:
        self._listeners.append(listener)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._frames.clear()
            self._datasets.clear()
            self._cond.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def decoded_count(self) -> int:
        with self._cond:
            return len(self._frames)

    # Worker ---------------------------------------------------------------
    def _next_index(self) -> int | None:
        n, cur = len(self._refs), self._current
        for d in range(n):
            for i in (cur - d, cur + d) if d else (cur,):
                if 0 <= i < n and i not in self._frames:
                    return i if self._worth_decoding(i) else None
        return None

    def _worth_decoding(self, index: int) -> bool:
        """Within budget, or nearer the current frame than the farthest one kept."""
        if self._bytes + self._last_bytes <= self._memory_bytes or not self._frames:
            return True
        far = max(self._frames, key=lambda i: abs(i - self._current))
        return abs(index - self._current) < abs(far - self._current)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed and self._next_index() is None:
                    self._cond.wait()
                if self._closed:
                    return
                index = self._next_index()
            assert index is not None
            frame = self._decode(index)
            with self._cond:
                if self._closed:
                    return
                self._store(index, frame)
            for listener in list(self._listeners):
                try:
                    listener(index)
                except Exception:
                    logger.exception("frame listener failed")

    def _store(self, index: int, frame: DisplayFrame) -> None:
        self._frames[index] = frame
        size = frame.values.nbytes if frame.values is not None else 0
        self._bytes += size
        self._last_bytes = max(self._last_bytes, size)
        while self._bytes > self._memory_bytes and len(self._frames) > 1:
            far = max(self._frames, key=lambda i: abs(i - self._current))
            dropped = self._frames.pop(far)
            self._bytes -= dropped.values.nbytes if dropped.values is not None else 0

    def _dataset(self, path: str) -> Any:
        ds = self._datasets.get(path)
        if ds is None:
            ds = self._read(path)
            self._datasets[path] = ds
            while len(self._datasets) > 2:
                self._datasets.popitem(last=False)
        return ds

    def _decode(self, index: int) -> DisplayFrame:
        slot = self._refs[index]
        try:
            ds = self._dataset(slot.ref.path)
        except Exception as exc:  # noqa: BLE001 - unreadable file: a tile, not a crash
            logger.warning(
                "instance %s cannot be read: %s", slot.sop_instance_uid, type(exc).__name__
            )
            logger.debug("read detail: %s", exc)
            return error_frame(slot, str(exc) or type(exc).__name__)
        if not self._header_read:
            self._header_read = True
            self.header = fallback_decode.series_header(ds)
        return fallback_decode.decode(ds, slot.frame_index)


def _read_dataset(path: Any) -> Any:
    import pydicom

    return pydicom.dcmread(path)
