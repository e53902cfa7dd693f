"""Image-to-screen mapping of a viewport: zoom, pan, rotate 90°, flip.

Screen coordinates are pixels of the viewport with y pointing down; image coordinates are
(column, row).  One 3x3 matrix maps image to screen; the VTK adapter sets its actor from
this matrix and the mouse tools invert it, so what is drawn and what is measured agree.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True)
class ViewTransform:
    #: Screen pixels per image pixel.  ``None`` until the first fit.
    zoom: float = 1.0
    #: Where the image centre sits, relative to the viewport centre, in screen pixels.
    pan: tuple[float, float] = (0.0, 0.0)
    #: Quarter turns clockwise (0..3).
    rotation: int = 0
    flip_h: bool = False
    flip_v: bool = False

    def rotated(self, quarter_turns: int = 1) -> ViewTransform:
        return replace(self, rotation=(self.rotation + quarter_turns) % 4)

    def flipped(self, horizontal: bool) -> ViewTransform:
        if horizontal:
            return replace(self, flip_h=not self.flip_h)
        return replace(self, flip_v=not self.flip_v)

    def orientation_matrix(self) -> np.ndarray:
        """2x2 matrix for rotation then flip (applied to image offsets from the centre)."""
        c, s = [(1, 0), (0, 1), (-1, 0), (0, -1)][self.rotation]
        # Clockwise on a y-down screen: (x, y) -> (x c - y s, x s + y c).
        rot = np.array([[c, -s], [s, c]], dtype=float)
        flip = np.diag([-1.0 if self.flip_h else 1.0, -1.0 if self.flip_v else 1.0])
        return flip @ rot

    def matrix(self, image_size: tuple[int, int], view_size: tuple[int, int]) -> np.ndarray:
        """3x3 homogeneous image (col, row) -> screen (x, y) matrix.

        ``image_size`` is (columns, rows), ``view_size`` (width, height) in pixels.
        """
        cols, rows = image_size
        width, height = view_size
        centre = np.array([(cols - 1) / 2, (rows - 1) / 2])
        linear = self.zoom * self.orientation_matrix()
        screen_centre = np.array([width / 2 + self.pan[0], height / 2 + self.pan[1]])
        m = np.eye(3)
        m[:2, :2] = linear
        m[:2, 2] = screen_centre - linear @ centre
        return m

    def to_screen(
        self, point: tuple[float, float], image_size: tuple[int, int], view_size: tuple[int, int]
    ) -> tuple[float, float]:
        x, y, _w = self.matrix(image_size, view_size) @ np.array([point[0], point[1], 1.0])
        return float(x), float(y)

    def to_image(
        self, point: tuple[float, float], image_size: tuple[int, int], view_size: tuple[int, int]
    ) -> tuple[float, float]:
        inv = np.linalg.inv(self.matrix(image_size, view_size))
        c, r, _w = inv @ np.array([point[0], point[1], 1.0])
        return float(c), float(r)


def fit_zoom(image_size: tuple[int, int], view_size: tuple[int, int], rotation: int = 0) -> float:
    """Zoom at which the whole image fits the viewport (with a small margin)."""
    cols, rows = image_size
    if rotation % 2:
        cols, rows = rows, cols
    width, height = view_size
    if cols <= 0 or rows <= 0 or width <= 0 or height <= 0:
        return 1.0
    return 0.98 * min(width / cols, height / rows)


def zoom_about(
    t: ViewTransform,
    factor: float,
    anchor: tuple[float, float],
    view_size: tuple[int, int],
) -> ViewTransform:
    """Zoom by ``factor`` keeping the screen point ``anchor`` over the same image point."""
    factor = float(np.clip(t.zoom * factor, 0.02, 64.0)) / t.zoom
    cx, cy = view_size[0] / 2 + t.pan[0], view_size[1] / 2 + t.pan[1]
    nx = anchor[0] - (anchor[0] - cx) * factor
    ny = anchor[1] - (anchor[1] - cy) * factor
    return replace(t, zoom=t.zoom * factor, pan=(nx - view_size[0] / 2, ny - view_size[1] / 2))
