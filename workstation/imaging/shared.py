"""The application's one decode pool and frame cache, and one-off decodes through them.

Every viewport, the viewer's series strip and the browser's thumbnails decode here: in
the pool's worker processes while it runs (so decoding does not take the GIL from the
screen), else in the calling thread. :func:`shutdown` stops the pool (the app calls it
at exit, and it is registered with :mod:`atexit`).
"""

from __future__ import annotations

import atexit
import os
import threading

from workstation.imaging.cache import FrameCache
from workstation.imaging.decode import decode_frame
from workstation.imaging.errors import CannotDisplay
from workstation.imaging.frame import Frame, FrameRef
from workstation.imaging.pool import DecodePool

#: Environment override of the decode worker count (0 = decode in-process only).
ENV_PROCESSES = "KLINIKA_DECODE_PROCESSES"
#: Niceness added to the decode worker processes.  Background decoding then yields the
#: cores to the screen while the user scrolls (2 cores, llvmpipe, 860x860, machine load
#: 3-9: 15-46 -> 33-58 images/s drawn while a 255-slice JPEG Lossless CT decodes behind;
#: the rest of the series then takes longer) and costs nothing while the machine is
#: otherwise idle.
WORKER_NICENESS = 10
#: How long a one-off decode may wait for the pool (a hostile file is cut off sooner).
DECODE_TIMEOUT_S = 60.0

_lock = threading.Lock()
_shared: tuple[DecodePool, FrameCache] | None = None


def shared_pool() -> tuple[DecodePool, FrameCache]:
    """The application's decode pool and frame cache (started on first use)."""
    global _shared
    with _lock:
        if _shared is None:
            processes = os.environ.get(ENV_PROCESSES)
            pool = DecodePool(
                int(processes) if processes else None, niceness=WORKER_NICENESS
            ).start()
            _shared = (pool, FrameCache())
        return _shared


def running() -> tuple[DecodePool, FrameCache] | None:
    """The pool and cache if they have been started, else None (nothing is started)."""
    with _lock:
        return _shared


def shutdown() -> None:
    """Stop the shared decode pool (idempotent)."""
    global _shared
    with _lock:
        shared, _shared = _shared, None
    if shared is not None:
        shared[0].close()
        shared[1].clear()


atexit.register(shutdown)


def decode(ref: FrameRef) -> Frame | CannotDisplay:
    """One frame, decoded by the running pool's workers, else here."""
    shared = running()
    if shared is None:
        return decode_frame(ref.path, ref.frame)
    return shared[0].submit(ref).result(timeout=DECODE_TIMEOUT_S)
