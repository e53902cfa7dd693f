"""Helpers for the app's viewer tests: a CT stack with a known picture, double-clicking a
study in the browser, pictures of what is on screen and their comparison with the imaging
render of the same file."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QWidget

from tests.app.synthetic import write_study
from tests.viewer.gui_helpers import settle

logger = logging.getLogger(__name__)

CT_SIZE = 128
FIRST_IMAGE_TIMEOUT_MS = 30_000


def ct_picture(i: int, size: int = CT_SIZE) -> np.ndarray:
    """Stored values (rescale -1024): air, a water disc, a bone block up left, and a bright
    bar along the bottom whose column moves with the image index ``i``; not symmetric, so a
    flipped or rotated picture does not match."""
    rr, cc = np.mgrid[0:size, 0:size]
    img = np.zeros((size, size), dtype=np.int16)
    img[(rr - size / 2) ** 2 + (cc - size / 2) ** 2 <= (size * 0.35) ** 2] = 1024 + 40
    img[size // 5 : size // 5 + size // 6, size // 6 : size // 6 + size // 5] = 1024 + 700
    col = 6 + (7 * i) % (size - 24)
    img[size - 14 : size - 6, col : col + 12] = 1024 + 1500
    return img


def write_ct_study(folder: Path, images: int = 16, **kw: Any) -> str:
    return write_study(
        folder,
        images=images,
        size=CT_SIZE,
        pixels=lambda i: ct_picture(i),
        **{"patient_name": "VIEWER^TEST", "patient_id": "V-1", **kw},
    )


def import_folder(qtbot: Any, window: Any, folder: Path) -> None:
    """Import through the app's engine call (a job, as the import dialog does)."""
    from workstation.services.jobs import JobState

    job = window.study_actions.import_paths([folder])
    snap = window.services.jobs.wait(job, 120)
    assert snap.state is JobState.DONE, (snap.error, snap.failures)
    window.model.refresh()


def double_click_study(qtbot: Any, window: Any, study_uid: str) -> None:
    table = window.local.table
    qtbot.waitUntil(lambda: window.model.row_of(study_uid) is not None, timeout=20_000)
    row = window.model.row_of(study_uid)
    rect = table.visualRect(window.model.index(row, 1))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def open_by_double_click(qtbot: Any, window: Any, study_uid: str) -> float:
    """Double-click the study's row; wait for its first image; the viewer's open→first
    image milliseconds."""
    area = window.viewer
    with qtbot.waitSignal(area.sig_first_image_shown, timeout=FIRST_IMAGE_TIMEOUT_MS) as got:
        double_click_study(qtbot, window, study_uid)
        clicked = time.perf_counter()
    logger.info(
        "double-click to first image %.0f ms (viewer open to first image %.0f ms)",
        (time.perf_counter() - clicked) * 1000,
        got.args[0],
    )
    assert area.current_study_uid == study_uid
    settle(50)
    return float(got.args[0])


def wait_study_shown(qtbot: Any, window: Any, study_uid: str, num_series: int) -> None:
    """Until the opened study is on screen with a picture for each series: in the image
    viewer (a screen) or, where VTK cannot draw, in the series list."""
    area = window.viewer
    qtbot.waitUntil(lambda: area.current_study_uid == study_uid, timeout=20_000)
    if area.image_viewer is not None:
        strip = area.image_viewer.thumbnails
        qtbot.waitUntil(lambda: strip.count() == num_series, timeout=20_000)
        wait_thumbnails(qtbot, area.image_viewer)
        return
    series_list = area.series_list
    qtbot.waitUntil(lambda: series_list.count() == num_series, timeout=20_000)
    qtbot.waitUntil(
        lambda: all(not series_list.item(i).icon().isNull() for i in range(series_list.count())),
        timeout=30_000,
    )


def wait_slice_drawn(qtbot: Any, view: Any, index: int) -> None:
    qtbot.waitUntil(
        lambda: view.viewport.index == index and view.viewport.current_frame() is not None,
        timeout=FIRST_IMAGE_TIMEOUT_MS,
    )
    view.refresh()
    settle(50)


def wait_thumbnails(qtbot: Any, viewer: Any) -> None:
    """Until every series in the viewer's strip has its picture."""
    strip = viewer.thumbnails
    qtbot.waitUntil(
        lambda: (
            strip.count() > 0
            and all(not strip.item(i).icon().isNull() for i in range(strip.count()))
        ),
        timeout=FIRST_IMAGE_TIMEOUT_MS,
    )
    settle(50)


def window_picture(window: QWidget) -> np.ndarray:
    """The window as numpy RGB with each VTK picture pasted in (``QWidget.grab`` leaves
    GL drawing out; ``vtkWindowToImageFilter`` reads it back)."""
    out = qimage_rgb(window.grab().toImage())
    h, w = out.shape[:2]
    viewer = window.viewer.image_viewer
    for view in viewer.views if viewer is not None and viewer.isVisible() else []:
        if not view.render_view.isVisible():
            continue
        pic = view.grab_frame()
        top_left = view.render_view.mapTo(window, QPoint(0, 0))
        x, y = top_left.x(), top_left.y()
        ph, pw = min(pic.shape[0], h - y), min(pic.shape[1], w - x)
        if ph > 0 and pw > 0:
            out[y : y + ph, x : x + pw] = pic[:ph, :pw, :3]
    return out


def qimage_rgb(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h, stride = image.width(), image.height(), image.bytesPerLine()
    buf = np.frombuffer(image.constBits(), dtype=np.uint8, count=stride * h)
    return buf.reshape(h, stride)[:, : w * 3].reshape(h, w, 3).copy()


def global_rect(widget: QWidget) -> QRect:
    return QRect(widget.mapToGlobal(QPoint(0, 0)), widget.size())


def screen_region(where: QWidget | QRect) -> np.ndarray:
    """What the X server shows where a widget is, or in a rectangle of the screen (GL
    drawing included, unlike ``QWidget.grab``)."""
    rect = global_rect(where) if isinstance(where, QWidget) else where
    screen = QApplication.primaryScreen()
    shot = screen.grabWindow(0, rect.x(), rect.y(), rect.width(), rect.height())
    return qimage_rgb(shot.toImage())


def render_reference(archive: Any, view: Any) -> np.ndarray:
    """The imaging render (8-bit, the file's own window) of the slice the view shows."""
    from workstation.imaging.decode import decode_frame
    from workstation.imaging.render import to_display_u8

    frame = view.viewport.current_frame()
    assert frame is not None and frame.ok
    path = archive.instance_file(frame.sop_instance_uid)
    return to_display_u8(decode_frame(str(path)))


def match_fraction(view: Any, reference: np.ndarray, tolerance: int = 12) -> float:
    """Share of the image's inner pixels whose on-screen grey is within ``tolerance`` of
    the reference render (that pixel or a neighbour: the view resamples), sampled where
    the view maps each pixel's centre."""
    shown = view.grab_frame(still=False)[:, :, 0].astype(int)
    rows, cols = reference.shape
    margin = max(4, rows // 10)
    hits = total = 0
    for r in range(margin, rows - margin, 2):
        for c in range(margin, cols - margin, 2):
            p = view.screen_point((c + 0.5, r + 0.5))
            x, y = int(p.x()), int(p.y())
            if 0 <= y < shown.shape[0] and 0 <= x < shown.shape[1]:
                total += 1
                near = reference[r - 1 : r + 2, c - 1 : c + 2].astype(int)
                hits += bool(np.any(np.abs(near - shown[y, x]) <= tolerance))
    assert total > 0, "the image is not on screen"
    return hits / total
