"""Which loader feeds the viewports: the imaging package's, else the viewer's fallback."""

from __future__ import annotations

import importlib.util
import logging

from workstation.viewer.catalog import InstanceEntry
from workstation.viewer.frames import FrameSource
from workstation.viewer.stack_source import StackSource

logger = logging.getLogger(__name__)


def open_frame_source(
    entries: list[InstanceEntry], series_uid: str, *, reverse: bool = False
) -> FrameSource:
    """A frame source for one series' instances (first frame decoding starts at once);
    ``reverse`` flips the reading order (setting ``viewer.stack_order``)."""
    if importlib.util.find_spec("workstation.viewer.imaging_source") is not None:
        from workstation.viewer import imaging_source

        source = imaging_source.open_source(entries, series_uid, reverse=reverse)
        if source is not None:
            return source
    return StackSource(entries, series_uid=series_uid, reverse=reverse)
