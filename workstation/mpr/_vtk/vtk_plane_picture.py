"""One MPR plane on screen: a grey picture, crosshair overlay, edge labels and a scale
bar in a renderer.

The plane's 8-bit grey picture (from :class:`~workstation.mpr.viewing.MprViewState`)
is a texture on one quad seen by a parallel camera that fits it to the viewport; a
preview picture sampled every second pixel is uploaded as it is and magnified by the
texture (nearest), so it is neither repeated nor re-windowed at full size. The other
planes' crosshair lines, slab faces and handles are one line actor above it in the
planes' colours, so moving the crosshair re-uploads no picture. World x is the plane's
column index, world y is ``rows - 1 - row`` (VTK's images start at the bottom).

Measured on the software GL of these machines (llvmpipe under Xvfb), CPU time of a
500 x 514 plane's frame: ~3.5 ms for the window's clear, blit and swap, the picture
~5 ms as a ``vtkImageActor`` and ~3 ms as this textured quad (its cost is per screen
pixel, ~12 ns), labels ~0.7 ms, lines ~0.4 ms. Multisampling tripled the cost of a flat
picture, so the window draws without it.
"""

from __future__ import annotations

import numpy as np
import vtkmodules.vtkRenderingFreeType
import vtkmodules.vtkRenderingOpenGL2  # noqa: F401
from vtkmodules.util.numpy_support import numpy_to_vtk, numpy_to_vtkIdTypeArray
from vtkmodules.vtkCommonCore import vtkFloatArray, vtkPoints
from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkImageData, vtkPolyData
from vtkmodules.vtkRenderingCore import (
    vtkActor,
    vtkPolyDataMapper,
    vtkRenderer,
    vtkRenderWindow,
    vtkTextActor,
    vtkTexture,
)

from workstation.imaging.orientation import OrientationLabels
from workstation.viewer._vtk.vtk_fonts import use_unicode_font
from workstation.viewer._vtk.vtk_layers import set_text

#: Slicer's colours: axial red, coronal green, sagittal yellow.
PLANE_COLOURS = ((230, 70, 70), (90, 200, 90), (230, 210, 60))

Colour = tuple[int, int, int]
#: A polyline in plane pixels (column, row) and its colour.
Stroke = tuple[np.ndarray, Colour]


class VtkPlanePicture:
    """The actors of one plane view."""

    def __init__(self, window: vtkRenderWindow) -> None:
        window.SetMultiSamples(0)
        renderer = vtkRenderer()
        renderer.SetBackground(0.0, 0.0, 0.0)
        window.AddRenderer(renderer)
        self.renderer = renderer
        self._texture = vtkTexture()
        self._texture.InterpolateOff()
        self._texture.EdgeClampOn()
        self._texture.SetColorModeToDirectScalars()
        self._quad = _textured_quad()
        quad_mapper = vtkPolyDataMapper()
        quad_mapper.SetInputData(self._quad)
        quad_mapper.ScalarVisibilityOff()
        self.actor = vtkActor()
        self.actor.SetMapper(quad_mapper)
        self.actor.SetTexture(self._texture)
        self.actor.GetProperty().LightingOff()
        self.actor.VisibilityOff()  # until the first picture
        renderer.AddActor(self.actor)
        self._overlay = vtkPolyData()
        overlay_mapper = vtkPolyDataMapper()
        overlay_mapper.SetInputData(self._overlay)
        overlay_mapper.SetColorModeToDirectScalars()
        overlay_mapper.SetScalarModeToUseCellData()
        self.overlay = vtkActor()
        self.overlay.SetMapper(overlay_mapper)
        self.overlay.GetProperty().LightingOff()
        self.overlay.GetProperty().SetLineWidth(1.5)
        renderer.AddActor(self.overlay)
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
        self._label_texts: tuple[OrientationLabels, str, str] | None = None
        self._placed: tuple[int, int, int, int] | None = None
        self._strokes_key: object = None

    def set_picture(
        self, picture: np.ndarray, step: int = 1, size: tuple[int, int] | None = None
    ) -> None:
        """Show `picture`: (rows, columns) grey or (rows, columns, 3) RGB, uint8,
        sampled every `step` pixels of a plane of `size` (columns, rows; default the
        picture's own), each sample shown as step x step pixels."""
        h, w = picture.shape[:2]
        channels = 1 if picture.ndim == 2 else picture.shape[2]
        plane_w, plane_h = size if size is not None else (w * step, h * step)
        upright = picture[::-1].reshape(h, w, channels)
        if (
            self._pixels is not None
            and self._image is not None
            and self._pixels.shape
            == (
                h * w,
                channels,
            )
        ):
            # same size: the pixels go into the array VTK already holds and the image
            # is marked modified (no new vtkImageData and texture a frame)
            np.copyto(self._pixels.reshape(h, w, channels), upright)
            self._image.Modified()
        else:
            self._pixels = np.ascontiguousarray(upright).reshape(h * w, channels)
            image = vtkImageData()
            image.SetDimensions(w, h, 1)
            image.GetPointData().SetScalars(numpy_to_vtk(self._pixels, deep=0))
            self._image = image
            self._texture.SetInputData(image)
        self._place_quad(plane_w, plane_h, w * step, h * step)
        self.actor.VisibilityOn()
        if self._shape != (plane_h, plane_w):
            self._shape = (plane_h, plane_w)
            self.fit()

    def _place_quad(self, w: int, h: int, covered_w: int, covered_h: int) -> None:
        """The quad over the plane's w x h pixels (pixel centres at whole world
        coordinates), the texture covering covered_w x covered_h pixels from the top
        left (a preview's last samples may reach past the plane's last row/column)."""
        placed = (w, h, covered_w, covered_h)
        if placed == self._placed:
            return
        self._placed = placed
        x0, x1, y0, y1 = -0.5, w - 0.5, -0.5, h - 0.5
        points = self._quad.GetPoints()
        for n, (x, y) in enumerate(((x0, y0), (x1, y0), (x1, y1), (x0, y1))):
            points.SetPoint(n, x, y, 0.0)
        u1 = w / covered_w
        t0 = (covered_h - h) / covered_h  # the texture's bottom rows lie below the plane
        coords = self._quad.GetPointData().GetTCoords()
        for n, (u, t) in enumerate(((0.0, t0), (u1, t0), (u1, 1.0), (0.0, 1.0))):
            coords.SetTuple2(n, u, t)
        points.Modified()
        coords.Modified()
        self._quad.Modified()

    def set_overlay(self, strokes: list[Stroke]) -> bool:
        """Draw `strokes` (polylines in plane pixels, each in its colour) over the
        picture, replacing the last ones; False when they are the ones drawn."""
        rows = self._shape[0] if self._shape is not None else 1
        polylines = [np.asarray(p, dtype=float).reshape(-1, 2) for p, _colour in strokes]
        colours = [tuple(colour) for _p, colour in strokes]
        key = (rows, tuple(p.tobytes() for p in polylines), tuple(colours))
        if key == self._strokes_key:
            return False
        self._strokes_key = key
        xy = np.concatenate(polylines) if polylines else np.zeros((0, 2))
        xyz = np.column_stack([xy[:, 0], rows - 1 - xy[:, 1], np.full(len(xy), 0.5)])
        points = vtkPoints()
        points.SetData(numpy_to_vtk(xyz, deep=1))
        offsets = np.zeros(len(polylines) + 1, np.int64)
        np.cumsum([len(p) for p in polylines], out=offsets[1:])
        lines = vtkCellArray()
        lines.SetData(
            numpy_to_vtkIdTypeArray(offsets, deep=1),
            numpy_to_vtkIdTypeArray(np.arange(len(xy), dtype=np.int64), deep=1),
        )
        scalars = numpy_to_vtk(np.asarray(colours, np.uint8).reshape(-1, 3), deep=1)
        overlay = vtkPolyData()
        overlay.SetPoints(points)
        overlay.SetLines(lines)
        overlay.GetCellData().SetScalars(scalars)
        self._overlay.ShallowCopy(overlay)
        self._overlay.Modified()
        return True

    def set_labels(self, labels: OrientationLabels, info: str, scale: str) -> bool:
        """The edge letters, the plane's info and the scale (text re-laid only when it
        changed: a text actor set again draws its texture again); False when unchanged."""
        if (labels, info, scale) == self._label_texts:
            return False
        self._label_texts = (labels, info, scale)
        for edge in ("left", "right", "top", "bottom"):
            self.labels[edge].SetInput(getattr(labels, edge))
        set_text(self.labels["info"], info)  # translated: a font with its script
        set_text(self.labels["scale"], scale)
        return True

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

    @property
    def shown(self) -> bool:
        """Whether a picture has been set (before that no pixel maps to the screen)."""
        return self._shape is not None

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


def _textured_quad() -> vtkPolyData:
    """One quad with texture coordinates (placed by ``VtkPlanePicture._place_quad``)."""
    points = vtkPoints()
    points.SetNumberOfPoints(4)
    for n in range(4):
        points.SetPoint(n, 0.0, 0.0, 0.0)
    cells = vtkCellArray()
    cells.InsertNextCell(4)
    for n in range(4):
        cells.InsertCellPoint(n)
    coords = vtkFloatArray()
    coords.SetNumberOfComponents(2)
    coords.SetNumberOfTuples(4)
    quad = vtkPolyData()
    quad.SetPoints(points)
    quad.SetPolys(cells)
    quad.GetPointData().SetTCoords(coords)
    return quad
