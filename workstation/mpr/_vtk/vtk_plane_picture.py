"""One MPR plane on screen: an RGB picture, edge labels and a scale bar in a renderer.

The plane's 8-bit grey picture (from :class:`~workstation.mpr.viewing.MprViewState`)
gets the other planes' crosshair lines drawn in their colours, then goes to a
``vtkImageActor`` seen by a parallel camera that fits it to the viewport. World x is
the plane's column index, world y is ``rows - 1 - row`` (VTK's images start at the
bottom).
"""

from __future__ import annotations

import numpy as np
import vtkmodules.vtkRenderingFreeType
import vtkmodules.vtkRenderingOpenGL2  # noqa: F401
from vtkmodules.util.numpy_support import numpy_to_vtk
from vtkmodules.vtkCommonDataModel import vtkImageData
from vtkmodules.vtkRenderingCore import vtkImageActor, vtkRenderer, vtkRenderWindow, vtkTextActor

from workstation.imaging.orientation import OrientationLabels
from workstation.viewer._vtk.vtk_fonts import use_unicode_font
from workstation.viewer._vtk.vtk_layers import set_text

#: Slicer's colours: axial red, coronal green, sagittal yellow.
PLANE_COLOURS = ((230, 70, 70), (90, 200, 90), (230, 210, 60))


def draw_line(rgb: np.ndarray, a: np.ndarray, b: np.ndarray, colour: tuple[int, int, int]) -> None:
    """A one-pixel line from a to b (column, row), clipped to the picture."""
    h, w = rgb.shape[:2]
    n = int(np.ceil(np.abs(b - a).max())) + 1
    n = min(n, 8 * (w + h))
    t = np.linspace(0.0, 1.0, n)
    cols = np.rint(a[0] + t * (b[0] - a[0])).astype(int)
    rows = np.rint(a[1] + t * (b[1] - a[1])).astype(int)
    keep = (cols >= 0) & (cols < w) & (rows >= 0) & (rows < h)
    rgb[rows[keep], cols[keep]] = colour


class VtkPlanePicture:
    """The actors of one plane view."""

    def __init__(self, window: vtkRenderWindow) -> None:
        renderer = vtkRenderer()
        renderer.SetBackground(0.0, 0.0, 0.0)
        window.AddRenderer(renderer)
        self.renderer = renderer
        self.actor = vtkImageActor()
        self.actor.GetProperty().SetInterpolationTypeToNearest()
        renderer.AddActor(self.actor)
        renderer.GetActiveCamera().ParallelProjectionOn()
        self.labels = {}
        for edge, (x, y, hj, vj) in {
            "left": (0.01, 0.5, 0, 1), "right": (0.99, 0.5, 2, 1),
            "top": (0.5, 0.99, 1, 2), "bottom": (0.5, 0.01, 1, 0),
            "info": (0.01, 0.99, 0, 2), "scale": (0.99, 0.01, 2, 0),
        }.items():  # fmt: skip
            text = vtkTextActor()
            text.GetPositionCoordinate().SetCoordinateSystemToNormalizedViewport()
            text.SetPosition(x, y)
            prop = text.GetTextProperty()
            prop.SetFontSize(15)
            use_unicode_font(prop)
            prop.SetJustification(hj)
            prop.SetVerticalJustification(vj)
            prop.SetColor(1.0, 0.85, 0.3)
            renderer.AddViewProp(text)
            self.labels[edge] = text
        self._shape: tuple[int, int] | None = None
        self._image: vtkImageData | None = None
        self._pixels: np.ndarray | None = None

    def set_picture(self, rgb: np.ndarray) -> None:
        h, w = rgb.shape[:2]
        self._pixels = np.ascontiguousarray(rgb[::-1]).reshape(-1, 3)
        image = vtkImageData()
        image.SetDimensions(w, h, 1)
        image.GetPointData().SetScalars(numpy_to_vtk(self._pixels, deep=0))
        self._image = image
        self.actor.SetInputData(image)
        if self._shape != (h, w):
            self._shape = (h, w)
            self.fit()

    def set_labels(self, labels: OrientationLabels, info: str, scale: str) -> None:
        for edge in ("left", "right", "top", "bottom"):
            self.labels[edge].SetInput(getattr(labels, edge))
        set_text(self.labels["info"], info)  # translated: a font with its script
        set_text(self.labels["scale"], scale)

    def fit(self) -> None:
        """Show the whole picture, centred, aspect kept."""
        if self._shape is None:
            return
        h, w = self._shape
        camera = self.renderer.GetActiveCamera()
        cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
        camera.SetFocalPoint(cx, cy, 0.0)
        camera.SetPosition(cx, cy, 1000.0)
        camera.SetViewUp(0.0, 1.0, 0.0)
        vw, vh = self.renderer.GetSize()
        aspect = vw / vh if vh else 1.0
        camera.SetParallelScale(max(h / 2.0, w / 2.0 / aspect) * 1.02)
        self.renderer.ResetCameraClippingRange()

    def display_to_pixel(self, x: float, y_from_bottom: float) -> np.ndarray:
        """Plane pixel (column, row) under a display point (VTK display coordinates)."""
        assert self._shape is not None
        self.renderer.SetDisplayPoint(x, y_from_bottom, 0.0)
        self.renderer.DisplayToWorld()
        wx, wy, _wz, ww = self.renderer.GetWorldPoint()
        wx, wy = (wx / ww, wy / ww) if ww else (wx, wy)
        return np.array([wx, self._shape[0] - 1 - wy])

    def pixel_to_display(self, pixel: np.ndarray) -> np.ndarray:
        """VTK display point (x, y from the bottom) of plane pixel (column, row)."""
        assert self._shape is not None
        self.renderer.SetWorldPoint(float(pixel[0]), self._shape[0] - 1 - float(pixel[1]), 0.0, 1.0)
        self.renderer.WorldToDisplay()
        x, y, _z = self.renderer.GetDisplayPoint()
        return np.array([x, y])

    def pixel_size_on_screen(self) -> float:
        """Display pixels per plane pixel."""
        if self._shape is None:
            return 1.0
        vh = self.renderer.GetSize()[1]
        return vh / (2.0 * self.renderer.GetActiveCamera().GetParallelScale())

    @property
    def shape(self) -> tuple[int, int] | None:
        """(rows, columns) of the picture shown, None before the first."""
        return self._shape
