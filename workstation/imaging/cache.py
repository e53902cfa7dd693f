"""A memory-bounded LRU cache of decoded frames, shared by every loader of the app.

Entries are keyed by :class:`~workstation.imaging.frame.FrameRef`. The budget counts the
bytes of the pixel arrays; :class:`~workstation.imaging.errors.CannotDisplay` results
are cached too (they cost nothing and a broken frame should not be decoded twice).
A frame whose pixels are a view into a volume counts its slice bytes; the volume's
owner decides when the memory is released.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from workstation.imaging.errors import CannotDisplay
from workstation.imaging.frame import Frame, FrameRef

#: Default budget: room for a 1000-slice 512x512 CT as int16 with margin.
DEFAULT_BUDGET_BYTES = 1024 * 1024 * 1024

Result = Frame | CannotDisplay


class FrameCache:
    """LRU of decoded frames within ``budget_bytes``."""

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES) -> None:
        self.budget_bytes = int(budget_bytes)
        self._items: OrderedDict[FrameRef, Result] = OrderedDict()
        self._bytes = 0
        self._peak = 0
        self._lock = threading.Lock()

    @property
    def nbytes(self) -> int:
        return self._bytes

    @property
    def peak_bytes(self) -> int:
        return self._peak

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, ref: object) -> bool:
        return ref in self._items

    def get(self, ref: FrameRef) -> Result | None:
        """The cached result for `ref` (and mark it recently used), or None."""
        with self._lock:
            item = self._items.get(ref)
            if item is not None:
                self._items.move_to_end(ref)
            return item

    def peek(self, ref: FrameRef) -> Result | None:
        """Like :meth:`get` without touching the LRU order."""
        return self._items.get(ref)

    def put(self, ref: FrameRef, result: Result) -> list[FrameRef]:
        """Store `result`; returns the references evicted to stay within budget."""
        size = _size(result)
        with self._lock:
            old = self._items.pop(ref, None)
            if old is not None:
                self._bytes -= _size(old)
            self._items[ref] = result
            self._bytes += size
            evicted = []
            while self._bytes > self.budget_bytes and len(self._items) > 1:
                victim, item = self._items.popitem(last=False)
                if victim == ref:  # never evict what was just stored
                    self._items[victim] = item
                    self._items.move_to_end(victim, last=False)
                    break
                self._bytes -= _size(item)
                evicted.append(victim)
            self._peak = max(self._peak, self._bytes)
            return evicted

    def free_bytes(self) -> int:
        return max(0, self.budget_bytes - self._bytes)

    def discard(self, ref: FrameRef) -> None:
        with self._lock:
            item = self._items.pop(ref, None)
            if item is not None:
                self._bytes -= _size(item)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0


def _size(result: Result) -> int:
    return result.nbytes if isinstance(result, Frame) else 0
