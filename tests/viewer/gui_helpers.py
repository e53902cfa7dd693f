"""Helpers for viewer GUI tests: waiting on the event loop, mouse input, screenshots."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QWheelEvent
from PySide6.QtWidgets import QApplication


def wait_until(qtbot, cond, timeout_ms: int = 10000) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(cond, timeout=timeout_ms)


def settle(ms: int = 30) -> None:
    """Run the event loop for ``ms`` milliseconds."""
    end = time.monotonic() + ms / 1000
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.002)
    QApplication.processEvents()


def save_png(pixels: np.ndarray, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.ascontiguousarray(pixels[:, :, :3], dtype=np.uint8)
    h, w, _c = pixels.shape
    assert QImage(pixels.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy().save(str(path))
    return path


def point(p: QPointF) -> QPoint:
    return QPoint(round(p.x()), round(p.y()))


def drag(
    qtbot,
    widget,
    start: QPointF,
    end: QPointF,
    button=Qt.MouseButton.LeftButton,  # type: ignore[no-untyped-def]
    modifier=Qt.KeyboardModifier.NoModifier,
    steps: int = 5,
) -> None:
    qtbot.mousePress(widget, button, modifier, point(start))
    for i in range(1, steps + 1):
        p = start + (end - start) * (i / steps)
        qtbot.mouseMove(widget, point(p))
    qtbot.mouseRelease(widget, button, modifier, point(end))


def wheel_event(
    widget,  # type: ignore[no-untyped-def]
    steps: int,
    pos: QPointF | None = None,
    modifier=Qt.KeyboardModifier.NoModifier,
) -> QWheelEvent:
    """``steps`` notches of a mouse wheel over ``widget`` (negative: towards the user)."""
    pos = pos or QPointF(widget.width() / 2, widget.height() / 2)
    return QWheelEvent(
        pos,
        widget.mapToGlobal(pos),
        QPoint(0, 0),
        QPoint(0, 120 * steps),
        Qt.MouseButton.NoButton,
        modifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )


def wheel(
    widget, steps: int, pos: QPointF | None = None, modifier=Qt.KeyboardModifier.NoModifier
) -> None:  # type: ignore[no-untyped-def]
    """Turn the wheel now (the event is delivered before this returns)."""
    QApplication.sendEvent(widget, wheel_event(widget, steps, pos, modifier))


def post_wheel(widget, steps: int) -> None:  # type: ignore[no-untyped-def]
    """Queue one wheel turn (as a spun wheel's events wait in the queue)."""
    QApplication.postEvent(widget, wheel_event(widget, steps))


def open_and_wait(qtbot, viewer, catalog) -> list[float]:  # type: ignore[no-untyped-def]
    shown: list[float] = []
    viewer.sig_first_image_shown.connect(shown.append)
    assert viewer.open_study(catalog.studies()[0])
    wait_until(qtbot, lambda: bool(shown))
    settle()
    return shown


def one_to_one_match(view, catalog) -> tuple[float, np.ndarray]:  # type: ignore[no-untyped-def]
    """How well ``view`` (at 1:1) shows the imaging render of its current slice: the
    best fraction of equal pixels over the inner picture, shifted by up to one pixel;
    and that inner reference picture."""
    from workstation.imaging.decode import decode_frame
    from workstation.imaging.render import to_display_u8

    vp = view.viewport
    frame = vp.current_frame()
    owner = next(
        e for e in catalog.instances(vp.series_uid) if e.sop_instance_uid == frame.sop_instance_uid
    )
    ref = to_display_u8(decode_frame(owner.path))
    shown = view.grab_frame(still=False)[:, :, 0]  # nearest sampling: no blending
    x0, y0 = (round(p) for p in view.screen_point((0.0, 0.0)).toTuple())
    rows, cols = ref.shape
    inner = ref[8:-8, 8:-8]
    best = max(
        float(
            np.mean(
                shown[y0 + 8 + dy : y0 + rows - 8 + dy, x0 + 8 + dx : x0 + cols - 8 + dx] == inner
            )
        )
        for dy in (-1, 0, 1)
        for dx in (-1, 0, 1)
    )
    return best, inner
