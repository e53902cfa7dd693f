"""Thumbnails made in the background and kept in a small in-memory LRU (never on disk).

Requests go to a bounded last-in-first-out queue served by one worker at a time: what
the user scrolled to last is made first, rows scrolled past are dropped (they are asked
for again when they come back into view), and thumbnail work never floods the pool the
GUI's other background calls use.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap

from workstation.app.workers import run_for_key

logger = logging.getLogger(__name__)

#: Queued requests beyond this are dropped, oldest first.
MAX_QUEUED = 48


def to_qimage(image: np.ndarray) -> QImage:
    image = np.ascontiguousarray(image)
    rows, cols = image.shape[:2]
    if image.ndim == 3:
        fmt, stride = QImage.Format.Format_RGB888, cols * 3
    else:
        fmt, stride = QImage.Format.Format_Grayscale8, cols
    return QImage(image.data, cols, rows, stride, fmt).copy()


class ThumbnailCache(QObject):
    """``pixmap(key)`` now, or None and a background ``make(key)``; ``sig_ready`` later."""

    sig_ready = Signal(str)

    def __init__(
        self,
        make: Callable[[str], np.ndarray | None],
        capacity: int = 2000,
        box: int = 56,
        parent=None,
    ) -> None:
        super().__init__(parent)
        self._make = make
        self._capacity = capacity
        self.box = box
        self._cache: OrderedDict[str, QPixmap | None] = OrderedDict()
        self._queue: OrderedDict[str, None] = OrderedDict()
        self._running: str | None = None
        self._stale: set[str] = set()

    def pixmap(self, key: str) -> QPixmap | None:
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        self.request(key)
        return None

    def has(self, key: str) -> bool:
        return key in self._cache

    @property
    def pending(self) -> int:
        return len(self._queue) + (self._running is not None)

    def request(self, key: str) -> None:
        if key in self._cache or key == self._running:
            return
        self._queue[key] = None
        self._queue.move_to_end(key)
        while len(self._queue) > MAX_QUEUED:
            self._queue.popitem(last=False)
        self._next()

    def _next(self) -> None:
        if self._running is not None or not self._queue:
            return
        key, _ = self._queue.popitem(last=True)
        self._running = key
        run_for_key(key, self._make, self._store, self._failed, owner=self)

    def _store(self, key: str, image: np.ndarray | None) -> None:
        self._running = None
        if key in self._stale:
            # made from data older than a later change: drop it, let the view ask again
            self._stale.discard(key)
            self.sig_ready.emit(key)
        else:
            pixmap = None if image is None else self._fit(QPixmap.fromImage(to_qimage(image)))
            self._cache[key] = pixmap
            while len(self._cache) > self._capacity:
                self._cache.popitem(last=False)
            self.sig_ready.emit(key)
        self._next()

    def _failed(self, key: str, exc: BaseException) -> None:
        logger.info("thumbnail failed: %s", type(exc).__name__)
        self._store(key, None)

    def _fit(self, pixmap: QPixmap) -> QPixmap:
        """Scale into the icon box (small images up, large down), aspect kept."""
        return pixmap.scaled(
            self.box,
            self.box,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )

    def forget(self, key: str) -> None:
        """Drop a thumbnail (its study changed); the next ``pixmap`` makes it again."""
        self._cache.pop(key, None)
        if key == self._running:
            self._stale.add(key)

    def clear(self) -> None:
        self._cache.clear()


def placeholder(text: str, box: int) -> QPixmap:
    """A grey tile with a short text (the modality) for objects without a picture."""
    pixmap = QPixmap(box, box)
    pixmap.fill(QColor("#d9d9d9"))
    painter = QPainter(pixmap)
    painter.setPen(QColor("#555555"))
    painter.drawText(pixmap.rect(), Qt.AlignmentFlag.AlignCenter, text[:6])
    painter.end()
    return pixmap
