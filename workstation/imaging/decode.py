"""Decode one frame of a file or data set into a :class:`~workstation.imaging.frame.Frame`.

:func:`decode_frame` never raises: a file that cannot be shown gives a
:class:`~workstation.imaging.errors.CannotDisplay` with a reason for the tile.

Two paths:

- **fast path**: uncompressed little-endian greyscale or palette frames are read
  straight from the file at the Pixel Data offset into their final array (one
  allocation, no copy), unused high bits are cleared, and an integer rescale is applied
  in place (uint16 with at most 15 stored bits is reinterpreted as int16).
- **pydicom path**: everything else (JPEG baseline/extended/lossless, JPEG-LS,
  JPEG 2000, RLE, deflate, big endian, packed bits, YBR_FULL_422) through
  ``pydicom.pixels`` decoders backed by pylibjpeg; colour is converted here.
"""

from __future__ import annotations

import logging
import os
import struct
import zlib
from typing import Any

import numpy as np

from workstation.i18n import _
from workstation.imaging.color import palette_of, to_rgb8, ybr_full_to_rgb
from workstation.imaging.errors import CannotDisplay, PixelDataError
from workstation.imaging.frame import Frame
from workstation.imaging.header import (
    FrameInfo,
    HeaderCache,
    ImageHeader,
    header_of_dataset,
    read_header,
)
from workstation.imaging.jpeg_repair import repaired_frame
from workstation.imaging.memory import populated_empty
from workstation.imaging.modality import exact_int16_rescale, rescale_in_place, stored_range

logger = logging.getLogger(__name__)

Source = str | os.PathLike[str] | Any  # a path or a pydicom Dataset

#: What pydicom and the pylibjpeg plugins raise on broken or unsupported data.
DECODER_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    RuntimeError,
    NotImplementedError,
    TypeError,
    AttributeError,
    KeyError,
    IndexError,
    EOFError,
    OSError,
    struct.error,
    zlib.error,
)

_NATIVE_DTYPES: dict[tuple[int, int], np.dtype[Any]] = {
    (8, 0): np.dtype("u1"),
    (8, 1): np.dtype("i1"),
    (16, 0): np.dtype("<u2"),
    (16, 1): np.dtype("<i2"),
    (32, 0): np.dtype("<u4"),
    (32, 1): np.dtype("<i4"),
}


def decode_frame(
    source: Source, frame: int = 0, *, headers: HeaderCache | None = None
) -> Frame | CannotDisplay:
    """Decode `frame` (0-based) of a file path or pydicom Dataset.

    Parameters
    ----------
    source : str, os.PathLike or pydicom.Dataset
        The image. A path is read lazily (header first, pixels of one frame only).
    frame : int
        The frame index, 0 for single-frame images.
    headers : HeaderCache, optional
        Reuse parsed headers across calls (multi-frame files decoded frame by frame).

    Returns
    -------
    Frame or CannotDisplay
    """
    try:
        return _decode(source, frame, headers)
    except PixelDataError as exc:
        logger.info("cannot display frame %d: %s (%s)", frame, exc.reason, exc.detail)
        return exc.as_result()
    except MemoryError:
        logger.warning("out of memory decoding frame %d", frame)
        return CannotDisplay(_("There is not enough memory to decode this image."), "MemoryError")
    except DECODER_ERRORS as exc:
        logger.info("decoder failed on frame %d: %r", frame, exc)
        return CannotDisplay(
            _("The image data is damaged and cannot be decoded."),
            f"{type(exc).__name__}: {exc}"[:300],
        )
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as exc:  # e.g. a Rust decoder's PanicException is no Exception
        logger.exception("unexpected decoder failure on frame %d", frame)
        return CannotDisplay(
            _("The image data cannot be decoded."), f"{type(exc).__name__}: {exc}"[:300]
        )


def read_frame_header(source: Source, headers: HeaderCache | None = None) -> ImageHeader:
    """The :class:`ImageHeader` of a path or data set (raises PixelDataError)."""
    if isinstance(source, str | os.PathLike):
        path = os.fspath(source)
        return headers.get(path) if headers is not None else read_header(path)
    return header_of_dataset(source)


def _decode(source: Source, frame: int, headers: HeaderCache | None) -> Frame:
    if isinstance(source, str | os.PathLike) and headers is not None:
        try:
            header = headers.get(os.fspath(source))
        except FileNotFoundError as exc:
            raise PixelDataError(_("The file does not exist."), os.fspath(source)) from exc
    else:
        header = read_frame_header(source)
    info = header.frame_info(frame)
    if _fast_path_applies(header):
        stored = read_native_frame(header, frame)
        stored = correct_unused_bits(stored, info.bits_stored, info.signed)
        photometric = header.module.photometric
    else:
        stored, photometric = _decode_with_pydicom(header, frame)
    return _finish(stored, photometric, header, info)


def _fast_path_applies(header: ImageHeader) -> bool:
    m = header.module
    return (
        header.is_native_little_endian
        and m.samples_per_pixel == 1
        and (m.bits_allocated, m.pixel_representation) in _NATIVE_DTYPES
        and (header.pixel_offset is not None or isinstance(header.dataset.get("PixelData"), bytes))
    )


def read_native_frame(header: ImageHeader, frame: int) -> np.ndarray:
    """Stored values of one uncompressed little-endian frame, read into a fresh array."""
    m = header.module
    dtype = _NATIVE_DTYPES[(m.bits_allocated, m.pixel_representation)]
    nbytes = m.frame_bytes
    start = frame * nbytes
    out = populated_empty((m.rows, m.columns), dtype)
    if header.pixel_offset is not None and header.path is not None:
        available = min(
            header.pixel_length or 0, os.path.getsize(header.path) - header.pixel_offset
        )
        _check_length(available, start + nbytes, m.number_of_frames * nbytes)
        with open(header.path, "rb") as fh:
            fh.seek(header.pixel_offset + start)
            got = fh.readinto(out.data.cast("B"))
        if got != nbytes:
            raise PixelDataError(
                _("The image data is truncated: the file ends early."), f"{got} < {nbytes}"
            )
        return out
    data = header.dataset.PixelData
    _check_length(len(data), start + nbytes, m.number_of_frames * nbytes)
    out[...] = np.frombuffer(data, dtype=dtype, count=m.frame_pixels, offset=start).reshape(
        out.shape
    )
    return out


def _check_length(available: int, needed: int, expected_total: int) -> None:
    if available < needed:
        raise PixelDataError(
            _("The image data is truncated: {have} bytes of {need} expected.").format(
                have=available, need=expected_total
            ),
            f"have {available}, need {needed}",
        )


def correct_unused_bits(values: np.ndarray, bits_stored: int, signed: bool) -> np.ndarray:
    """Clear (or sign-extend over) bits above Bits Stored, in place, only when needed."""
    bits_allocated = values.dtype.itemsize * 8
    if bits_stored >= bits_allocated or values.size == 0:
        return values
    lo, hi = stored_range(bits_stored, signed)
    if signed:
        if int(values.min()) < lo or int(values.max()) > hi:
            shift = bits_allocated - bits_stored
            np.left_shift(values, shift, out=values)
            np.right_shift(values, shift, out=values)
    elif int(values.max()) > hi:
        np.bitwise_and(values, values.dtype.type(hi), out=values)
    return values


def _decode_with_pydicom(header: ImageHeader, frame: int) -> tuple[np.ndarray, str]:
    from pydicom.pixels import get_decoder

    try:
        decoder = get_decoder(header.transfer_syntax)
    except NotImplementedError as exc:
        raise PixelDataError(
            _("Images in this compression (transfer syntax {uid}) cannot be displayed.").format(
                uid=header.transfer_syntax
            ),
            str(exc)[:200],
        ) from exc
    if not decoder.is_available:
        raise PixelDataError(
            _("No decoder is installed for this compression (transfer syntax {uid}).").format(
                uid=header.transfer_syntax
            ),
            "decoder unavailable",
        )
    try:
        arr, meta = decoder.as_array(header.dataset, index=frame, raw=True)
    except RuntimeError:
        repaired = repaired_frame(header.dataset, frame, header.transfer_syntax)
        if repaired is None:
            raise
        logger.info("decoded frame %d after fixing its JPEG scan header", frame)
        return repaired, header.module.photometric
    photometric = str(meta.get("photometric_interpretation", header.module.photometric))
    return arr, photometric


def _finish(stored: np.ndarray, photometric: str, header: ImageHeader, info: FrameInfo) -> Frame:
    m = header.module
    if m.photometric == "PALETTE COLOR":
        rgb = palette_of(header.dataset, little_endian=header.little_endian).apply(stored)
        return Frame(info, rgb)
    if m.samples_per_pixel == 3:
        if stored.ndim != 3 or stored.shape[-1] != 3:
            raise PixelDataError(
                _("The colour image data has an unexpected layout."), str(stored.shape)
            )
        if photometric in ("YBR_FULL", "YBR_FULL_422"):
            stored = ybr_full_to_rgb(stored, min(m.bits_allocated, 16))
        return Frame(info, np.ascontiguousarray(to_rgb8(stored, m.bits_stored)))
    if stored.ndim != 2:
        raise PixelDataError(_("The image data has an unexpected layout."), str(stored.shape))
    pixels, applied = _to_modality_values(stored, info)
    return Frame(info, pixels, applied)


def _to_modality_values(stored: np.ndarray, info: FrameInfo) -> tuple[np.ndarray, bool]:
    """Apply an integer rescale in place when exact in int16; else leave it for later."""
    ml = info.modality_lut
    if ml.is_identity:
        return stored, True
    if not ml.is_integer_rescale or stored.dtype.kind not in "iu" or stored.dtype.itemsize > 2:
        return stored, False
    lo, hi = stored_range(info.bits_stored, info.signed)
    if not (exact_int16_rescale(ml, lo, hi) and hi <= 32767):
        lo, hi = int(stored.min(initial=0)), int(stored.max(initial=0))
        if not (exact_int16_rescale(ml, lo, hi) and hi <= 32767 and lo >= -32768):
            return stored, False
    if stored.dtype == np.int16:
        values = stored
    elif stored.dtype == np.uint16:
        values = stored.view(np.int16)  # every stored value is <= 32767: same bits
    else:
        values = stored.astype(np.int16)
    return rescale_in_place(values, ml), True
