"""Memory for pixels: freed frames go back to the system, big arrays arrive populated.

glibc raises its mmap threshold each time a large block is freed, so after a series has
been loaded, later half-megabyte frames come from the heap and, once freed, stay in the
process: the resident size after swapping cached frames for a volume would be twice the
series. Fixing the threshold makes every block of at least ``threshold`` bytes its own
mapping, returned to the system the moment its array is freed. Other platforms and C
libraries are left alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import mmap
import sys
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
#: Frames of 256x256 int16 and larger get their own mapping.
DEFAULT_THRESHOLD = 128 * 1024
_done = False


def return_large_blocks_to_os(threshold: int = DEFAULT_THRESHOLD) -> bool:
    """Fix glibc's mmap threshold at `threshold` bytes; True if it took effect."""
    global _done
    if _done or not sys.platform.startswith("linux"):
        return _done
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    ok = bool(mallopt(_M_MMAP_THRESHOLD, threshold)) and bool(
        mallopt(_M_TRIM_THRESHOLD, 4 * threshold)
    )
    _done = ok
    logger.debug("glibc mmap threshold fixed at %d bytes: %s", threshold, ok)
    return ok


def populated_empty(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """An uninitialised array whose pages are mapped up front (Linux ``MAP_POPULATE``).

    Filling a fresh 250 MB array page fault by page fault costs about five times the
    copy itself on these machines; one populated mapping avoids that. The memory goes
    back to the system when the array is freed. Elsewhere: ``np.empty``.
    """
    dt = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dt.itemsize
    populate = getattr(mmap, "MAP_POPULATE", 0)
    if not populate or nbytes < DEFAULT_THRESHOLD:
        return np.empty(shape, dtype=dt)
    try:
        block = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | populate)
    except (OSError, ValueError):
        return np.empty(shape, dtype=dt)
    return np.frombuffer(block, dtype=dt).reshape(shape)
