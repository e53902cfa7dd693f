"""A decoded frame (pixels + what they mean) and the reference that names it.

Greyscale frames hold modality values (e.g. HU) whenever the Modality LUT is an integer
rescale that fits the stored type, which covers CT and most MR: then
``modality_applied`` is True and ``pixels`` can go straight to a renderer, a volume or
ROI statistics. Otherwise ``pixels`` hold stored values and :meth:`Frame.modality_values`
applies the LUT on demand (float32 for a fractional slope). Colour frames are always
``(rows, columns, 3)`` uint8 RGB.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

import numpy as np

from workstation.imaging.header import FrameInfo
from workstation.imaging.modality import apply_modality


@dataclass(frozen=True, order=True)
class FrameRef:
    """One frame of one file: the unit the loader and the cache work with."""

    path: str
    frame: int = 0

    @classmethod
    def of(cls, path: str | os.PathLike[str], frame: int = 0) -> FrameRef:
        return cls(os.fspath(path), frame)


@dataclass(frozen=True, eq=False)
class Frame:
    """Decoded pixels of one frame and their :class:`FrameInfo`."""

    info: FrameInfo
    pixels: np.ndarray
    modality_applied: bool = True

    @property
    def is_color(self) -> bool:
        return self.pixels.ndim == 3

    @property
    def nbytes(self) -> int:
        return int(self.pixels.nbytes)

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.pixels.shape[0]), int(self.pixels.shape[1])

    def modality_values(self) -> np.ndarray:
        """Modality values (HU for CT); the pixels themselves when already applied."""
        if self.is_color or self.modality_applied:
            return self.pixels
        return apply_modality(self.pixels, self.info.modality_lut)

    def with_pixels(self, pixels: np.ndarray) -> Frame:
        """The same frame over another array with equal values (e.g. a volume slice)."""
        return replace(self, pixels=pixels)
