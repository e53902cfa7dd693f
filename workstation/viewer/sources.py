"""What feeds the viewports: the imaging package's loader on the shared decode pool."""

from __future__ import annotations

from workstation.viewer.catalog import InstanceEntry
from workstation.viewer.frames import FrameSource


def open_frame_source(
    entries: list[InstanceEntry],
    series_uid: str,
    *,
    reverse: bool = False,
    fallback_charset: str = "",
) -> FrameSource:
    """A frame source for one series' instances (first frame decoding starts at once);
    ``reverse`` flips the reading order (setting ``viewer.stack_order``);
    ``fallback_charset`` reads the overlay text of files that declare no character set
    (setting ``archive.fallback_charset``, as the import did)."""
    from workstation.viewer import imaging_source

    return imaging_source.open_source(
        entries, series_uid, reverse=reverse, fallback_charset=fallback_charset
    )
