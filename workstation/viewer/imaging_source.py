"""The imaging package's :class:`SeriesLoader` seen as a viewer :class:`FrameSource`.

Every viewport loads through :mod:`workstation.imaging.shared`'s one decode pool and
frame cache (``shutdown`` is re-exported here for the app and the test harness).
Frames are converted to :class:`~workstation.viewer.frames.DisplayFrame` on demand and carry a ``render``
function that is the imaging package's own 8-bit mapping, so the screen shows exactly
what ``workstation render`` writes (VOI LUT functions, VOI LUT tables, MONOCHROME1).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import Any

from workstation.events import Event
from workstation.imaging.frame import FrameRef
from workstation.imaging.shared import shared_pool, shutdown
from workstation.viewer.catalog import InstanceEntry, sort_instances
from workstation.viewer.frames import (
    DisplayFrame,
    FrameGeometry,
    FrameListener,
    FrameSlot,
    SeriesHeader,
    error_frame,
)
from workstation.viewer.series_header import series_header

__all__ = ["ImagingFrameSource", "open_frame_source", "shutdown", "to_display_frame"]

logger = logging.getLogger(__name__)


def _ref_geometry(e: InstanceEntry) -> FrameGeometry | None:
    if not (e.image_position and e.image_orientation):
        return None
    return FrameGeometry(
        rows=0,
        columns=0,
        image_position=tuple(e.image_position),  # type: ignore[arg-type]
        image_orientation=tuple(e.image_orientation),  # type: ignore[arg-type]
    )


def frame_slots(entries: list[InstanceEntry], *, reverse: bool = False) -> list[FrameSlot]:
    """One slot per frame, in display order."""
    slots = []
    for e in sort_instances(entries, reverse=reverse):
        n = max(1, e.number_of_frames or 1)
        geom = _ref_geometry(e) if n == 1 else None
        for f in range(n):
            slots.append(
                FrameSlot(FrameRef.of(e.path, f), e.sop_instance_uid, e.instance_number, geom)
            )
    return slots


def _geometry(info: Any) -> FrameGeometry:
    from workstation.imaging.calibration import CalibrationSource

    cal = info.calibration
    spacing: tuple[float, float] | None = None
    source = ""
    if cal.row_spacing_mm is not None and cal.column_spacing_mm is not None:
        spacing = (float(cal.row_spacing_mm), float(cal.column_spacing_mm))
    regions = tuple(cal.regions)
    if spacing is None and regions:
        spacing = (regions[0].row_spacing_mm, regions[0].column_spacing_mm)
    if spacing is not None:
        source = {
            CalibrationSource.PIXEL_SPACING: "pixel_spacing",
            CalibrationSource.ULTRASOUND_REGION: "us_region",
        }.get(cal.source, "imager_pixel_spacing")
    g = info.geometry
    return FrameGeometry(
        rows=int(info.rows),
        columns=int(info.columns),
        pixel_spacing_mm=spacing,
        calibration_source=source,
        image_position=tuple(g.position) if g is not None else None,
        image_orientation=(tuple(g.row_cosines) + tuple(g.column_cosines))
        if g is not None
        else None,
        frame_of_reference_uid=str(info.frame_of_reference_uid or ""),
        regions=regions,
    )


def to_display_frame(result: Any, slot: FrameSlot) -> DisplayFrame:
    """An imaging ``Frame`` (or ``CannotDisplay``) as the viewer's frame."""
    from workstation.imaging.errors import CannotDisplay
    from workstation.imaging.render import to_display_u8

    if isinstance(result, CannotDisplay):
        return error_frame(slot, result.reason)
    info = result.info
    window = None
    if info.windows:
        w = info.windows[0]
        window = (float(w.center), float(w.width))

    def render(win: tuple[float, float] | None, invert: bool) -> Any:
        return to_display_u8(result, win, invert=invert)

    units = "HU" if info.modality == "CT" else ""
    return DisplayFrame(
        sop_instance_uid=info.sop_instance_uid or slot.sop_instance_uid,
        frame_index=slot.frame_index,
        geometry=_geometry(info),
        values=result.modality_values(),
        window=window,
        inverted=bool(info.invert),
        voi_lut=window is None and bool(info.voi_luts),
        units=units,
        render=render,
    )


class ImagingFrameSource:
    """A series decoded by the imaging loader, focus first then nearest."""

    def __init__(
        self,
        entries: list[InstanceEntry],
        series_uid: str,
        pool: Any,
        cache: Any,
        *,
        reverse: bool = False,
        fallback_charset: str = "",
    ) -> None:
        from workstation.imaging.loader import SeriesLoader

        self._fallback_charset = fallback_charset
        self._refs = frame_slots(entries, reverse=reverse)
        self.header = SeriesHeader(series_instance_uid=series_uid)
        self.frame_decoded = Event("decoded frames")
        self._converted: OrderedDict[int, tuple[Any, DisplayFrame]] = OrderedDict()
        self._conv_lock = threading.Lock()
        refs = [slot.ref for slot in self._refs]
        self._loader = SeriesLoader(refs, pool, cache, focus=0, on_frame=self._on_frame)
        self._loader.start()
        if refs:
            self._read_header(refs[0].path)  # one small header read (~1 ms)

    def _read_header(self, path: Any) -> None:
        try:
            import pydicom

            from workstation.imaging.charset_fallback import apply_to_dataset

            ds = pydicom.dcmread(path, stop_before_pixels=True)
            # Text of a file that declares no character set reads as the import read it.
            apply_to_dataset(ds, self._fallback_charset)
            self.header = series_header(ds)
        except Exception:  # noqa: BLE001 - overlays stay empty; the pixels still come
            logger.warning("series header of %s unreadable", self.header.series_instance_uid)

    def _on_frame(self, index: int, _result: Any) -> None:
        self.frame_decoded.emit(index)

    def __len__(self) -> int:
        return len(self._refs)

    def ref(self, index: int) -> FrameSlot:
        return self._refs[index]

    def frame(self, index: int) -> DisplayFrame | None:
        result = self._loader.get(index)
        if result is None:
            return None
        with self._conv_lock:
            hit = self._converted.get(index)
            if hit is not None and hit[0] is result:
                self._converted.move_to_end(index)
                return hit[1]
        frame = to_display_frame(result, self._refs[index])
        with self._conv_lock:
            self._converted[index] = (result, frame)
            while len(self._converted) > 8:
                self._converted.popitem(last=False)
        return frame

    def set_current(self, index: int) -> None:
        self._loader.set_focus(index)

    def add_listener(self, listener: FrameListener) -> None:
        self.frame_decoded.connect(listener)

    def decoded_count(self) -> int:
        return int(self._loader.decoded)

    def close(self) -> None:
        self._loader.cancel()
        with self._conv_lock:
            self._converted.clear()


def open_frame_source(
    entries: list[InstanceEntry],
    series_uid: str,
    *,
    reverse: bool = False,
    fallback_charset: str = "",
) -> ImagingFrameSource:
    """A frame source for one series' instances (first frame decoding starts at once), on
    the shared pool (which decodes in-process when its workers cannot run).

    ``reverse`` flips the reading order (setting ``viewer.stack_order``);
    ``fallback_charset`` reads the overlay text of files that declare no character set
    (setting ``archive.fallback_charset``, as the import did)."""
    pool, cache = shared_pool()
    return ImagingFrameSource(
        entries, series_uid, pool, cache, reverse=reverse, fallback_charset=fallback_charset
    )
