"""Decoded pixels from a worker process to this one through shared memory, not a pipe.

Each process lane owns one shared-memory block. The worker copies a decoded frame's
pixels into it and sends only the small :class:`~workstation.imaging.header.FrameInfo`
over the pipe; this process copies the pixels out into a fresh array before giving the
worker its next job. That is one memcpy on each side instead of pickling, a pipe write,
a pipe read and unpickling (about 1.5 ms of this process's CPU per 512x512 frame).
Frames larger than the block (or a block that cannot be made) go through the pipe.
"""

from __future__ import annotations

import logging
from multiprocessing import shared_memory
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from workstation.imaging.errors import CannotDisplay
from workstation.imaging.frame import Frame
from workstation.imaging.memory import populated_empty

logger = logging.getLogger(__name__)

#: Room for a 4096x4096 16-bit frame (mammography); larger frames use the pipe.
BLOCK_BYTES = 32 * 1024 * 1024
_TAG = "shm-frame"

Result = Frame | CannotDisplay


class PixelBlock:
    """The shared block of one lane, owned (created and unlinked) by this process."""

    def __init__(self, size: int = BLOCK_BYTES) -> None:
        self.shm: shared_memory.SharedMemory | None
        try:
            self.shm = shared_memory.SharedMemory(create=True, size=size)
        except OSError:
            logger.warning("no shared memory for decoded frames; using the pipe")
            self.shm = None

    @property
    def name(self) -> str | None:
        return self.shm.name if self.shm is not None else None

    def receive(self, message: Any) -> Result:
        """The result a worker sent: a frame whose pixels wait in the block, or a value."""
        if not (isinstance(message, tuple) and message and message[0] == _TAG):
            return message  # type: ignore[no-any-return]
        _tag, info, dtype, shape, applied = message
        if self.shm is None:
            raise RuntimeError("worker used a shared block this lane does not have")
        pixels = populated_empty(shape, dtype)
        shared = np.ndarray(shape, dtype=dtype, buffer=self.shm.buf)
        np.copyto(pixels, shared)
        del shared
        return Frame(info, pixels, applied)

    def close(self) -> None:
        if self.shm is not None:
            shm, self.shm = self.shm, None
            shm.close()
            shm.unlink()


def attach_block(name: str | None) -> shared_memory.SharedMemory | None:
    """The worker's view of its lane's block, or None (then results use the pipe)."""
    if not name:
        return None
    try:
        # Spawned workers share this process's resource tracker, so attaching adds
        # nothing to clean up: the owner unlinks the block (or the tracker, if it dies).
        return shared_memory.SharedMemory(name=name)
    except OSError:
        logger.warning("cannot attach the shared frame block; using the pipe")
        return None


def send_result(conn: Connection, result: Result, shm: shared_memory.SharedMemory | None) -> None:
    """Send `result` to the lane, its pixels through `shm` when they fit."""
    if isinstance(result, Frame) and shm is not None and result.pixels.nbytes <= shm.size:
        pixels = result.pixels
        shared = np.ndarray(pixels.shape, dtype=pixels.dtype, buffer=shm.buf)
        np.copyto(shared, pixels)
        del shared
        conn.send((_TAG, result.info, pixels.dtype.str, pixels.shape, result.modality_applied))
        return
    conn.send(result)
