"""The Image Pixel module of a data set, checked before anything is allocated.

:func:`pixel_module_of` reads Rows, Columns, Samples per Pixel, Bits Allocated/Stored,
High Bit, Pixel Representation, Photometric Interpretation, Planar Configuration and
Number of Frames, and raises :class:`~workstation.imaging.errors.PixelDataError` with a
sentence a person can read when they are missing, inconsistent or too large.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workstation.i18n import _
from workstation.imaging import limits
from workstation.imaging.errors import PixelDataError

MONOCHROME = ("MONOCHROME1", "MONOCHROME2")
#: Photometric interpretations we can show, and their samples per pixel.
SUPPORTED_PHOTOMETRIC = {
    "MONOCHROME1": 1,
    "MONOCHROME2": 1,
    "PALETTE COLOR": 1,
    "RGB": 3,
    "YBR_FULL": 3,
    "YBR_FULL_422": 3,
    "YBR_ICT": 3,
    "YBR_RCT": 3,
}
_PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")


@dataclass(frozen=True)
class PixelModule:
    """The checked Image Pixel module of one file."""

    rows: int
    columns: int
    samples_per_pixel: int
    bits_allocated: int
    bits_stored: int
    pixel_representation: int
    photometric: str
    planar_configuration: int
    number_of_frames: int

    @property
    def is_monochrome(self) -> bool:
        return self.photometric in MONOCHROME

    @property
    def is_signed(self) -> bool:
        return self.pixel_representation == 1

    @property
    def frame_pixels(self) -> int:
        return self.rows * self.columns

    @property
    def frame_bytes(self) -> int:
        """Bytes of one natively encoded frame (bit-packed for Bits Allocated 1)."""
        bits = self.frame_pixels * self.samples_per_pixel * self.bits_allocated
        return (bits + 7) // 8

    @property
    def decoded_frame_bytes(self) -> int:
        """Bytes one decoded frame takes in memory (at least one byte a sample)."""
        itemsize = max(1, (self.bits_allocated + 7) // 8)
        if itemsize == 3:
            itemsize = 4
        return self.frame_pixels * self.samples_per_pixel * itemsize


def _int_value(ds: Any, keyword: str, label: str, *, default: int | None = None) -> int:
    try:
        value = ds.get(keyword)
    except (ValueError, TypeError, KeyError) as exc:
        raise PixelDataError(
            _("The {name} value of this image cannot be read.").format(name=label), repr(exc)
        ) from exc
    if value is None or value == "":
        if default is not None:
            return default
        raise PixelDataError(
            _("This image has no {name} value, so its pixels cannot be laid out.").format(
                name=label
            ),
            f"{keyword} missing",
        )
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise PixelDataError(
            _("The {name} value of this image is not a number ({value}).").format(
                name=label, value=str(value)[:20]
            ),
            f"{keyword}={value!r}",
        ) from exc


def has_pixel_data(ds: Any) -> bool:
    return any(k in ds for k in _PIXEL_KEYWORDS)


def pixel_module_of(ds: Any) -> PixelModule:
    """Read and check the Image Pixel module of `ds` (a pydicom Dataset).

    Raises
    ------
    PixelDataError
        When a required value is missing, the values contradict each other, or the
        image would exceed :mod:`workstation.imaging.limits`.
    """
    if not has_pixel_data(ds):
        raise PixelDataError(_("This file holds no image (it has no Pixel Data)."), "no 7FE0,0010")
    if "PixelData" not in ds:
        raise PixelDataError(
            _("Floating-point pixel data (parametric maps) cannot be displayed yet."),
            "FloatPixelData",
        )
    rows = _int_value(ds, "Rows", _("Rows"))
    columns = _int_value(ds, "Columns", _("Columns"))
    _check_edges(rows, columns)
    bits_allocated = _int_value(ds, "BitsAllocated", _("Bits Allocated"))
    bits_stored = _int_value(ds, "BitsStored", _("Bits Stored"), default=bits_allocated)
    pixel_representation = _int_value(
        ds, "PixelRepresentation", _("Pixel Representation"), default=0
    )
    _check_bits(bits_allocated, bits_stored, pixel_representation)
    photometric = _photometric(ds)
    samples = _int_value(
        ds, "SamplesPerPixel", _("Samples per Pixel"), default=SUPPORTED_PHOTOMETRIC[photometric]
    )
    if samples != SUPPORTED_PHOTOMETRIC[photometric]:
        raise PixelDataError(
            _(
                "The image says {photometric} but has {samples} samples per pixel; "
                "the header is inconsistent."
            ).format(photometric=photometric, samples=samples),
            f"SamplesPerPixel={samples}",
        )
    planar = _int_value(ds, "PlanarConfiguration", _("Planar Configuration"), default=0)
    frames = _int_value(ds, "NumberOfFrames", _("Number of Frames"), default=1)
    if not 1 <= frames <= limits.MAX_FRAMES:
        raise PixelDataError(
            _("The image declares {frames} frames, which is not a usable number.").format(
                frames=frames
            ),
            f"NumberOfFrames={frames}",
        )
    module = PixelModule(
        rows, columns, samples, bits_allocated, bits_stored, pixel_representation,
        photometric, planar if samples > 1 else 0, frames,
    )  # fmt: skip
    if module.decoded_frame_bytes > limits.MAX_FRAME_BYTES:
        raise PixelDataError(
            _("One frame of this image would need {mb} MB of memory, more than allowed.").format(
                mb=module.decoded_frame_bytes // (1024 * 1024)
            ),
            f"{rows}x{columns}x{samples}x{bits_allocated}",
        )
    return module


def _check_edges(rows: int, columns: int) -> None:
    for value, label in ((rows, _("Rows")), (columns, _("Columns"))):
        if not 1 <= value <= limits.MAX_EDGE:
            raise PixelDataError(
                _("The {name} value of this image ({value}) is not a usable size.").format(
                    name=label, value=value
                ),
                f"{rows}x{columns}",
            )


def _check_bits(allocated: int, stored: int, representation: int) -> None:
    if allocated not in (1, 8, 16, 32):
        raise PixelDataError(
            _("Images with {bits} bits allocated per sample cannot be displayed.").format(
                bits=allocated
            ),
            f"BitsAllocated={allocated}",
        )
    if not 1 <= stored <= allocated:
        raise PixelDataError(
            _(
                "The image stores {stored} bits in {allocated} allocated bits; "
                "the header is inconsistent."
            ).format(stored=stored, allocated=allocated),
            f"BitsStored={stored} BitsAllocated={allocated}",
        )
    if representation not in (0, 1):
        raise PixelDataError(
            _("The Pixel Representation of this image ({value}) is invalid.").format(
                value=representation
            ),
            f"PixelRepresentation={representation}",
        )


def _photometric(ds: Any) -> str:
    raw = ds.get("PhotometricInterpretation")
    if not raw:
        # ACR-NEMA style files: one sample means greyscale.
        samples = ds.get("SamplesPerPixel", 1)
        if samples in (1, None):
            return "MONOCHROME2"
        raise PixelDataError(
            _("This image has no Photometric Interpretation."), "PhotometricInterpretation missing"
        )
    value = str(raw).strip().upper()
    if value not in SUPPORTED_PHOTOMETRIC:
        raise PixelDataError(
            _("The colour model {photometric} is not supported.").format(photometric=value[:32]),
            f"PhotometricInterpretation={value[:32]}",
        )
    return value
