"""Run one fuzz example and check it stayed within its memory and error contract."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

#: Failures no reader may ever let out, whatever the input.
FORBIDDEN = (MemoryError, RecursionError, IndexError, KeyError, AttributeError, TypeError)


def within_memory(fn: Callable[[], T], max_peak_bytes: int) -> T:
    """Call ``fn`` and assert that Python allocations peaked below ``max_peak_bytes``.

    (tracemalloc sees every allocation made through Python's allocators, bytes and
    bytearray buffers included: an input that makes a reader allocate what a length
    field claims shows up here long before it exhausts the machine.)
    """
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    try:
        return fn()
    finally:
        peak = tracemalloc.get_traced_memory()[1] - base
        if started:
            tracemalloc.stop()
        assert peak <= max_peak_bytes, f"allocated {peak} bytes, budget {max_peak_bytes}"
