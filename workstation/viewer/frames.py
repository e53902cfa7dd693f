"""What a viewport draws: one displayable frame and the source that streams them.

The viewer depends only on :class:`FrameSource`; the imaging package's series loader
(decode in a process pool, first image first, then nearest to the current slice) plugs in
through :mod:`workstation.viewer.imaging_source`.  Everything here is plain numpy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

from workstation.imaging.calibration import UltrasoundRegion

if TYPE_CHECKING:
    from workstation.imaging.frame import FrameRef


@dataclass(frozen=True)
class FrameGeometry:
    """Where a frame's pixels are, in the image and in the patient.

    ``pixel_spacing_mm`` is (row spacing, column spacing) as in DICOM Pixel Spacing:
    the distance between rows, then between columns.  ``None`` means uncalibrated.
    """

    rows: int
    columns: int
    pixel_spacing_mm: tuple[float, float] | None = None
    #: "pixel_spacing", "imager_pixel_spacing", "us_region" or "" (uncalibrated).
    calibration_source: str = ""
    image_position: tuple[float, float, float] | None = None
    #: Row direction cosine then column direction cosine (Image Orientation Patient).
    image_orientation: tuple[float, float, float, float, float, float] | None = None
    frame_of_reference_uid: str = ""
    #: Ultrasound regions, each with its own calibration (``pixel_spacing_mm`` then
    #: holds the first region's, for the scale bar).
    regions: tuple[UltrasoundRegion, ...] = ()

    @property
    def calibrated(self) -> bool:
        return self.pixel_spacing_mm is not None

    def spacing_for(self, points: Sequence[tuple[float, float]]) -> tuple[float, float] | None:
        """(row mm, column mm) valid for all ``points``, or None (uncalibrated there)."""
        if not self.regions:
            return self.pixel_spacing_mm
        for region in self.regions:
            if all(region.contains(c, r) for c, r in points):
                return region.row_spacing_mm, region.column_spacing_mm
        return None

    @property
    def has_plane(self) -> bool:
        return self.image_position is not None and self.image_orientation is not None


@dataclass(frozen=True)
class DisplayFrame:
    """One decoded frame, ready for windowing.

    ``values`` holds modality values (after the modality LUT: HU for CT) as a 2-D array,
    or an RGB ``uint8`` array of shape (rows, columns, 3) for colour images.  When the
    frame cannot be shown, ``values`` is ``None`` and ``error`` says why.
    """

    sop_instance_uid: str
    frame_index: int
    geometry: FrameGeometry
    values: np.ndarray | None = None
    #: The file's own window (centre, width), if it has one.
    window: tuple[float, float] | None = None
    #: MONOCHROME1: low values are drawn white.
    inverted: bool = False
    #: The file has a VOI LUT table but no window: ``render(None, ...)`` applies it.
    voi_lut: bool = False
    #: Modality units of ``values``: "HU" for CT, else from Rescale Type, else "".
    units: str = ""
    error: str = ""
    #: The decoder's own 8-bit mapping, ``render(window or None, invert) -> uint8``; when
    #: given, the screen uses it (None window = the file's VOI, any function or table).
    render: Callable[[tuple[float, float] | None, bool], np.ndarray] | None = field(
        default=None, compare=False, repr=False
    )

    @property
    def is_color(self) -> bool:
        return self.values is not None and self.values.ndim == 3

    @property
    def ok(self) -> bool:
        return self.values is not None and not self.error


@dataclass(frozen=True)
class FrameSlot:
    """One frame of a displayed series, known before it is decoded.

    ``ref`` says where the imaging loader finds its pixels (file and frame); the rest is
    its identity and sort key in the stack.
    """

    ref: FrameRef
    sop_instance_uid: str
    instance_number: int | None = None
    geometry: FrameGeometry | None = None

    @property
    def frame_index(self) -> int:
        return self.ref.frame


@dataclass(frozen=True)
class SeriesHeader:
    """What the overlays and the cine need from a series, without pixels.

    Patient fields are shown on screen only; never log them.
    """

    series_instance_uid: str
    study_instance_uid: str = ""
    modality: str = ""
    series_description: str = ""
    series_number: int | None = None
    patient_name: str = ""
    patient_id: str = ""
    study_description: str = ""
    study_date: str = ""
    #: Frames per second the file recommends (Frame Time, Cine Rate...), if any.
    cine_rate_fps: float | None = None
    extra: dict[str, str] = field(default_factory=dict)


FrameListener = Callable[[int], None]


class FrameSource(Protocol):
    """A series as a stack of frames that arrive in the background.

    ``frame(i)`` never blocks on decoding: it returns ``None`` until frame ``i`` is ready.
    ``set_current(i)`` tells the source which frame the user looks at, so it decodes
    nearest to it first.  Listeners are called (from any thread) with the index of each
    frame that became ready; the Qt layer moves that call to the GUI thread.
    """

    header: SeriesHeader

    def __len__(self) -> int: ...

    def ref(self, index: int) -> FrameSlot: ...

    def frame(self, index: int) -> DisplayFrame | None: ...

    def set_current(self, index: int) -> None: ...

    def add_listener(self, listener: FrameListener) -> None: ...

    def close(self) -> None: ...


def error_frame(slot: FrameSlot, reason: str) -> DisplayFrame:
    """The frame to show when ``slot`` cannot be decoded: a tile that says why."""
    geometry = slot.geometry or FrameGeometry(rows=1, columns=1)
    return DisplayFrame(slot.sop_instance_uid, slot.frame_index, geometry, None, error=reason)
