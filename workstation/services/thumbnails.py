"""Small 8-bit pictures of a study or series for the browser (no Qt).

The imaging engine decodes the frame (in the shared decode pool's workers when the pool
runs) and renders it as the viewer does: modality LUT, the file's window, MONOCHROME1;
a min/max window when the file's own shows nothing.  Non-image objects (SR, PDF, waveforms) have no thumbnail.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from workstation.pacs_node.archive.archive import Archive

logger = logging.getLogger(__name__)

#: Modalities without pixels worth showing.
NON_IMAGE_MODALITIES = {"SR", "PR", "KO", "DOC", "ECG", "RWV", "REG", "SEG", "RTPLAN", "RTDOSE"}


def render_u8(path: Path) -> np.ndarray | None:
    """The first frame of ``path`` as uint8 (rows, cols) or (rows, cols, 3), or None."""
    from workstation.imaging import shared
    from workstation.imaging.errors import CannotDisplay
    from workstation.imaging.frame import FrameRef
    from workstation.imaging.render import to_display_u8

    frame = shared.decode(FrameRef.of(path))
    if isinstance(frame, CannotDisplay):
        return None
    image = to_display_u8(frame)
    if not frame.is_color and image.size and int(image.max()) - int(image.min()) < 8:
        # the file's own window shows nothing (all black or white): use min/max instead
        from workstation.imaging.windowing import min_max_window

        image = to_display_u8(frame, min_max_window(frame.modality_values()))
    return np.ascontiguousarray(image)


def shrink(image: np.ndarray, size: int) -> np.ndarray:
    """Fit ``image`` into ``size`` x ``size`` by area averaging (aspect kept)."""
    rows, cols = image.shape[:2]
    step = max(1, int(np.ceil(max(rows, cols) / size)))
    if step > 1:
        r, c = rows // step * step, cols // step * step
        if r and c:
            trimmed = image[:r, :c].astype(np.float32)
            shape = (r // step, step, c // step, step, *image.shape[2:])
            image = trimmed.reshape(shape).mean(axis=(1, 3)).astype(np.uint8)
    return np.ascontiguousarray(image[:size, :size])


def pick_instance(paths: Sequence[Path]) -> Path | None:
    """The middle instance of a series: more typical than the first slice."""
    return paths[len(paths) // 2] if paths else None


def series_thumbnail(archive: Archive, series_uid: str, size: int = 96) -> np.ndarray | None:
    instances = archive.find_instances(series_uid)
    path = pick_instance([i.path for i in instances if i.rows])
    if path is None:
        return None
    image = render_u8(path)
    return None if image is None else shrink(image, size)


def study_thumbnail(archive: Archive, study_uid: str, size: int = 96) -> np.ndarray | None:
    """A picture of the study: the first image series that renders."""
    for series in archive.find_series(study_uid):
        if series.modality.upper() in NON_IMAGE_MODALITIES or not series.num_instances:
            continue
        image = series_thumbnail(archive, series.series_instance_uid, size)
        if image is not None:
            return image
    return None
