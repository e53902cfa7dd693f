"""What goes wrong with pixels, as values the viewer can show.

:class:`CannotDisplay` is the public result for a frame that cannot be shown: the
viewer puts its ``reason`` on the tile.  :class:`PixelDataError` is raised only inside
this package and converted to a :class:`CannotDisplay` at the public boundary
(:func:`workstation.imaging.decode.decode_frame`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CannotDisplay:
    """A frame that cannot be shown, and why.

    Attributes
    ----------
    reason : str
        A translated sentence a person can read and act on ("The image data is
        truncated: ...").
    detail : str
        Technical detail for the log or a tooltip (not translated; no patient data).
    """

    reason: str
    detail: str = ""

    def __str__(self) -> str:
        return self.reason


class PixelDataError(Exception):
    """The pixel module or pixel data of a file cannot be displayed (internal)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail

    def as_result(self) -> CannotDisplay:
        return CannotDisplay(self.reason, self.detail)
