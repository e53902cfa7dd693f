"""Patient-orientation labels for the edges of an image (L/R, A/P, H/F).

The patient coordinate system is LPS: +x towards the patient's Left, +y Posterior,
+z Head. A direction gets up to three letters, the axis with the largest component
first, as radiology viewers show obliques (e.g. "LA", "FPL"); components smaller than
`threshold` are left out. The right edge of the image lies along the row cosines
(increasing column index), the bottom edge along the column cosines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: Components below this are ignored (an axial slice tilted by 0.1 degree is still "L").
DEFAULT_THRESHOLD = 0.05

_LETTERS = (("R", "L"), ("A", "P"), ("F", "H"))


@dataclass(frozen=True)
class OrientationLabels:
    """The letters to show at the middle of each edge of the image."""

    left: str
    right: str
    top: str
    bottom: str


def direction_label(vector: Sequence[float], threshold: float = DEFAULT_THRESHOLD) -> str:
    """Letters for a direction in LPS, strongest component first ("" for a zero vector)."""
    comps = sorted(range(3), key=lambda i: -abs(float(vector[i])))
    letters = []
    for axis in comps:
        value = float(vector[axis])
        if abs(value) <= threshold:
            break
        letters.append(_LETTERS[axis][1 if value > 0 else 0])
    return "".join(letters)


def orientation_labels(
    image_orientation: Sequence[float], threshold: float = DEFAULT_THRESHOLD
) -> OrientationLabels:
    """Edge labels from Image Orientation (Patient) (row cosines, then column cosines)."""
    row = [float(v) for v in image_orientation[:3]]
    col = [float(v) for v in image_orientation[3:6]]
    return OrientationLabels(
        left=direction_label([-v for v in row], threshold),
        right=direction_label(row, threshold),
        top=direction_label([-v for v in col], threshold),
        bottom=direction_label(col, threshold),
    )
