"""What we know about an image file before decoding pixels, and about each frame.

:func:`read_header` parses a file without loading its pixel data (large values are
deferred; the Pixel Data offset is remembered for the uncompressed fast path) and
returns an :class:`ImageHeader`. :meth:`ImageHeader.frame_info` gives the
:class:`FrameInfo` of one frame: its LUTs, windows, geometry and calibration, with
enhanced per-frame functional groups taking precedence over shared ones and over the
top-level attributes.
"""

from __future__ import annotations

import os
import struct
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from workstation.i18n import _
from workstation.imaging import limits
from workstation.imaging.calibration import Calibration, calibration_of, spacing_pair
from workstation.imaging.errors import PixelDataError
from workstation.imaging.functional_groups import group_item
from workstation.imaging.geometry import PlaneGeometry, plane_geometry_of
from workstation.imaging.lut import Lut
from workstation.imaging.modality import ModalityLut, modality_lut_of
from workstation.imaging.pixel_module import PixelModule, pixel_module_of
from workstation.imaging.windowing import VoiWindow, voi_luts_of, windows_of

#: Uncompressed little-endian transfer syntaxes whose pixels we read straight from disk.
NATIVE_LITTLE_ENDIAN = ("1.2.840.10008.1.2", "1.2.840.10008.1.2.1")
DEFLATED = ("1.2.840.10008.1.2.1.99",)
BIG_ENDIAN = "1.2.840.10008.1.2.2"
#: Syntaxes whose Pixel Data has a defined length, so pydicom can skip it while parsing.
UNCOMPRESSED = (*NATIVE_LITTLE_ENDIAN, BIG_ENDIAN, "")
_DEFER_BYTES = 16 * 1024

#: What pydicom raises on a header it cannot parse (a damaged or truncated file).
_PARSE_ERRORS: tuple[type[Exception], ...] = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    EOFError,
    OverflowError,
    struct.error,
)
#: The same for a forced read without file meta, where an OSError also means "not DICOM".
_BARE_READ_ERRORS: tuple[type[Exception], ...] = (*_PARSE_ERRORS, OSError)


@dataclass(frozen=True)
class FrameInfo:
    """Everything about one frame except its pixels (small, picklable).

    ``photometric`` is the file's Photometric Interpretation; decoded colour frames are
    always 8-bit RGB whatever it says.
    """

    sop_instance_uid: str
    series_instance_uid: str
    frame_of_reference_uid: str
    modality: str
    instance_number: int | None
    frame_index: int
    number_of_frames: int
    rows: int
    columns: int
    photometric: str
    bits_stored: int
    signed: bool
    transfer_syntax: str
    modality_lut: ModalityLut
    windows: tuple[VoiWindow, ...]
    voi_luts: tuple[Lut, ...]
    invert: bool
    geometry: PlaneGeometry | None
    calibration: Calibration
    slice_thickness_mm: float | None = None

    @property
    def is_color(self) -> bool:
        return self.photometric not in ("MONOCHROME1", "MONOCHROME2")


@dataclass(eq=False)
class ImageHeader:
    """A parsed file header: the checked pixel module and the (pixel-less) data set."""

    dataset: Any
    module: PixelModule
    transfer_syntax: str
    path: str | None = None
    pixel_offset: int | None = None
    pixel_length: int | None = None
    _frames: dict[int, FrameInfo] = field(default_factory=dict, repr=False)

    @property
    def is_native_little_endian(self) -> bool:
        return self.transfer_syntax in NATIVE_LITTLE_ENDIAN

    @property
    def little_endian(self) -> bool:
        return self.transfer_syntax != BIG_ENDIAN

    def frame_info(self, frame: int) -> FrameInfo:
        """The :class:`FrameInfo` of `frame` (0-based); raises PixelDataError if out of range."""
        if not 0 <= frame < self.module.number_of_frames:
            raise PixelDataError(
                _("Frame {frame} does not exist; this image has {count} frames.").format(
                    frame=frame + 1, count=self.module.number_of_frames
                ),
                f"frame {frame}",
            )
        info = self._frames.get(frame)
        if info is None:
            info = _build_frame_info(self, frame)
            self._frames[frame] = info
        return info


def header_of_dataset(ds: Any, path: str | None = None) -> ImageHeader:
    """An :class:`ImageHeader` for an already-read data set."""
    meta = getattr(ds, "file_meta", None)
    ts = str(getattr(meta, "TransferSyntaxUID", "") or "") if meta is not None else ""
    if not ts:
        ts = "1.2.840.10008.1.2" if getattr(ds, "is_implicit_VR", False) else "1.2.840.10008.1.2.1"
    module = pixel_module_of(ds)
    offset = length = None
    raw = ds.get_item(0x7FE00010, keep_deferred=True) if "PixelData" in ds else None
    if raw is not None and getattr(raw, "value", b"") is None and hasattr(raw, "value_tell"):
        offset, length = int(raw.value_tell), int(raw.length)
    return ImageHeader(ds, module, ts, path, offset, length)


def read_header(path: str | os.PathLike[str]) -> ImageHeader:
    """Parse the header of the file at `path` without reading its pixel data."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    name = os.fspath(path)
    try:
        size = os.path.getsize(name)
        syntax = _peek_transfer_syntax(name)
        if size > limits.MAX_FILE_BYTES and syntax not in UNCOMPRESSED:
            # compressed pixel data would be read whole: refuse before reading
            raise PixelDataError(_("This file is too large to display."), f"{size} bytes")
        if syntax in DEFLATED:
            _check_inflated_size(name, size)
            ds = pydicom.dcmread(name)
        else:
            ds = pydicom.dcmread(name, defer_size=_DEFER_BYTES)
    except FileNotFoundError as exc:
        raise PixelDataError(_("The file does not exist."), name) from exc
    except InvalidDicomError as exc:
        ds = _read_bare_dataset(name, exc)
    except OSError as exc:
        raise PixelDataError(
            _("The file cannot be read ({error}).").format(error=exc.strerror or exc), repr(exc)
        ) from exc
    except _PARSE_ERRORS as exc:
        raise PixelDataError(_("The file is damaged and cannot be read."), repr(exc)[:300]) from exc
    header = header_of_dataset(ds, name)
    if header.pixel_offset is None and size > limits.MAX_FILE_BYTES:
        raise PixelDataError(_("This file is too large to display."), f"{size} bytes")
    return header


def _read_bare_dataset(name: str, first_error: Exception) -> Any:
    """A data set written without preamble and file meta (old ACR-NEMA style), if it is one."""
    import pydicom

    not_dicom = PixelDataError(_("This file is not a DICOM file."), str(first_error)[:200])
    try:
        ds = pydicom.dcmread(name, force=True, defer_size=_DEFER_BYTES)
    except _BARE_READ_ERRORS as exc:
        raise not_dicom from exc
    if "Rows" not in ds or "PixelData" not in ds:
        raise not_dicom
    return ds


def _peek_transfer_syntax(path: str) -> str:
    """The Transfer Syntax UID from the file meta group, read with a few syscalls (or "")."""
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if head[128:132] != b"DICM":
        return ""
    pos = 132
    while pos + 8 <= len(head):
        group, element = struct.unpack_from("<HH", head, pos)
        if group != 0x0002:
            return ""
        vr = head[pos + 4 : pos + 6]
        if vr in (b"OB", b"OW", b"OF", b"SQ", b"UT", b"UN"):
            if pos + 12 > len(head):
                return ""
            length, start = struct.unpack_from("<I", head, pos + 8)[0], pos + 12
        else:
            length, start = struct.unpack_from("<H", head, pos + 6)[0], pos + 8
        if element == 0x0010:
            return head[start : start + length].rstrip(b"\x00 ").decode("ascii", "replace")
        pos = start + length
    return ""


def _check_inflated_size(path: str, size: int) -> None:
    """Refuse deflated files that inflate beyond the cap (a zip bomb), before pydicom does."""
    import zlib

    if size > limits.MAX_FILE_BYTES:
        raise PixelDataError(_("This file is too large to display."), f"{size} bytes")
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    total = 0
    with open(path, "rb") as fh:
        data = fh.read()
    # pydicom inflates everything after the file meta group; measure that the same way.
    chunk = data[_meta_end(data) :]
    try:
        while chunk and total <= limits.MAX_INFLATED_BYTES:
            out = inflater.decompress(chunk, 64 * 1024 * 1024)
            total += len(out)
            chunk = inflater.unconsumed_tail
            if not out and not chunk:
                break
    except zlib.error as exc:
        raise PixelDataError(
            _("The compressed data set in this file is damaged."), repr(exc)
        ) from exc
    if total > limits.MAX_INFLATED_BYTES:
        raise PixelDataError(
            _("This file is too large to display."), f"inflates beyond {total} bytes"
        )


def _meta_end(data: bytes) -> int:
    pos = 132 if data[128:132] == b"DICM" else 0
    while pos + 8 <= len(data):
        if struct.unpack_from("<H", data, pos)[0] != 0x0002:
            return pos
        if data[pos + 4 : pos + 6] in (b"OB", b"OW", b"OF", b"SQ", b"UT", b"UN"):
            pos += 12 + struct.unpack_from("<I", data, pos + 8)[0]
        else:
            pos += 8 + struct.unpack_from("<H", data, pos + 6)[0]
    return pos


def _build_frame_info(header: ImageHeader, frame: int) -> FrameInfo:
    ds, module = header.dataset, header.module
    modality_name = str(ds.get("Modality", "") or "")
    transform = group_item(ds, frame, "PixelValueTransformationSequence")
    modality_lut = modality_lut_of(
        transform if transform is not None else ds,
        signed=module.is_signed,
        little_endian=header.little_endian,
        modality=modality_name,
    )
    voi_item = group_item(ds, frame, "FrameVOILUTSequence")
    windows = windows_of(voi_item) if voi_item is not None else ()
    if not windows:
        windows = windows_of(ds)
    # VOI LUT input is the modality output: signed when the rescale can go negative.
    luts = voi_luts_of(
        voi_item if voi_item is not None and "VOILUTSequence" in voi_item else ds,
        signed_input=module.is_signed or modality_lut.intercept < 0,
        little_endian=header.little_endian,
    )
    shape = str(ds.get("PresentationLUTShape", "") or "").strip().upper()
    invert = module.photometric == "MONOCHROME1" or shape == "INVERSE"
    measures = group_item(ds, frame, "PixelMeasuresSequence")
    spacing = spacing_pair(measures.get("PixelSpacing")) if measures is not None else None
    if spacing is None:
        spacing = spacing_pair(ds.get("PixelSpacing"))
    position = group_item(ds, frame, "PlanePositionSequence")
    orientation = group_item(ds, frame, "PlaneOrientationSequence")
    geometry = plane_geometry_of(
        position if position is not None else ds,
        orientation if orientation is not None else ds,
        spacing,
    )
    return FrameInfo(
        sop_instance_uid=str(ds.get("SOPInstanceUID", "") or ""),
        series_instance_uid=str(ds.get("SeriesInstanceUID", "") or ""),
        frame_of_reference_uid=str(ds.get("FrameOfReferenceUID", "") or ""),
        modality=modality_name,
        instance_number=_int_or_none(ds.get("InstanceNumber")),
        frame_index=frame,
        number_of_frames=module.number_of_frames,
        rows=module.rows,
        columns=module.columns,
        photometric=module.photometric,
        bits_stored=module.bits_stored,
        signed=module.is_signed,
        transfer_syntax=header.transfer_syntax,
        modality_lut=modality_lut,
        windows=windows,
        voi_luts=luts,
        invert=invert,
        geometry=geometry,
        calibration=calibration_of(ds, frame),
        slice_thickness_mm=_thickness(measures, ds),
    )


def _int_or_none(value: Any) -> int | None:
    try:
        return None if value is None or value == "" else int(value)
    except (TypeError, ValueError):
        return None


def _thickness(measures: Any, ds: Any) -> float | None:
    for item in (measures, ds):
        if item is None:
            continue
        try:
            value = item.get("SliceThickness")
            if value not in (None, ""):
                return float(value)
        except (TypeError, ValueError):
            continue
    return None


class HeaderCache:
    """A small per-process cache of parsed headers keyed by path, size and mtime."""

    def __init__(self, capacity: int = 64) -> None:
        self._items: OrderedDict[tuple[str, int, int], ImageHeader] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def get(self, path: str) -> ImageHeader:
        st = os.stat(path)
        key = (path, st.st_size, st.st_mtime_ns)
        with self._lock:
            header = self._items.get(key)
            if header is not None:
                self._items.move_to_end(key)
                return header
        header = read_header(path)
        with self._lock:
            self._items[key] = header
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)
        return header

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
