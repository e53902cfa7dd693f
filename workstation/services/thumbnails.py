"""Small 8-bit pictures of a study or series for the browser (no Qt).

The imaging engine renders the frame when it is available (the viewer's own pipeline:
modality LUT, the file's window, MONOCHROME1); otherwise pydicom decodes it and a
min/max window is used.  Non-image objects (SR, PDF, waveforms) have no thumbnail.
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
    try:
        from workstation.imaging.decode import decode_frame
        from workstation.imaging.errors import CannotDisplay
        from workstation.imaging.render import to_display_u8
    except ImportError:
        return _render_with_pydicom(path)
    frame = decode_frame(path, 0)
    if isinstance(frame, CannotDisplay):
        return None
    image = to_display_u8(frame)
    if not frame.is_color and image.size and int(image.max()) - int(image.min()) < 8:
        # the file's own window shows nothing (all black or white): use min/max instead
        from workstation.imaging.windowing import min_max_window

        image = to_display_u8(frame, min_max_window(frame.modality_values()))
    return np.ascontiguousarray(image)


def _render_with_pydicom(path: Path) -> np.ndarray | None:
    from pydicom import dcmread

    try:
        ds = dcmread(path)
        if "PixelData" not in ds:
            return None
        arr = ds.pixel_array
    except Exception:
        logger.debug("no thumbnail for %s", path.name, exc_info=True)
        return None
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    samples = int(getattr(ds, "SamplesPerPixel", 1) or 1)
    if frames > 1:
        arr = arr[0]
    if samples == 3:
        return np.ascontiguousarray(np.clip(arr, 0, 255).astype(np.uint8))
    values = arr.astype(np.float32)
    lo, hi = np.percentile(values, (0.5, 99.5)) if values.size else (0.0, 1.0)
    scaled = np.clip((values - lo) / max(hi - lo, 1e-6) * 255.0, 0, 255).astype(np.uint8)
    if str(getattr(ds, "PhotometricInterpretation", "")) == "MONOCHROME1":
        scaled = 255 - scaled
    return scaled


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
